"""Referrals, promo codes and support tickets through the bot (the harness: the real
application, a recording Bot API, the sandbox panel)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from telegram import Chat, Message, PhotoSize, Update, User

from bot.core.actor import Actor
from bot.core.records import EntryKind
from bot.telegram import callback as cb
from tests.harness import ADMIN, OTHER, USER, Call, Harness
from tests.telegram.walks import SHOP, credit, summary_of, wallet_of

THIRD = 4
GROWTH = {**SHOP, "referral_percent": "10", "allowed_ids": f"{USER},{OTHER},{THIRD}"}
BAD_GATEWAY = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


async def referral_code(bot: Harness, user: int) -> str:
    screen = await bot.say(user, "/referrals")
    [(label, link)] = screen.copies
    assert label.startswith("📋") and link in screen.text
    found = re.search(r"start=ref_([A-Za-z0-9]+)", link)
    assert found is not None
    return found.group(1)


async def test_a_referred_customer_orders_and_the_referrer_earns_its_share_until_refunded(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, **GROWTH) as bot:
        screen = await bot.say(USER, "/referrals")
        assert "10 %" in screen.text and "You brought 0 customers." in screen.text
        code = await referral_code(bot, USER)
        welcome = await bot.say(OTHER, f"/start ref_{code}")
        assert "joined through a friend's link" in welcome.text
        again = await bot.say(OTHER, f"/start ref_{await referral_code(bot, THIRD)}")
        assert "friend's link" not in again.text  # linked once, never changed
        itself = await bot.say(USER, f"/start ref_{code}")
        assert "friend's link" not in itself.text
        await credit(bot, OTHER, 100_000)
        placed = await bot.tap(OTHER, (await summary_of(bot, 1000, user=OTHER)).button("✅"))
        assert "Order placed" in placed.text
        assert await wallet_of(bot, OTHER) == Decimal(100_000 - 18_750)
        assert await wallet_of(bot, USER) == Decimal(1875)  # 10 % of 18,750
        screen = await bot.say(USER, "/referrals")
        assert "You brought 1 customer." in screen.text
        assert "Earned this month: <b>IDR1,875</b>" in screen.text
        assert "Earned in all: <b>IDR1,875</b>" in screen.text
        # a partial: the share of what came back is taken back
        [order] = await bot.orders_of(OTHER)
        assert order.panel_order_id is not None
        bot.sandbox.set_status(order.panel_order_id, "Partial", remains=400)
        for _ in range(2):
            await bot.state.tracker.run_cycle(bot.app.bot)
        refunded = 18_750 * 400 // 1000  # 7,500 back to the customer
        assert await wallet_of(bot, OTHER) == Decimal(100_000 - 18_750 + refunded)
        assert await wallet_of(bot, USER) == Decimal((18_750 - refunded) // 10)  # 1,125
        entries, _ = await bot.state.shop.entries(USER, 0, 10)
        assert [(e.kind, e.amount) for e in entries] == [
            (EntryKind.REFERRAL_BACK, Decimal(-750)),
            (EntryKind.REFERRAL, Decimal(1875)),
        ]
        history = await bot.say(USER, "/balance")
        assert "🤝" in " ".join(text for text, _ in history.buttons)
        indonesian = await bot.say(USER, "/referrals", language="id")
        assert "IDR1.125" in indonesian.text or "Rp1.125" in indonesian.text


async def test_no_share_on_an_admins_order_and_no_referrals_when_off(tmp_path: Path) -> None:
    async with Harness(tmp_path, **GROWTH) as bot:
        code = await referral_code(bot, USER)
        await bot.say(ADMIN, f"/start ref_{code}")  # an admin is never referred
        placed = await bot.tap(ADMIN, (await summary_of(bot, 1000, user=ADMIN)).button("✅"))
        assert "Order placed" in placed.text
        assert await wallet_of(bot, USER) == 0
    async with Harness(tmp_path / "off", **SHOP) as bot:
        assert "no referral program" in (await bot.say(USER, "/referrals")).text


async def test_promo_codes_at_the_summary_and_at_top_up(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        made = await bot.say(ADMIN, "/promo add sale10 order 10% limit=1 per_user=1")
        assert "Code SALE10 created." in made.text and "used 0/1" in made.text
        bad = await bot.say(ADMIN, "/promo add SALE10 order 150%")
        assert "percent up to 100" in bad.text
        await bot.say(ADMIN, "/promo add BONUS topup 5000 min=100000")
        await credit(bot, USER, 100_000)
        summary = await summary_of(bot, 1000)
        assert "Have a promo code? Type it here." in summary.text
        wrong = await bot.say(USER, "NOPE1")
        assert "There is no promo code NOPE1" in wrong.text
        other_kind = await bot.say(USER, "bonus")
        assert "is not for this" in other_kind.text
        discounted = await bot.say(USER, "sale10")
        assert "Price: <b>IDR16,875</b>" in discounted.text  # 18,750 less 1,875
        assert "Promo code SALE10: −IDR1,875" in discounted.text
        placed = await bot.tap(USER, discounted.button("✅"))
        assert "Order placed" in placed.text
        assert await wallet_of(bot) == Decimal(100_000 - 16_875)
        entries, _ = await bot.state.shop.entries(USER, 0, 10)
        assert [(e.kind, e.amount) for e in entries][:2] == [
            (EntryKind.DEBIT_ORDER, Decimal(-18_750)),
            (EntryKind.PROMO_DISCOUNT, Decimal(1875)),
        ]
        [order] = await bot.orders_of(USER)
        assert order.paid == Decimal(16_875)
        bot.sandbox.set_status(order.panel_order_id or 0, "Canceled", remains=1000)
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert await wallet_of(bot) == Decimal(100_000)  # what was paid, not the full price
        used_up = await bot.say(OTHER, "/start")
        await credit(bot, OTHER, 100_000)
        await summary_of(bot, 1000, user=OTHER)
        refused = await bot.say(OTHER, "SALE10")
        assert "has been used up" in refused.text and used_up.text
        # at top-up: below its minimum, then with it
        choose = await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
        assert "Have a promo code?" in choose.text
        small = await bot.say(USER, "50000 BONUS")
        assert "needs a larger amount" in small.text
        instructions = await bot.say(USER, "100000 bonus")
        assert "Top-up of <b>IDR100,000</b>" in instructions.text and "BONUS" in instructions.text
        await bot.say(USER, "ref 1234")
        card = bot.request.sent(ADMIN)[-1]
        assert "Promo code BONUS: a bonus of IDR5,000 comes with the approval" in card.text
        await bot.tap(ADMIN, card.button("✅"))
        await bot.tap(ADMIN, card.button("✅"))  # twice: one bonus
        assert await wallet_of(bot) == Decimal(100_000 + 100_000 + 5000)
        told = bot.last(USER).text
        assert "promo bonus of IDR5,000" in told and "IDR205,000" in told
        codes = await bot.say(ADMIN, "/promo")
        assert "used 1/∞" in codes.text
        assert "Code switched off." in (await bot.say(ADMIN, "/promo off bonus")).text


def reply_update(bot: Harness, user_id: int, text: str, to: Call) -> Update:
    """The user replies to one of the bot's messages."""
    replied = Message(
        message_id=int(to.params.get("message_id") or 5000),
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type=Chat.PRIVATE),
        from_user=User(id=42, first_name="SMM", is_bot=True),
        text=to.text,
    )
    message = Message(
        message_id=7000,
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type=Chat.PRIVATE),
        from_user=bot._user(user_id, "en"),
        text=text,
        reply_to_message=replied,
    )
    message.set_bot(bot.app.bot)
    update = Update(update_id=70000 + len(bot.request.calls), message=message)
    update.set_bot(bot.app.bot)
    return update


def photo_update(bot: Harness, user_id: int, caption: str) -> Update:
    message = Message(
        message_id=8000,
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type=Chat.PRIVATE),
        from_user=bot._user(user_id, "en"),
        photo=(PhotoSize("shot-small", "s1", 90, 90), PhotoSize("shot", "s2", 800, 800)),
        caption=caption,
    )
    message.set_bot(bot.app.bot)
    update = Update(update_id=80000 + len(bot.request.calls), message=message)
    update.set_bot(bot.app.bot)
    return update


async def test_a_ticket_goes_back_and_forth_and_closes(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        menu = await bot.say(USER, "/start")
        prompt = await bot.tap(USER, menu.button("🆘"))
        assert "opens a ticket" in prompt.text
        opened = await bot.say(USER, "My order <b>is</b> late")
        assert "Ticket #1 is open" in opened.text
        card = bot.request.sent(ADMIN)[-1]
        assert "New ticket #1" in card.text and f"<code>{USER}</code>" in card.text
        assert "My order &lt;b&gt;is&lt;/b&gt; late" in card.text  # escaped
        await bot.process(reply_update(bot, ADMIN, "Looking into it", card))
        assert "Sent to the customer of ticket #1" in bot.last(ADMIN).text
        reply = bot.last(USER)
        assert "ticket #1" in reply.text and "Looking into it" in reply.text
        await bot.tap(USER, reply.button("✍️"))
        added = await bot.say(USER, "Thanks, still waiting")
        assert "Added to ticket #1" in added.text
        more = bot.request.sent(ADMIN)[-1]
        assert "Ticket #1: a new message" in more.text and "still waiting" in more.text
        await bot.tap(ADMIN, more.button("↩️"))
        await bot.say(ADMIN, "Done now")
        assert "Done now" in bot.last(USER).text
        listed = await bot.say(ADMIN, "/tickets")
        assert "1 open ticket" in listed.text and "#1" in listed.text
        shown = await bot.tap(ADMIN, listed.button("#1"))
        assert shown.text.index("late") < shown.text.index("Done now")  # oldest first
        assert "tickets" not in (await bot.say(USER, "/tickets")).text.lower()  # admins only
        await bot.tap(ADMIN, shown.button("✅"))
        assert "ticket #1 was closed" in bot.last(USER).text
        assert "No open tickets" in (await bot.say(ADMIN, "/tickets")).text
        await bot.process(reply_update(bot, ADMIN, "late answer", card))
        assert "Ticket #1 is closed" in bot.last(ADMIN).text


async def test_a_ticket_about_an_order_with_a_photo_and_nothing_lost(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        await bot.tap(USER, (await summary_of(bot, 1000)).button("✅"))
        [order] = await bot.orders_of(USER)
        card = await bot.tap(USER, cb.ORDER(order.id))
        prompt = await bot.tap(USER, card.button("🆘"))
        assert "this order" in prompt.text
        await bot.process(photo_update(bot, USER, "see the screenshot"))
        admin_card = bot.request.sent(ADMIN)[-1]
        assert admin_card.method == "sendPhoto" and admin_card.params["photo"] == "shot"
        assert f"About order #{order.panel_order_id}" in admin_card.text
        assert "Last orders:" in admin_card.text and "see the screenshot" in admin_card.text
        # the other side unreachable: the message waits in the outbox, then arrives
        posted = await bot.state.support.write(Actor(OTHER), "U3", "text", "hello?")
        bot.request.fail_with["sendMessage"] = [BAD_GATEWAY]
        await bot.state.tracker.deliver(bot.app.bot)
        assert f"New ticket #{posted.ticket.id}" not in bot.request.sent(ADMIN)[-1].text
        await bot.state.tracker.deliver(bot.app.bot)
        assert f"New ticket #{posted.ticket.id}" in bot.request.sent(ADMIN)[-1].text
        assert await bot.store.outbox.count() == 0


async def test_the_new_screens_speak_indonesian(tmp_path: Path) -> None:
    async with Harness(tmp_path, **GROWTH) as bot:
        await bot.say(ADMIN, "/language")
        await bot.tap(ADMIN, cb.SET_LANGUAGE("id"))
        menu = await bot.say(USER, "/start", language="id")
        assert "🆘 Dukungan" in [text for text, _ in menu.buttons]
        prompt = await bot.tap(USER, menu.button("🆘"), language="id")
        assert "<b>Dukungan</b>" in prompt.text
        opened = await bot.say(USER, "Tolong", language="id")
        assert "Tiket #1 dibuka" in opened.text
        assert "Tiket baru #1" in bot.request.sent(ADMIN)[-1].text  # the admin's language
        screen = await bot.say(USER, "/referrals", language="id")
        assert "<b>Referral</b>" in screen.text and "Anda mengajak 0 pelanggan." in screen.text
        codes = await bot.say(ADMIN, "/promo add HEMAT order 5%", language="id")
        assert "Kode HEMAT dibuat." in codes.text
        prompt = await bot.say(ADMIN, "/broadcast", language="id")
        assert "<b>Siaran</b>" in prompt.text


async def test_a_code_gone_between_summary_and_confirm_takes_nothing_and_asks_again(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await bot.say(ADMIN, "/promo add LAST order 5000")
        await credit(bot, USER, 100_000)
        await summary_of(bot, 1000)
        discounted = await bot.say(USER, "last")
        assert "Price: <b>IDR13,750</b>" in discounted.text
        await bot.say(ADMIN, "/promo off LAST")  # gone meanwhile (used up, expired, off)
        again = await bot.tap(USER, discounted.button("✅"))
        assert "The price changed since the summary" in again.text
        assert "no longer applies" in again.text and "Price: <b>IDR18,750</b>" in again.text
        assert await wallet_of(bot) == Decimal(100_000) and bot.sandbox.calls["add"] == 0
        placed = await bot.tap(USER, again.button("✅"))
        assert "Order placed" in placed.text
        assert await wallet_of(bot) == Decimal(100_000 - 18_750)
