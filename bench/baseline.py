"""Side by side: the bot and a bare python-telegram-bot bot (`bench/bare_bot.py`) as
processes, fed the same updates (the load's browse-and-order flow, one step per user at a
time, each user pausing 0.5 s between an answer and its next step), 10 s at a time. First the
CPU per update (from /proc) at 50 and 100 updates a second, the two bots taking turns twice
(this machine's speed drifts from one minute to the next); then each one at rising rates until
the p99 from update to answer passes 1 s. The fake Bot APIs, the sandbox panel (300 ms) and
the simulated users share the 2 cores with the bots, as in the load run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.load import PANEL_LATENCY, SERVICE, _p, button_data
from bot.adapters.sandbox.panel import SandboxPanel, SandboxServer
from bot.core.catalog import CatalogIndex
from bot.telegram import callback as cb
from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN
from tests.process.bot_process import ROOT, start_bot

RATES = (50, 100, 150, 200, 300, 400, 600, 800)
"""updates per second, tried in turn until the p99 passes 1 s"""
COMPARED_RATES = (50, 100)
"""where CPU per update is compared (the load run peaks around 130/s)"""
ROUNDS = 2
WINDOW = 10.0
SETTLE = 0.5
"""a user's pause between an answer and the next step (late second messages land in it)"""
DRAIN = 15.0
FIRST_USER = 20_000
POOL = 4000
RATIO_TARGET = 1.25
P99_LIMIT = 1.0


@dataclass
class User:
    id: int
    step: int = 0
    orders: int = 0
    drip_feed: str | None = None
    confirm: str | None = None
    pushed: float | None = None


@dataclass
class Window:
    rate: int
    latencies: list[float] = field(default_factory=list)
    pushed: int = 0
    cpu: float = 0.0
    all_pushed: bool = False
    drained: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def missing(self) -> int:
        return self.pushed - len(self.latencies)

    @property
    def kept_up(self) -> bool:
        return not self.missing and self.p99 <= P99_LIMIT

    @property
    def p99(self) -> float:
        return _p(self.latencies, 0.99) / 1000 if self.latencies else float("inf")


class Driver:
    """Pushes each user's next step and times the first answer to it."""

    def __init__(self, telegram: FakeTelegram, category: str) -> None:
        self.telegram = telegram
        self.category = category
        self.loop = asyncio.get_running_loop()
        self.idle: deque[tuple[float, User]] = deque()
        self.users: dict[int, User] = {}
        self.window: Window | None = None
        telegram.on_reply = self._reply

    def _reply(self, chat: int, message: dict[str, Any], at: float) -> None:
        """In the fake Bot API's thread: hand the answer to the event loop."""
        self.loop.call_soon_threadsafe(self._answered, chat, message, at)

    def _steps(self, user: User) -> list[Callable[[], None]]:
        telegram, uid = self.telegram, user.id
        link = f"https://instagram.com/p/u{uid}o{user.orders}"
        return [
            lambda: telegram.push_text(uid, "/start"),
            lambda: telegram.push_tap(uid, cb.NEW_ORDER()),
            lambda: telegram.push_tap(uid, cb.CATEGORY(self.category, 0, 0)),
            lambda: telegram.push_tap(uid, cb.SERVICE(SERVICE)),
            lambda: telegram.push_tap(uid, cb.START_ORDER(SERVICE)),
            lambda: telegram.push_text(uid, link),
            lambda: telegram.push_text(uid, "100"),
            # The summary again (drip-feed is its option now, not a question): Continue shows it.
            lambda: telegram.push_tap(uid, user.drip_feed or cb.RESUME()),  # the bare bot: any
            lambda: telegram.push_tap(uid, user.confirm or "1y:none:0"),
            lambda: telegram.push_text(uid, "/orders"),
        ]

    def _answered(self, chat: int, message: dict[str, Any], at: float) -> None:
        user = self.users.get(chat)
        if user is None or user.pushed is None:
            return
        window = self.window
        if window is not None:
            window.latencies.append(at - user.pushed)
            if window.all_pushed and not window.missing:
                window.drained.set()
        user.pushed = None
        if user.step == 6:
            user.drip_feed = button_data(message, cb.DRIP_FEED, 0)
        if user.step == 7:
            user.confirm = button_data(message, cb.CONFIRM)
        user.step = (user.step + 1) % 10
        if user.step == 0:
            user.orders += 1
        self.idle.append((time.monotonic() + SETTLE, user))

    def _next_user(self) -> User | None:
        """A user ready for their next step; None when all of them wait for the bot."""
        if self.idle and self.idle[0][0] <= time.monotonic():
            return self.idle.popleft()[1]
        uid = FIRST_USER + len(self.users)
        if uid >= FIRST_USER + POOL:
            return None
        user = self.users[uid] = User(uid)
        return user

    async def run(self, rate: int, cpu: Callable[[], float]) -> Window:
        window = self.window = Window(rate)
        started_cpu = cpu()
        start = time.monotonic()
        for i in range(int(rate * WINDOW)):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            user = self._next_user()
            window.pushed += 1  # an update no user could send counts as unanswered
            if user is not None:
                user.pushed = time.monotonic()
                self._steps(user)[user.step]()
        window.all_pushed = True
        if window.missing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(window.drained.wait(), DRAIN)
        window.cpu = cpu() - started_cpu
        self.window = None
        for user in self.users.values():  # unanswered steps are not waited for again
            if user.pushed is not None:
                user.pushed = None
                self.idle.append((time.monotonic() + SETTLE, user))
        return window


def _cpu_seconds(pid: int) -> Callable[[], float]:
    """The process's user + system time, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return read


def _bare_bot(directory: Path, telegram: FakeTelegram) -> subprocess.Popen[Any]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(PYTHONPATH=str(ROOT), BOT_TOKEN=TOKEN, TELEGRAM_API_URL=telegram.api_url)
    return subprocess.Popen(
        [sys.executable, "-m", "bench.bare_bot"],
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Subject:
    """One bot under test: its process, its own fake Bot API and its simulated users."""

    def __init__(self, bare: bool, directory: Path, panel_url: str, category: str) -> None:
        self.bare = bare
        self.telegram = FakeTelegram(TOKEN).start()
        if bare:
            self.process = _bare_bot(directory, self.telegram)
        else:
            self.process = start_bot(
                directory,
                self.telegram,
                output=os.open(os.devnull, os.O_WRONLY),
                PANEL_URL=panel_url,
                PANEL_KEY="sandbox",
                ALLOWED_IDS=",".join(map(str, range(FIRST_USER, FIRST_USER + POOL))),
                POLL_INTERVAL="3600",
            )
        self.driver = Driver(self.telegram, category)
        self.cpu = _cpu_seconds(self.process.pid)
        self.windows: list[Window] = []

    async def run(self, rate: int) -> Window:
        window = await self.driver.run(rate, self.cpu)
        self.windows.append(window)
        return window

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.telegram.stop()


async def _measure() -> tuple[list[Window], list[Window]]:
    """CPU per update at the compared rates, the two bots taking turns (the machine's speed
    drifts from one minute to the next); then each one's rates upwards until it falls
    behind."""
    panel = SandboxPanel(latency=PANEL_LATENCY, balance=Decimal(10**12))
    server = SandboxServer(panel).start()
    category = CatalogIndex(panel.services, 0).place(SERVICE)[0].key
    subjects: list[Subject] = []
    with tempfile.TemporaryDirectory() as bot_dir, tempfile.TemporaryDirectory() as bare_dir:
        try:
            for bare, directory in ((False, bot_dir), (True, bare_dir)):
                subjects.append(Subject(bare, Path(directory), server.url, category))
            for subject in subjects:
                if (await subject.driver.run(5, subject.cpu)).missing:
                    raise RuntimeError("a bot did not start")
            for rate in COMPARED_RATES:
                for _ in range(ROUNDS):
                    for subject in subjects:
                        await subject.run(rate)
            for subject in subjects:
                for rate in RATES:
                    if rate in COMPARED_RATES:
                        continue
                    if not (await subject.run(rate)).kept_up:
                        break
        finally:
            for subject in subjects:
                subject.stop()
            server.stop()
    return subjects[0].windows, subjects[1].windows


def _passed_at(windows: list[Window]) -> str:
    over = sorted(w.rate for w in windows if not w.kept_up)
    return f"{over[0]}/s" if over else f"> {max(w.rate for w in windows)}/s"


def _cpu_per_update_ms(windows: list[Window]) -> float:
    chosen = [w for w in windows if w.rate in COMPARED_RATES]
    return sum(w.cpu for w in chosen) / max(1, sum(len(w.latencies) for w in chosen)) * 1000


def compare(bot: list[Window], bare: list[Window]) -> list[tuple[str, str, str, bool]]:
    kept_up = all(w.kept_up for w in bot + bare if w.rate in COMPARED_RATES)
    ours, baseline = _cpu_per_update_ms(bot), _cpu_per_update_ms(bare)
    ratio = ours / baseline
    rates = " and ".join(f"{r}/s" for r in COMPARED_RATES)
    return [
        (
            f"side by side: CPU per update at {rates}, bot / bare PTB bot",
            f"<= {RATIO_TARGET}x",
            f"{ours:.2f} / {baseline:.2f} ms = {ratio:.2f}x",
            kept_up and ratio <= RATIO_TARGET,
        ),
        (
            "side by side: update rate where p99 passes 1 s, bot / bare PTB bot",
            "reported",
            f"{_passed_at(bot)} / {_passed_at(bare)}",
            True,
        ),
    ]


def run() -> list[tuple[str, str, str, bool]]:
    return compare(*asyncio.run(_measure()))


if __name__ == "__main__":
    bot, bare = asyncio.run(_measure())
    for label, windows in (("bot", bot), ("bare", bare)):
        for w in windows:
            cpu = w.cpu / max(1, len(w.latencies)) * 1000
            p99 = w.p99 * 1000
            print(f"{label} {w.rate}/s: p99 {p99:.0f} ms, {w.missing} missing, {cpu:.2f} ms")
