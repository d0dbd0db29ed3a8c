"""Walks through the real screens that several test modules take: place an order, deliver
it, open a service, confirm a summary, top up a shop wallet."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from telegram import Chat, Message, PhotoSize, Update

from bot.core.checkout import submit
from bot.core.drafts import OrderDraft, quote
from bot.telegram import callback as cb
from tests.harness import ADMIN, USER, Call, Harness

LINK = "https://instagram.com/p/abc"


async def place(bot: Harness, user_id: int, service_id: int = 1, quantity: int = 100) -> int:
    """An order placed through the bot's core, as the order flow does it."""
    index = await bot.catalog.get()
    draft = OrderDraft(service_id=service_id, values={"link": LINK, "quantity": str(quantity)})
    row, _ = await submit(
        bot.store,
        bot.panel,
        user_id=user_id,
        key=draft.key,
        offer=quote(draft, index.by_id[service_id]),
        currency="IDR",
        unsaved=bot.unsaved,
    )
    assert row.panel_order_id is not None
    return row.panel_order_id


async def delivered(
    bot: Harness, order_id: int, state: str = "Completed", remains: int = 0
) -> None:
    """The panel delivered the order, and the bot has seen it."""
    bot.sandbox.set_status(order_id, state, remains=remains)
    row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
    await bot.tracking.refresh(row)


async def open_service(bot: Harness, service_id: int) -> Call:
    """From the main menu: New order -> the service's category -> the service (its card
    above the first question)."""
    reply = await bot.say(USER, "/start")
    reply = await bot.tap(USER, reply.button("🛒"))
    index = await bot.catalog.get()
    service = index.by_id[service_id]
    category = next(c for c in index.categories if c.name == service.category)
    position = [c.key for c in index.categories].index(category.key)
    page = position // 8
    if page:
        reply = await bot.tap(USER, cb.CATEGORIES(page))
    reply = await bot.tap(USER, reply.button(category.name[:20]))
    spage = category.services.index(service) // 8
    if spage:
        reply = await bot.tap(USER, cb.CATEGORY(category.key, spage, 0))
    reply = await bot.tap(USER, cb.SERVICE(service_id))  # opens the order at once
    assert f"Service ID: {service_id}" in reply.text
    return reply


async def confirm(bot: Harness, summary: Call) -> Call:
    assert "Check your order" in summary.text
    return await bot.tap(USER, summary.button("✅"))


def last_add(bot: Harness) -> dict[str, str]:
    adds = [r for r in bot.sandbox.requests if r["action"] == "add"]
    assert adds, "no add call"
    return adds[-1]


SHOP = {
    "wallets": "on",
    "markup_percent": "25",
    "deposit_instructions": "Transfer to BCA 123456 a.n. Toko",
    "deposit_min": "10000",
}


async def credit(bot: Harness, user: int, amount: int) -> Call:
    return await bot.say(ADMIN, f"/credit {user} {amount} welcome")


async def summary_of(bot: Harness, quantity: int = 100, user: int = USER) -> Call:
    """Service 1 (Rp15.000 per 1000 on the panel) for `quantity`, up to its summary."""
    await bot.tap(user, cb.START_ORDER(1))
    await bot.say(user, LINK)
    return await bot.say(user, str(quantity))


def money_block(stats: str, period: str) -> dict[str, str]:
    """/stats' money of one period: label -> amount."""
    block = stats.split(f"<b>{period}</b>\n", 1)[1].split("\n\n", 1)[0]
    return dict(line.strip().rsplit(": ", 1) for line in block.splitlines())


async def wallet_of(bot: Harness, user: int = USER) -> Decimal:
    return (await bot.state.shop.wallet(user)).balance


async def summary_of_link(bot: Harness, link: str, quantity: int) -> Call:
    await bot.tap(USER, cb.START_ORDER(1))
    await bot.say(USER, link)
    return await bot.say(USER, str(quantity))


def photo_update(bot: Harness, user_id: int) -> Update:
    message = Message(
        message_id=9999,
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type=Chat.PRIVATE),
        from_user=bot._user(user_id, "en"),
        photo=(PhotoSize("file-small", "u1", 90, 90), PhotoSize("file-big", "u2", 800, 800)),
    )
    message.set_bot(bot.app.bot)
    update = Update(update_id=99999, message=message)
    update.set_bot(bot.app.bot)
    return update
