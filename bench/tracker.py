"""Tracker: one poll cycle over 100,000 tracked orders — the bot's CPU time (without the
panel's own) and the process's memory. Run in a fresh process so the RSS is its own."""

from __future__ import annotations

import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

import httpx

ORDERS = 100_000
PANEL_LATENCY = 0.3
LIMITED_CALL = 200
"""The bulk call answered 429 in the wall-time run."""
WINDOW = 5
"""Its Retry-After, in seconds."""
CHANGED = 0.1
"""The share of orders whose status changed since the last cycle."""


def _fill(path: Path, count: int) -> None:
    """The database of a bot that has placed `count` orders, all still running."""
    from bot.adapters.sqlite.db import MIGRATIONS

    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE schema_version (version INTEGER);")
    for version, script in enumerate(MIGRATIONS, start=1):
        conn.executescript(script + f"; INSERT INTO schema_version VALUES ({version});")
    now = time.time()
    conn.executemany(
        "INSERT INTO orders (intent_key, user_id, panel_order_id, service_id, service_name,"
        " service_type, category, rate, fields, quantity, price, currency, outcome, status,"
        " remains, created_at, updated_at) VALUES"
        " (?, ?, ?, 1, 'Instagram Followers [Real]', 'Default', 'Instagram', '15000',"
        ' \'{"link": "https://instagram.com/p/x", "quantity": "1000"}\', 1000,'
        " '15000', 'IDR', 'placed', 'In progress', 1000, ?, ?)",
        ((f"k{i}", 10_000 + i % 5000, 100_000 + i, now, now) for i in range(count)),
    )
    conn.executemany(
        "INSERT INTO users (user_id, first_seen, last_seen) VALUES (?, ?, ?)",
        ((10_000 + i, now, now) for i in range(5000)),
    )
    conn.commit()
    conn.close()


def _panel(
    panel_seconds: list[float],
    arrivals: list[float],
    latency: float = 0.0,
    limit_at: int | None = None,
) -> httpx.MockTransport:
    """A panel answering bulk status calls after `latency` seconds; the CPU it takes is
    recorded. The call numbered `limit_at` is answered 429 with Retry-After `WINDOW`."""

    async def handler(request: httpx.Request) -> httpx.Response:
        if b"action=status" not in request.content:  # the balance asked at start
            return httpx.Response(200, json={"balance": "1000000", "currency": "IDR"})
        arrivals.append(time.perf_counter())
        if len(arrivals) == limit_at:
            return httpx.Response(429, headers={"retry-after": str(WINDOW)}, json={})
        if latency:
            await asyncio.sleep(latency)
        started = time.process_time()
        form = dict(parse_qsl(request.content.decode()))
        answer = {}
        for order_id in form["orders"].split(","):
            changed = int(order_id) % int(1 / CHANGED) == 0
            answer[order_id] = {
                "charge": "15000",
                "start_count": "10",
                "currency": "IDR",
                "status": "Completed" if changed else "In progress",
                "remains": "0" if changed else "1000",
            }
        response = httpx.Response(
            200, content=json.dumps(answer).encode(), headers={"content-type": "application/json"}
        )
        panel_seconds.append(time.process_time() - started)
        return response

    return httpx.MockTransport(handler)


async def _cycle(path: Path, latency: float = 0.0, limit_at: int | None = None) -> dict[str, float]:
    from bot.adapters.panel_http.client import PanelClient
    from bot.app import build_application
    from bot.telegram.runtime import AcyclicAsyncClient
    from tests.harness import RecordingRequest, make_settings

    panel_seconds: list[float] = []
    arrivals: list[float] = []
    settings = make_settings(path.parent, database_path=path)
    transport = _panel(panel_seconds, arrivals, latency, limit_at)
    panel = PanelClient(
        "http://panel.test",
        "k",
        http=AcyclicAsyncClient(transport=transport),
        concurrency=settings.panel_concurrency,
    )
    app, parts = build_application(settings, panel=panel, request=RecordingRequest())
    await app.initialize()
    await app.post_init(app)  # type: ignore[misc]
    try:
        tracking = parts.tracking
        started = time.process_time()
        main_thread = time.thread_time()
        wall = time.perf_counter()
        report = await tracking.poll()
        cpu = time.process_time() - started - sum(panel_seconds)
        main_thread = time.thread_time() - main_thread - sum(panel_seconds)
        wall = time.perf_counter() - wall
        waiting = await parts.store.outbox.count()
    finally:
        await app.shutdown()
        await app.post_shutdown(app)  # type: ignore[misc]
    rss = _peak_rss_kb()
    limited = arrivals[limit_at - 1] if limit_at and len(arrivals) >= limit_at else None
    inside = [a for a in arrivals if limited is not None and limited < a < limited + WINDOW]
    return {
        "inside_window": len(inside),
        "orders": report.orders,
        "changes": report.changes,
        "waiting": waiting,
        "calls": len(panel_seconds),
        "requests": len(arrivals),
        "cpu": cpu,
        "main_thread_cpu": main_thread,
        "panel_cpu": sum(panel_seconds),
        "wall": wall,
        "rss_mb": rss / 1024,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def measure(
    count: int = ORDERS, latency: float = 0.0, limit_at: int | None = None
) -> dict[str, float]:
    """Fill a database, then run one cycle in a fresh process."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bot.db"
        _fill(path, count)
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import asyncio, json; from pathlib import Path;"
                " from bench.tracker import _cycle;"
                f" print(json.dumps(asyncio.run(_cycle(Path({str(path)!r}),"
                f" {latency!r}, {limit_at!r}))))",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def run() -> list[tuple[str, str, str, bool]]:
    figures = measure()
    assert figures["orders"] == ORDERS and figures["calls"] == ORDERS // 100
    assert figures["changes"] == figures["waiting"] == ORDERS * CHANGED
    slow = measure(latency=PANEL_LATENCY, limit_at=LIMITED_CALL)
    assert slow["orders"] == ORDERS and slow["calls"] == ORDERS // 100
    assert slow["requests"] == ORDERS // 100 + 1  # the one answered 429, then all
    return [
        (
            "tracker: one poll cycle, 100,000 orders, bot CPU (panel excluded)",
            "< 2 s",
            f"{figures['cpu']:.2f} s",
            figures["cpu"] < 2,
        ),
        (
            "tracker: memory during that cycle (peak RSS)",
            "< 200 MB",
            f"{figures['rss_mb']:.0f} MB",
            figures["rss_mb"] < 200,
        ),
        (
            "tracker: that cycle against a panel answering in 300 ms, wall time",
            "< 60 s",
            f"{slow['wall']:.1f} s",
            slow["wall"] < 60,
        ),
        (
            "tracker: requests inside a 429's Retry-After window (5 s)",
            "0",
            f"{slow['inside_window']:.0f}",
            slow["inside_window"] == 0,
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(measure(), indent=1))
