"""Actions per common task: the five things a reseller does most, walked through the real
screens (the application in-process, the sandbox panel), counting every tap, command or
typed message from where the task starts. Targets: a new order found by search in 5, from a
favourite in 4, a repeat from a notification in 3, a refill in 3, a cancel in 2."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel
from bot.telegram import callback as cb
from tests.harness import USER, Call, Harness

LINK = "instagram.com/tokobudi.id"
"""As resellers paste it: without its scheme."""


class Walk:
    """A user's actions, counted."""

    def __init__(self, bot: Harness) -> None:
        self.bot = bot
        self.actions = 0

    async def say(self, text: str) -> Call:
        self.actions += 1
        return await self.bot.say(USER, text)

    async def tap(self, data: str) -> Call:
        self.actions += 1
        return await self.bot.tap(USER, data)


async def _placed(bot: Harness) -> int:
    """An order of service 1 placed earlier (not counted); its id in the bot."""
    await bot.tap(USER, cb.START_ORDER(1))
    await bot.say(USER, "https://instagram.com/p/earlier")
    summary = await bot.say(USER, "1000")
    await bot.tap(USER, summary.button("✅"))
    orders = await bot.orders_of(USER)
    return orders[0].id


async def _notified(bot: Harness) -> Call:
    """An order placed earlier completes; the notification the user gets (not counted)."""
    order_id = await _placed(bot)
    order = (await bot.store.orders.by_ids([order_id]))[0]
    assert order.panel_order_id is not None
    bot.sandbox.set_status(order.panel_order_id, "Completed", remains=0)
    bot.clock.advance(bot.settings.poll_interval)
    await bot.state.tracker.run_cycle(bot.app.bot)
    await bot.state.tracker.delivered()
    notice = bot.last(USER)
    assert "Completed" in notice.text, notice.text
    return notice


async def by_search(walk: Walk) -> str:
    """The main menu; the user types what they want."""
    found = await walk.say("ig followers")
    question = await walk.tap(found.buttons[0][1])  # the service: its card and first question
    question = await walk.say(LINK)
    summary = await walk.tap(question.button("1,000"))
    placed = await walk.tap(summary.button("✅"))
    return placed.text


async def from_favourite(walk: Walk) -> str:
    await walk.bot.state.browsing.toggle_favourite(walk.bot.state.access.actor(USER), 1)
    menu = await walk.bot.say(USER, "/start")  # where the task starts (not counted)
    question = await walk.tap(menu.button("⭐"))
    question = await walk.say(LINK)
    summary = await walk.tap(question.button("1,000"))
    placed = await walk.tap(summary.button("✅"))
    return placed.text


async def repeat(walk: Walk) -> str:
    notice = await _notified(walk.bot)
    card = await walk.tap(notice.button("Open the order"))
    summary = await walk.tap(card.button("🔁"))
    placed = await walk.tap(summary.button("✅"))
    return placed.text


async def refill(walk: Walk) -> str:
    notice = await _notified(walk.bot)
    card = await walk.tap(notice.button("Open the order"))
    ask = await walk.tap(card.button("♻️"))
    done = await walk.tap(ask.button("Yes"))
    return done.text


async def cancel(walk: Walk) -> str:
    order_id = await _placed(walk.bot)
    card = walk.bot.last(USER)  # the card of the order just placed
    assert cb.CANCEL_ASK(order_id) in [data for _, data in card.buttons]
    ask = await walk.tap(card.button("✖️ Cancel order"))
    done = await walk.tap(ask.button("Yes"))
    return done.text


TASKS: tuple[tuple[str, int, Callable[[Walk], Awaitable[str]], str], ...] = (
    ("new order by search", 5, by_search, "Order placed"),
    ("new order from a favourite", 4, from_favourite, "Order placed"),
    ("repeat from a notification", 3, repeat, "Order placed"),
    ("refill", 3, refill, "efill"),
    ("cancel", 2, cancel, "ancel"),
)
"""(task, target actions, walk, what its last screen says)."""


async def count(directory: Path, walk_of: Callable[[Walk], Awaitable[str]]) -> tuple[int, str]:
    """The actions of one walk, and its last screen's text."""
    sandbox = SandboxPanel(step_seconds=10**9)  # orders change only when a walk says so
    async with Harness(directory, sandbox) as bot:
        walk = Walk(bot)
        last = await walk_of(walk)
        return walk.actions, last


async def measure() -> list[tuple[str, int, int, bool]]:
    rows = []
    for task, target, walk_of, says in TASKS:
        with tempfile.TemporaryDirectory() as directory:
            actions, last = await count(Path(directory), walk_of)
        rows.append((task, target, actions, actions <= target and says in last))
    return rows


def run() -> list[tuple[str, str, str, bool]]:
    return [
        (f"actions: {task}", f"<= {target}", str(actions), passed)
        for task, target, actions, passed in asyncio.run(measure())
    ]
