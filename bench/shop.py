"""Shop mode's cost: the bot's CPU time for Confirm (placing an order: the intent, the panel's
`add`, the outcome), with wallets on (the debit in the intent's transaction, the markup, the
panel balance guard) and off, in-process, the two taking turns. The median of each,
compared."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.menu import LeanRequest
from bot.adapters.sandbox.panel import SandboxPanel
from bot.telegram import callback as cb
from tests.harness import ADMIN, OTHER, USER, Harness

ORDERS = 150
TARGET_MS = 1.0


CUSTOMERS = (USER, OTHER)
"""Who orders, in turn: each at the pace the bot allows one user (30 orders a minute)."""


async def ready_to_confirm(bot: Harness, n: int, user: int = USER) -> str:
    """An order of service 1 up to its summary; its Confirm button's data. A second passes
    before it: with two customers taking turns, each orders every two seconds."""
    bot.clock.advance(1.0)
    await bot.tap(user, cb.START_ORDER(1))
    await bot.say(user, f"https://instagram.com/p/bench{n}")
    await bot.say(user, "100")  # the summary: drip-feed is its option, not a question
    draft = bot.data(user).draft
    assert draft is not None
    return cb.CONFIRM(draft.key, draft.turn)


async def measure() -> tuple[float, float]:
    """The two bots take turns, one order each at a time: this machine's speed drifts from
    one minute to the next, and both see the same drift."""
    with tempfile.TemporaryDirectory() as off_dir, tempfile.TemporaryDirectory() as on_dir:
        off_sandbox, on_sandbox = SandboxPanel(), SandboxPanel()
        async with (
            Harness(Path(off_dir), off_sandbox, request=LeanRequest()) as off,
            Harness(
                Path(on_dir),
                on_sandbox,
                request=LeanRequest(),
                wallets="on",
                markup_percent="25",
            ) as on,
        ):
            for customer in CUSTOMERS:
                await on.state.shop.adjust(customer, Decimal(10**9), ADMIN, "bench")
            timings: dict[Harness, list[float]] = {off: [], on: []}
            for n in range(ORDERS + 10):
                user = CUSTOMERS[n % len(CUSTOMERS)]
                for bot in (off, on):
                    confirm = await ready_to_confirm(bot, n, user)
                    started = time.process_time()
                    await bot.tap(user, confirm)
                    timings[bot].append(time.process_time() - started)
                    assert bot.data(user).draft is None
            assert off_sandbox.calls["add"] == on_sandbox.calls["add"] == ORDERS + 10
        # the first ones warm the caches up
        return statistics.median(timings[off][10:]) * 1000, statistics.median(
            timings[on][10:]
        ) * 1000


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
