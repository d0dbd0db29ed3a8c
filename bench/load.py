"""Load: the real bot process, a fake Bot API and the sandbox panel over HTTP on 127.0.0.1.
1,000 simulated users each browse and place an order the way a quick person does (one step,
wait for the answer, read for 3 to 7 s, next step), arriving over 90 s, against a panel
answering in 300 ms: over 100 updates a second at the peak, with the simulation itself on
the same machine. Then the same again with one user whose panel calls take 10 s: the others
must not notice."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.adapters.sandbox.panel import SandboxPanel, SandboxServer
from bot.core.catalog import CatalogIndex
from bot.telegram import callback as cb
from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN
from tests.process.bot_process import start_bot

USERS = 1000
PANEL_LATENCY = 0.3
SLOW_LATENCY = 10.0
FIRST_USER = 10_000
RAMP_SECONDS = 90.0
THINK_SECONDS = (3.0, 7.0)
STEP_TIMEOUT = 30.0
SERVICE = 2
PANEL_STEPS = {"summary", "confirm"}


class LoadPanel(SandboxPanel):
    """300 ms for everyone; 10 s for the orders of the slow user."""

    def latency_of(self, form: dict[str, str]) -> float:
        return SLOW_LATENCY if "slow" in form.get("link", "") else self.latency


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    missing: int = 0
    errors: int = 0
    pushed_at: list[float] = field(default_factory=list)

    def peak_rate(self) -> int:
        """The most updates sent to the bot within one second."""
        seconds: dict[int, int] = {}
        for at in self.pushed_at:
            seconds[int(at)] = seconds.get(int(at), 0) + 1
        return max(seconds.values(), default=0)


class Users:
    """Simulated users in this process; the fake Bot API tells them when the bot answers."""

    def __init__(self, telegram: FakeTelegram, loop: asyncio.AbstractEventLoop) -> None:
        self.telegram = telegram
        self.loop = loop
        self.inbox: dict[int, asyncio.Queue[tuple[dict[str, Any], float]]] = {}
        telegram.on_reply = self._reply

    def _reply(self, chat_id: int, message: dict[str, Any], at: float) -> None:
        queue = self.inbox.get(chat_id)
        if queue is not None:
            self.loop.call_soon_threadsafe(queue.put_nowait, (message, at))

    async def step(
        self, user: int, send: Any, results: Results, name: str, record: bool
    ) -> dict[str, Any] | None:
        queue = self.inbox.setdefault(user, asyncio.Queue())
        while not queue.empty():
            queue.get_nowait()
        pushed = time.monotonic()
        results.pushed_at.append(pushed)
        send()
        try:
            message, at = await asyncio.wait_for(queue.get(), STEP_TIMEOUT)
        except TimeoutError:
            results.missing += 1
            return None
        if "Something went wrong" in message.get("text", ""):
            results.errors += 1
        if record:
            results.latencies.setdefault(name, []).append(at - pushed)
        return message


def button_data(message: dict[str, Any] | None, kind: cb.Button, *last: object) -> str | None:
    """The callback data of the message's first button of `kind` ending with `last`."""
    if not message or not message.get("reply_markup"):
        return None
    for row in json.loads(message["reply_markup"])["inline_keyboard"]:
        for button in row:
            args = kind.parse(button.get("callback_data"))
            if args is not None and args[len(args) - len(last) :] == last:
                return str(button["callback_data"])
    return None


async def _person(
    users: Users, user: int, category: str, results: Results, rng: random.Random, slow: bool
) -> None:
    telegram = users.telegram
    record = not slow
    link = f"https://instagram.com/p/{'slow' if slow else 'post'}{user}"
    reply: dict[str, Any] | None = None
    steps = [
        ("start", lambda: telegram.push_text(user, "/start")),
        ("new order", lambda: telegram.push_tap(user, cb.NEW_ORDER())),
        ("category", lambda: telegram.push_tap(user, cb.CATEGORY(category, 0, 0))),
        ("service", lambda: telegram.push_tap(user, cb.SERVICE(SERVICE))),
        ("order this", lambda: telegram.push_tap(user, cb.START_ORDER(SERVICE))),
        ("link", lambda: telegram.push_text(user, link)),
        ("quantity", lambda: telegram.push_text(user, "100")),
        (
            "summary",
            lambda: telegram.push_tap(user, button_data(reply, cb.DRIP_FEED, 0) or cb.RESUME()),
        ),
    ]
    await asyncio.sleep(rng.uniform(0, RAMP_SECONDS))
    for name, send in steps:
        reply = await users.step(user, send, results, name, record)
        await asyncio.sleep(rng.uniform(*THINK_SECONDS))
    confirm = button_data(reply, cb.CONFIRM)
    if confirm is None:
        results.missing += 1
        return
    await users.step(user, lambda: telegram.push_tap(user, confirm), results, "confirm", record)
    await asyncio.sleep(rng.uniform(*THINK_SECONDS))
    await users.step(
        user, lambda: telegram.push_text(user, "/orders"), results, "my orders", record
    )


async def _run(users_count: int, slow_user: bool) -> tuple[Results, LoadPanel]:
    telegram = FakeTelegram(TOKEN).start()
    panel = LoadPanel(latency=PANEL_LATENCY, balance=Decimal(10**12))
    server = SandboxServer(panel).start()
    ids = list(range(FIRST_USER, FIRST_USER + users_count))
    results = Results()
    with tempfile.TemporaryDirectory() as directory, tempfile.TemporaryFile("w+") as log:
        bot = start_bot(
            Path(directory),
            telegram,
            output=log,
            PANEL_URL=server.url,
            PANEL_KEY="sandbox",
            ALLOWED_IDS=",".join(map(str, ids)),
            POLL_INTERVAL="3600",
        )
        try:
            users = Users(telegram, asyncio.get_running_loop())
            warm = await users.step(
                ids[0], lambda: telegram.push_tap(ids[0], cb.NEW_ORDER()), Results(), "warm", False
            )
            assert warm is not None, "the bot did not start"
            index = CatalogIndex(panel.services, 0)
            category = index.place(SERVICE)[0].key
            rng = random.Random(42)
            await asyncio.gather(
                *(
                    _person(
                        users,
                        user,
                        category,
                        results,
                        random.Random(rng.random()),
                        slow=slow_user and user == ids[-1],
                    )
                    for user in ids
                )
            )
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=60)
            server.stop()
            telegram.stop()
        log.seek(0)
        results.errors += sum(" ERROR " in line or "Traceback" in line for line in log)
    return results, panel


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def _split(results: Results) -> tuple[list[float], list[float]]:
    panel = [v for k, vs in results.latencies.items() if k in PANEL_STEPS for v in vs]
    other = [v for k, vs in results.latencies.items() if k not in PANEL_STEPS for v in vs]
    return panel, other


def run(users_count: int = USERS) -> list[tuple[str, str, str, bool]]:
    baseline, panel = asyncio.run(_run(users_count, slow_user=False))
    with_slow, slow_panel = asyncio.run(_run(users_count, slow_user=True))
    rows = []
    for label, results, sandbox in (
        ("", baseline, panel),
        (" (one slow user)", with_slow, slow_panel),
    ):
        ok = (
            results.missing == 0
            and results.errors == 0
            and len(sandbox.orders) == sandbox.calls["add"] == users_count
        )
        rows.append(
            (
                f"load{label}: {users_count} users, every answer, no error, one order each",
                "0 missing",
                f"{results.missing} missing, {results.errors} errors, {len(sandbox.orders)} orders",
                ok,
            )
        )
    rows.append(
        (
            "load: updates per second at the peak",
            "reported",
            f"{baseline.peak_rate()} /s",
            True,
        )
    )
    panel_steps, other_steps = _split(baseline)
    target = PANEL_LATENCY * 1.5 * 1000
    rows.append(
        (
            "load: steps calling the panel, p50 / p99",
            f"p99 < {target:.0f} ms",
            f"{_p(panel_steps, 0.5):.0f} / {_p(panel_steps, 0.99):.0f} ms",
            _p(panel_steps, 0.99) < target,
        )
    )
    rows.append(
        (
            "load: steps not calling the panel, p50 / p99",
            "p99 < 50 ms",
            f"{_p(other_steps, 0.5):.0f} / {_p(other_steps, 0.99):.0f} ms",
            _p(other_steps, 0.99) < 50,
        )
    )
    slow_panel_steps, slow_other = _split(with_slow)
    for name, before, after in (
        ("panel", panel_steps, slow_panel_steps),
        ("other", other_steps, slow_other),
    ):
        change = _p(after, 0.99) / _p(before, 0.99) - 1
        rows.append(
            (
                f"slow user: others' p99 change, {name} steps",
                "<= +20 %",
                f"{change * 100:+.0f} %",
                change <= 0.2,
            )
        )
    return rows


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else USERS):
        print(row)
