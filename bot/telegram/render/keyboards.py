"""Inline keyboards."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.money import currency_unit
from bot.core.records import Order, OrderFilter, Outcome
from bot.telegram import callback as cb
from bot.telegram.i18n import Translator

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


def main_menu(t: Translator, *, resume: bool = False) -> InlineKeyboardMarkup:
    """The main menu; `resume`: with a button to continue the order left half-filled."""
    first = [[Button(t._("▶️ Continue the order"), callback_data=cb.RESUME())]] if resume else []
    return InlineKeyboardMarkup(
        [
            *first,
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
        first.append(Button(t._("🔄 Refresh"), callback_data=cb.REFRESH(order.id)))
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
