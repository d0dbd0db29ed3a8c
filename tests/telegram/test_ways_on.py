"""Issue 25, point 9 through the real screens: every reply and notice ends with a way on (at
least the menu); a question waiting for a typed answer has a Menu or Cancel button."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Chat, Message, SuccessfulPayment, Update, User

from bot.core.notices import OrderChanged, PanelDown
from bot.core.panel import PanelUnavailable
from bot.telegram import callback as cb
from tests.harness import ADMIN, USER, Call, Harness
from tests.telegram.walks import SHOP, credit, place, summary_of

MENU = cb.MENU()


def has_menu(reply: Call) -> bool:
    """A Menu button, or the main menu itself."""
    data = [data for _, data in reply.buttons]
    return MENU in data or cb.NEW_ORDER() in data


def down(*_: Any, **__: Any) -> Any:
    raise PanelUnavailable("timeout")


async def test_admin_command_replies_end_with_the_menu(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await bot.say(USER, "/start")
        replies = {
            "stats": await bot.say(ADMIN, "/stats"),
            "credit usage": await bot.say(ADMIN, "/credit someone 100"),
            "credit fraction": await bot.say(ADMIN, f"/credit {USER} 100.5"),
            "credit done": await credit(bot, USER, 5000),
            "debit short": await bot.say(ADMIN, f"/debit {USER} 999999"),
            "limit usage": await bot.say(ADMIN, "/limit"),
            "limit fraction": await bot.say(ADMIN, f"/limit {USER} 10.5"),
            "limit done": await bot.say(ADMIN, f"/limit {USER} 2000"),
            "debit below zero": await bot.say(ADMIN, f"/debit {USER} 6000"),
            "limit below the debt": await bot.say(ADMIN, f"/limit {USER} 0"),
            "wallet usage": await bot.say(ADMIN, "/wallet"),
            "wallet stranger": await bot.say(ADMIN, "/wallet 424242"),
            "markup usage": await bot.say(ADMIN, "/markup nonsense"),
            "markup no category": await bot.say(ADMIN, "/markup category Nothing 10"),
            "markup rules": await bot.say(ADMIN, "/markup"),
            "promo usage": await bot.say(ADMIN, "/promo what"),
            "promo bad": await bot.say(ADMIN, "/promo add SALE10 order 150%"),
            "promo none": await bot.say(ADMIN, "/promo off NOPE"),
            "promo listed": await bot.say(ADMIN, "/promo add SALE10 order 10%"),
            "refundstars usage": await bot.say(ADMIN, "/refundstars"),
            "referrals none": await bot.say(USER, "/referrals"),
        }
        await bot.say(USER, f"/debit {USER} 1")  # a customer: an unknown command
        bot.state.browsing.index = down
        replies["markup panel down"] = await bot.say(ADMIN, "/markup category Instagram 10")
        assert "Usage: /credit" in replies["credit usage"].text
        assert "Wallet of user" in replies["credit done"].text
        assert "limit cannot be below that debt" in replies["limit below the debt"].text
        assert "There is no category" in replies["markup no category"].text
        assert "Code SALE10 created" in replies["promo listed"].text
        assert "no referral program" in replies["referrals none"].text
        assert "cannot be reached" in replies["markup panel down"].text
        for name, reply in replies.items():
            assert has_menu(reply), name


async def test_ticket_replies_and_the_closed_notice_go_on(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await bot.tap(USER, (await bot.say(USER, "/start")).button("🆘"))
        await bot.say(USER, "My order is late")
        card = bot.request.sent(ADMIN)[-1]
        await bot.tap(ADMIN, card.button("✅"))
        closed = bot.last(USER)
        assert "ticket #1 was closed" in closed.text
        assert closed.button("🆘") == cb.SUPPORT() and has_menu(closed)
        await bot.tap(ADMIN, cb.TICKET_REPLY(1))
        late = await bot.say(ADMIN, "late answer")
        assert "Ticket #1 is closed" in late.text and has_menu(late)
        await bot.tap(ADMIN, cb.TICKET_REPLY(99))
        none = await bot.say(ADMIN, "hello?")
        assert "There is no ticket #99" in none.text and has_menu(none)


async def test_a_decided_top_up_card_and_an_unknown_order_decided_go_on(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
        await bot.say(USER, "50000")
        await bot.say(USER, "REF-123")
        card = next(c for c in bot.request.sent(ADMIN) if "Top-up #" in c.text)
        decided = await bot.tap(ADMIN, card.button("✅"))
        assert "Approved by" in decided.text and has_menu(decided)

        await credit(bot, USER, 10_000)
        bot.sandbox.fail_next("drop", action="add")
        await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        await bot.state.tracker.deliver(bot.app.bot)
        alert = bot.request.sent(ADMIN)[-1]
        asked = await bot.tap(ADMIN, alert.button("✅"))
        assert "Send the panel's id" in asked.text and has_menu(asked)
        letters = await bot.say(ADMIN, "soon")
        assert "in digits" in letters.text and has_menu(letters)
        bot.sandbox.fail_next("timeout", times=3)
        failed = await bot.say(ADMIN, str(max(bot.sandbox.orders)))
        assert "cannot be reached" in failed.text and has_menu(failed)
        missing = await bot.say(ADMIN, "999999")
        assert "999999" in missing.text and has_menu(missing)
        (row_id,) = cb.UNKNOWN_PLACED.parse(alert.button("✅")) or (0,)
        attached = await bot.say(ADMIN, str(max(bot.sandbox.orders)))
        assert "Attached" in attached.text and has_menu(attached)
        assert attached.button("Open the order") == cb.OPEN_ORDER(row_id)

        bot.sandbox.fail_next("timeout", action="add")
        await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        await bot.state.tracker.deliver(bot.app.bot)
        alert = bot.request.sent(ADMIN)[-1]
        await bot.tap(ADMIN, alert.button("✅"))  # its id asked; decided meanwhile
        (row_id,) = cb.UNKNOWN_NOT_PLACED.parse(alert.button("↩️")) or (0,)
        await bot.state.unknown.not_placed(bot.state.access.actor(ADMIN), row_id)
        late = await bot.say(ADMIN, "123456")
        assert "resolved already" in late.text and has_menu(late)

        bot.sandbox.fail_next("timeout", action="add")
        await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        await bot.state.tracker.deliver(bot.app.bot)
        alert = bot.request.sent(ADMIN)[-1]
        (row_id,) = cb.UNKNOWN_NOT_PLACED.parse(alert.button("↩️")) or (0,)
        refunded = await bot.tap(ADMIN, alert.button("↩️"))
        assert "Marked not placed" in refunded.text and has_menu(refunded)
        assert refunded.button("Open the order") == cb.OPEN_ORDER(row_id)


async def test_questions_waiting_for_a_typed_answer_offer_the_menu(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await bot.say(ADMIN, "/promo add BONUS topup 5000 min=100000")
        await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
        words = await bot.say(USER, "lots")
        assert "That is not an amount" in words.text and has_menu(words)
        small = await bot.say(USER, "5")
        assert "The smallest top-up" in small.text and has_menu(small)
        refused = await bot.say(USER, "50000 BONUS")
        assert "Send the amount again" in refused.text and has_menu(refused)
        await bot.say(ADMIN, "/broadcast")
        empty = await bot.say(ADMIN, "[Our channel](https://t.me/example)")
        assert "Send the message to broadcast" in empty.text and has_menu(empty)


async def test_words_typed_at_the_summary_lead_back_to_it(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        await summary_of(bot, 100)
        hint = await bot.say(USER, "what now?")
        assert "waiting for you above" in hint.text and has_menu(hint)
        summary = await bot.tap(USER, hint.button("▶️"))
        assert "Check your order" in summary.text and summary.button("✅")
        refused = await bot.say(USER, "NOPE10")
        assert "NOPE10" in refused.text and has_menu(refused)
        assert "Check your order" in (await bot.tap(USER, refused.button("▶️"))).text


async def test_order_again_with_the_panel_down_offers_retry(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await place(bot, USER)
        (row,) = await bot.orders_of(USER)
        bot.state.checkout.again = down
        failed = await bot.tap(USER, cb.ORDER_AGAIN(row.id))
        assert "cannot be reached" in failed.text and has_menu(failed)
        assert failed.button("🔄") == cb.ORDER_AGAIN(row.id)


async def test_found_without_a_card_and_too_fast_go_on(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        bot.sandbox.fail_next("drop", action="add")
        await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        (row,) = await bot.orders_of(USER)

        async def no_card(*_: Any) -> None:
            return None

        card, bot.state.orders.card = bot.state.orders.card, no_card
        taken = await bot.say(USER, f"/found {row.id} 999999")
        assert "999999" in taken.text and taken.button("📦") and has_menu(taken)
        bot.state.orders.card = card
        for _ in range(100):
            reply = await bot.say(USER, "/status 1")
            if "too fast" in reply.text:
                break
        assert "too fast" in reply.text and has_menu(reply)


async def test_an_error_ends_with_the_menu(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:

        async def broken() -> None:
            raise RuntimeError("boom")

        bot.state.stats.now = broken
        reply = await bot.say(ADMIN, "/stats")
        assert "Something went wrong" in reply.text and has_menu(reply)


async def test_notices_without_buttons_of_their_own_get_a_way_on(tmp_path: Path) -> None:
    async with Harness(tmp_path, wallets="on") as bot:
        await bot.say(USER, "/start")
        await bot.store.outbox.add(
            [
                OrderChanged(USER, order=0, panel_id=7, service="Likes", new="Completed"),
                PanelDown(0, since=1.0),
            ]
        )
        await bot.state.tracker.deliver(bot.app.bot)
        changed = bot.last(USER)
        assert "Order 7" in changed.text and changed.button("📦") and has_menu(changed)
        alert = bot.last(ADMIN)
        assert "unreachable" in alert.text and has_menu(alert)
        await bot.say(ADMIN, "/broadcast")
        asked = await bot.say(ADMIN, "Sale today")
        preview = await bot.tap(ADMIN, asked.button("👥"))
        await bot.tap(ADMIN, preview.button("📣"))
        await bot.state.broadcast_job.wait()
        await bot.state.tracker.delivered()
        report = bot.last(ADMIN)
        assert "Broadcast #1 done" in report.text and has_menu(report)


def paid_update(bot: Harness, payload: str, total: int, charge: str) -> Update:
    message = Message(
        message_id=7001,
        date=datetime.now(UTC),
        chat=Chat(id=USER, type=Chat.PRIVATE),
        from_user=User(USER, "U2", False, language_code="en"),
        successful_payment=SuccessfulPayment(
            currency="XTR",
            total_amount=total,
            invoice_payload=payload,
            telegram_payment_charge_id=charge,
            provider_payment_charge_id="",
        ),
    )
    message.set_bot(bot.app.bot)
    update = Update(update_id=9002, message=message)
    update.set_bot(bot.app.bot)
    return update


async def test_stars_refunded_and_a_refused_refund_go_on(tmp_path: Path) -> None:
    settings = {**SHOP, "payments": "stars,manual", "stars_rate": "100"}
    async with Harness(tmp_path, **settings) as bot:
        await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
        choices = await bot.say(USER, "25000")
        await bot.tap(USER, choices.button("⭐"))
        await bot.process(paid_update(bot, "DEP-1", 250, "stxCHARGE1"))
        bot.request.fail_with["refundStarPayment"] = [
            (400, {"ok": False, "error_code": 400, "description": "Bad Request: CHARGE_NOT_FOUND"})
        ]
        refused = await bot.say(ADMIN, "/refundstars 1")
        assert "Telegram refused the refund" in refused.text and has_menu(refused)
        await bot.say(ADMIN, "/refundstars 1")
        told = bot.last(USER)
        assert "were given back" in told.text and has_menu(told)
        assert told.button("💰") == cb.BALANCE()


async def test_a_promo_code_where_no_admin_approves_top_ups_asks_again_with_the_menu(
    tmp_path: Path,
) -> None:
    settings = {"wallets": "on", "payments": "stars", "stars_rate": "100"}
    async with Harness(tmp_path, **settings) as bot:
        await bot.say(ADMIN, "/promo add BONUS topup 5000")
        await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
        refused = await bot.say(USER, "50000 BONUS")
        assert "Send the amount without the code" in refused.text and has_menu(refused)
