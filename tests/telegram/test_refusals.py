"""A panel that says no, as real panels say it (HTTP 4xx with a JSON body, 429 with
Retry-After): the user reads a refusal in the panel's own words, never "outcome unknown", the
draft stays to be corrected, and no request reaches the panel inside its rate-limit window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.adapters.sandbox.panel import SandboxPanel
from bot.core.records import Outcome
from bot.telegram import callback as cb
from tests.harness import ADMIN, USER, Harness
from tests.telegram.walks import delivered, place

LINK = "https://youtube.com/watch?v=x"
OTHER_LINK = "https://youtube.com/watch?v=y"
PACKAGE = 4


async def summary(bot: Harness, link: str = LINK) -> Any:
    await bot.tap(USER, cb.START_ORDER(PACKAGE))
    return await bot.say(USER, link)


async def outcomes(bot: Harness) -> list[Outcome]:
    """Every submission of the user, oldest first, refused ones included."""
    rows = await bot.store.db.fetchall(
        "SELECT outcome FROM orders WHERE user_id = ? ORDER BY id", (USER,)
    )
    return [Outcome(row["outcome"]) for row in rows]


async def test_a_refused_add_shows_the_panel_words_and_the_draft_can_be_corrected(
    tmp_path: Path,
) -> None:
    sandbox = SandboxPanel(reject_duplicate_links=True, refusal_status=True)
    async with Harness(tmp_path, sandbox) as bot:
        first = await summary(bot)
        assert "Order placed" in (await bot.tap(USER, first.button("✅"))).text
        second = await summary(bot)
        refused = await bot.tap(USER, second.button("✅"))
        assert "An order for this link is still active" in refused.text
        assert "The panel says: “Active order with this link exists”" in refused.text
        assert "not known" not in refused.text
        assert "Check your order" in refused.text  # the summary again, with a new Confirm
        assert refused.button("✅") != second.button("✅")
        question = await bot.tap(USER, refused.button("✏️ Link"))
        assert "Send the link" in question.text
        corrected = await bot.say(USER, OTHER_LINK)
        assert "Check your order" in corrected.text and OTHER_LINK in corrected.text
        assert "Order placed" in (await bot.tap(USER, corrected.button("✅"))).text
        assert sandbox.calls["add"] == 3
        assert await outcomes(bot) == [Outcome.PLACED, Outcome.REJECTED, Outcome.PLACED]


class MarkupRefusingPanel(SandboxPanel):
    def _do_add(self, form: dict[str, str]) -> Any:
        return {"error": "Link <b>must</b> be public & <a href='https://evil.example'>open</a>"}


async def test_the_panel_words_are_escaped(tmp_path: Path) -> None:
    async with Harness(tmp_path, MarkupRefusingPanel(refusal_status=True)) as bot:
        refused = await bot.tap(USER, (await summary(bot)).button("✅"))
        assert "“Link &lt;b&gt;must&lt;/b&gt; be public &amp; &lt;a href=" in refused.text
        assert await outcomes(bot) == [Outcome.REJECTED]
    # Leaving the harness checks that Telegram would have accepted every message.


async def test_a_429_on_add_places_nothing_and_silences_the_bot_for_the_window(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        bot.sandbox.fail_next("429", action="add")
        refused = await bot.tap(USER, (await summary(bot)).button("✅"))
        assert "The panel is busy" in refused.text and "Try again in 60 s" in refused.text
        assert "Nothing was done" in refused.text
        sent = len(bot.sandbox.received)
        bot.clock.advance(30)
        again = await bot.tap(USER, refused.button("✅"))
        assert "Try again in 30 s" in again.text
        balance = await bot.say(USER, "/balance")
        assert "The panel is busy" in balance.text
        assert len(bot.sandbox.received) == sent, "no request inside the Retry-After window"
        bot.clock.advance(31)
        placed = await bot.tap(USER, again.button("✅"))
        assert "Order placed" in placed.text
        assert [action for _, action in bot.sandbox.received].count("add") == 2
        assert await outcomes(bot) == [Outcome.REJECTED, Outcome.REJECTED, Outcome.PLACED]


async def test_a_bad_key_reads_as_a_bad_key(tmp_path: Path) -> None:
    sandbox = SandboxPanel(key="the-operator-changed-it", refusal_status=True)
    async with Harness(tmp_path, sandbox) as bot:
        reply = await bot.say(ADMIN, "/balance")
        assert "The panel rejected the bot's API key" in reply.text
        assert "cannot be reached" not in reply.text


async def test_refresh_of_an_order_the_panel_does_not_know_says_not_found(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, SandboxPanel(refusal_status=True)) as bot:
        order_id = await place(bot, USER)
        del bot.sandbox.orders[order_id]
        row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        card = await bot.tap(USER, cb.REFRESH(row.id))
        assert "Not found." in card.text and "“Incorrect order ID”" in card.text
        assert "cannot be reached" not in card.text


async def test_a_refused_refill_is_a_refusal_not_an_unknown_outcome(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER)
        await delivered(bot, order_id)
        bot.sandbox.fail_next(
            "refuse", action="refill", status=400, message="Order not eligible for refill."
        )
        reply = await bot.say(USER, f"/refill {order_id}")
        assert "The panel says: “Order not eligible for refill.”" in reply.text
        assert "not known" not in reply.text


async def test_over_delivery_is_shown_as_such(tmp_path: Path) -> None:
    async with Harness(tmp_path, SandboxPanel(step_seconds=10**9)) as bot:
        order_id = await place(bot, USER)
        bot.sandbox.set_status(order_id, "Completed", remains=-25)
        line = await bot.say(USER, f"/status {order_id}")
        assert "over-delivered by 25" in line.text and "remains" not in line.text
        row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        card = await bot.tap(USER, cb.ORDER(row.id))
        assert "Over-delivered: 25 more than ordered" in card.text
        assert "▓▓▓▓▓▓▓▓▓▓ 100%" in card.text


async def test_prices_carry_the_panel_currency_from_the_start(tmp_path: Path) -> None:
    """A panel other than the default: its currency is asked for at start, not at /balance."""
    sandbox = SandboxPanel(currency="USD")
    async with Harness(
        tmp_path, sandbox, panel_url="https://panel.test/api/v2", panel_key="k" * 32
    ) as bot:
        page = await bot.tap(USER, cb.NEW_ORDER())
        services = await bot.tap(USER, page.buttons[0][1])
        assert "$" in services.buttons[0][0]
