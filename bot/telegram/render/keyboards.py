"""Inline keyboards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.drafts import OrderDraft
from bot.core.money import currency_unit
from bot.core.my_orders import fingerprint
from bot.core.records import Order, OrderFilter, Outcome
from bot.telegram import callback as cb
from bot.telegram.i18n import Translator
from bot.telegram.render.text import field_label, shorten

PAGE_SIZE = 8

Button = InlineKeyboardButton


def pages(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def clamp_page(page: int, total: int, size: int = PAGE_SIZE) -> int:
    return min(max(page, 0), pages(total, size) - 1)


def pager(t: Translator, page: int, total: int, make: Callable[[int], str]) -> list[Button]:
    """Previous / "page n of m" / next, for a list of `total` items."""
    count = pages(total)
    if count <= 1:
        return []
    row = []
    if page > 0:
        row.append(Button("◀️", callback_data=make(page - 1)))
    row.append(Button(t._("Page {n} of {m}").format(n=page + 1, m=count), callback_data=make(page)))
    if page < count - 1:
        row.append(Button("▶️", callback_data=make(page + 1)))
    return row


CONTINUE_NAME = 34
"""How much of the service's name the Continue button shows."""


def continue_label(t: Translator, draft: OrderDraft | None) -> str:
    """The Continue button, naming the order it continues and what it waits for."""
    if draft is None or not draft.service_name:
        return t._("▶️ Continue the order")
    name = shorten(draft.service_name, CONTINUE_NAME)
    if draft.waiting_for:
        return t._("▶️ Continue: {service} ({field} left)").format(
            service=name, field=field_label(t, draft.waiting_for).lower()
        )
    return t._("▶️ Continue: {service} (to confirm)").format(service=name)


def main_menu(
    t: Translator,
    *,
    resume: bool = False,
    draft: OrderDraft | None = None,
    shortcuts: Sequence[Button] = (),
) -> InlineKeyboardMarkup:
    """The main menu; `resume` or `draft`: with a button to continue the order left
    half-filled (named after `draft`); `shortcuts`: services to order in one tap."""
    first = []
    if resume or draft is not None:
        first = [[Button(continue_label(t, draft), callback_data=cb.RESUME())]]
    return InlineKeyboardMarkup(
        [
            *first,
            *([button] for button in shortcuts),
            [
                Button(t._("🛒 New order"), callback_data=cb.NEW_ORDER()),
                Button(t._("📋 Mass order"), callback_data=cb.MASS()),
            ],
            [
                Button(t._("📦 My orders"), callback_data=cb.ORDERS(0, OrderFilter.ACTIVE, 0)),
                Button(t._("💰 Balance"), callback_data=cb.BALANCE()),
            ],
            [
                Button(t._("🌐 Language"), callback_data=cb.LANGUAGES()),
                Button(t._("❓ Help"), callback_data=cb.HELP()),
            ],
            [Button(t._("🆘 Support"), callback_data=cb.SUPPORT())],
        ]
    )


def wallet_keyboard(t: Translator, top_up: bool, referrals: bool = False) -> InlineKeyboardMarkup:
    """Under a wallet's figures: Top up (when deposits are taken), Referrals (when there is a
    referral program) and the menu."""
    first = [Button(t._("➕ Top up"), callback_data=cb.TOP_UP())] if top_up else []
    second = [Button(t._("🤝 Referrals"), callback_data=cb.REFERRALS())] if referrals else []
    return markup([first, second, [menu_button(t)]])


def top_up_button(t: Translator, amount: Decimal, currency: str) -> Button:
    """A top-up of exactly this amount (what an order misses, say)."""
    minor = int(amount / currency_unit(currency))
    return Button(
        t._("➕ Top up {amount}").format(amount=t.money(amount, currency)),
        callback_data=cb.TOP_UP_AMOUNT(minor),
    )


def menu_button(t: Translator) -> Button:
    return Button(t._("🏠 Menu"), callback_data=cb.MENU())


def markup(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in rows if row])


def order_keyboard(
    t: Translator, order: Order, *, refill: bool = False, cancel: bool = False
) -> InlineKeyboardMarkup:
    """An order card's buttons: Refresh for a placed order, with Refill and Cancel when the
    order actions would send them (`refill`, `cancel`); "not placed" for one of unknown
    outcome."""
    first = []
    if order.panel_order_id is not None:
        seen = cb.REFRESH_SEEN(order.id, fingerprint(order))
        first.append(Button(t._("🔄 Refresh"), callback_data=seen))
        if refill:
            first.append(Button(t._("♻️ Refill"), callback_data=cb.REFILL_ASK(order.id)))
        if cancel:
            first.append(Button(t._("✖️ Cancel order"), callback_data=cb.CANCEL_ASK(order.id)))
    elif order.outcome is Outcome.UNKNOWN and order.paid is None:  # paid: the admins decide
        first.append(Button(t._("🚫 It was not placed"), callback_data=cb.NOT_PLACED_ASK(order.id)))
    again = []
    if order.outcome in (Outcome.PLACED, Outcome.NOT_PLACED):  # never beside a maybe-order
        again.append(Button(t._("🔁 Order again"), callback_data=cb.ORDER_AGAIN(order.id)))
    again.append(Button(t._("🆘 Ask about it"), callback_data=cb.SUPPORT_ORDER(order.id)))
    return markup(
        [
            first,
            again,
            [
                Button(t._("📦 My orders"), callback_data=cb.ORDERS(0, OrderFilter.ALL, 0)),
                menu_button(t),
            ],
        ]
    )
