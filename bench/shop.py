"""Shop mode's cost: the bot's CPU time for Confirm (placing an order: the intent, the panel's
`add`, the outcome), with wallets on (the debit in the intent's transaction, the markup, the
panel balance guard) and off, in-process. The median of each, compared."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.menu import LeanRequest
from bot.panel.sandbox import SandboxPanel
from bot.ui import callback as cb
from tests.harness import ADMIN, USER, Harness

ORDERS = 150
TARGET_MS = 1.0


async def confirm_times(directory: Path, **settings: Any) -> list[float]:
    sandbox = SandboxPanel()
    async with Harness(directory, sandbox, request=LeanRequest(), **settings) as bot:
        if settings:
            await bot.state.shop.adjust(USER, Decimal(10**9), ADMIN, "bench")
        timings = []
        for n in range(ORDERS + 10):
            await bot.tap(USER, cb.START_ORDER(1))
            await bot.say(USER, f"https://instagram.com/p/bench{n}")
            await bot.say(USER, "100")
            draft = bot.data(USER).draft
            assert draft is not None
            await bot.tap(USER, cb.DRIP_FEED(draft.screen, 0))
            draft = bot.data(USER).draft
            assert draft is not None
            confirm = cb.CONFIRM(draft.key, draft.screen)
            started = time.process_time()
            await bot.tap(USER, confirm)
            timings.append(time.process_time() - started)
        assert bot.data(USER).draft is None and sandbox.calls["add"] == ORDERS + 10
        return timings[10:]  # the first ones warm the caches up


async def measure() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as off_dir, tempfile.TemporaryDirectory() as on_dir:
        off = await confirm_times(Path(off_dir))
        on = await confirm_times(Path(on_dir), wallets="on", markup_percent="25")
    return statistics.median(off) * 1000, statistics.median(on) * 1000


def run() -> list[tuple[str, str, str, bool]]:
    off, on = asyncio.run(measure())
    extra = on - off
    return [
        (
            "shop: placing an order, bot CPU with wallets on minus off (median)",
            f"<= {TARGET_MS:g} ms",
            f"{on:.2f} - {off:.2f} = {extra:.2f} ms",
            extra <= TARGET_MS,
        )
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
