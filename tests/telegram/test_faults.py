"""Faults of the panel and of the Bot API: a clear message, no order twice, nothing lost, and
the bot keeps serving."""

from __future__ import annotations

from pathlib import Path

import pytest
from telegram.error import TimedOut

from bot.core.records import Outcome
from bot.telegram import callback as cb
from tests.harness import USER, Harness
from tests.telegram.walks import place

LINK = "https://youtube.com/watch?v=x"
TOO_MANY = (
    429,
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    },
)
BAD_GATEWAY = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


async def summary(bot: Harness) -> str:
    await bot.tap(USER, cb.START_ORDER(4))
    return (await bot.say(USER, LINK)).button("✅")


WHAT_HAPPENED = {
    "timeout": "The panel did not answer in time.",
    "500": "The panel answered with an error page instead of a result.",
    "html": "The panel answered with an error page instead of a result.",
    "badjson": "The panel answered with an error page instead of a result.",
    "drop": "The connection to the panel broke before its answer arrived.",
}


@pytest.mark.parametrize("fault", list(WHAT_HAPPENED))
async def test_panel_faults_on_add(tmp_path: Path, fault: str) -> None:
    async with Harness(tmp_path) as bot:
        tracked = await place(bot, USER)
        confirm = await summary(bot)
        bot.sandbox.fail_next(fault, action="add")
        reply = await bot.tap(USER, confirm)
        assert WHAT_HAPPENED[fault] in reply.text  # what happened, not always "in time"
        assert "not known whether this went through" in reply.text
        again = await bot.tap(USER, confirm)
        assert "not known" in again.text
        adds = [r for r in bot.sandbox.requests if r["action"] == "add"]
        assert len(adds) == (2 if fault == "drop" else 1)  # the tracked one, and at most one
        assert "Welcome" in (await bot.say(USER, "/start")).text  # still serving
        rows = await bot.orders_of(USER)
        assert [r.outcome for r in rows] == [Outcome.UNKNOWN, Outcome.PLACED]
        assert rows[1].panel_order_id == tracked


@pytest.mark.parametrize("fault", ["timeout", "500", "html", "badjson"])
async def test_panel_faults_on_reads(tmp_path: Path, fault: str) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER)
        bot.sandbox.fail_next(fault, times=3)
        reply = await bot.say(USER, f"/status {order_id}")
        assert "cannot be reached" in reply.text and "Nothing was changed" in reply.text
        assert "Pending" in (await bot.tap(USER, reply.button("🔄"))).text
        bot.sandbox.fail_next(fault, times=3)
        await bot.state.tracker.run_cycle(bot.app.bot)
        row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        assert row.outcome is Outcome.PLACED and not row.final  # still tracked


async def test_bot_api_429_is_waited_out_and_the_message_delivered(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        bot.request.fail_with["sendMessage"] = [TOO_MANY]
        reply = await bot.say(USER, "/start")
        assert "Welcome" in reply.text  # sent after the retry_after


@pytest.mark.parametrize("failure", [BAD_GATEWAY, TimedOut("timed out")])
async def test_bot_api_failures_lose_no_order(tmp_path: Path, failure: object) -> None:
    async with Harness(tmp_path) as bot:
        confirm = await summary(bot)
        bot.request.fail_with["editMessageText"] = [failure]  # type: ignore[list-item]
        bot.request.fail_with["sendMessage"] = [failure]  # type: ignore[list-item]
        await bot.tap(USER, confirm)  # the order is placed; telling the user fails
        assert bot.sandbox.calls["add"] == 1
        reply = await bot.tap(USER, confirm)  # the user taps again: told, not re-ordered
        assert "Order placed" in reply.text and bot.sandbox.calls["add"] == 1
        rows = await bot.orders_of(USER)
        assert [r.outcome for r in rows] == [Outcome.PLACED]
        assert "Welcome" in (await bot.say(USER, "/start")).text


async def test_notifications_survive_bot_api_failures(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER)
        bot.sandbox.set_status(order_id, "Completed", remains=0)
        bot.request.fail_with["sendMessage"] = [BAD_GATEWAY, TimedOut("t")]
        bot.clock.advance(60)
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert await bot.store.outbox.count() == 1  # kept
        bot.clock.advance(60)
        await bot.state.tracker.run_cycle(bot.app.bot)
        bot.clock.advance(60)
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert await bot.store.outbox.count() == 0
        assert sum("Completed" in c.text for c in bot.request.sent(USER)) == 1


async def test_a_callback_query_too_old_to_answer_still_gets_its_reply(tmp_path: Path) -> None:
    too_old = (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: query is too old and response timeout expired",
        },
    )
    async with Harness(tmp_path) as bot:
        bot.request.fail_with["answerCallbackQuery"] = [too_old]
        reply = await bot.tap(USER, cb.NEW_ORDER())
        assert reply.method == "editMessageText" and "Something went wrong" not in reply.text
        confirm = await summary(bot)
        bot.request.fail_with["answerCallbackQuery"] = [too_old]
        reply = await bot.tap(USER, confirm)  # the order's "Placing…" answer fails
        assert "Order placed" in reply.text and bot.sandbox.calls["add"] == 1
