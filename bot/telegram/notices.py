"""Notices as their recipients read them, each by its type: the text, the photo it is shown
with, and its buttons; and their sending. Above the features' screens, whose words it
reuses, and below the jobs and the admin's feature that send them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.core.api import OrderState
from bot.core.notices import (
    BadKeyAlert,
    BroadcastReport,
    DepositCard,
    DepositDecided,
    Interrupted,
    LowBalance,
    Notice,
    OrderChanged,
    PanelDown,
    PanelShort,
    PanelUp,
    PaymentAlert,
    PaymentClosed,
    RefillChanged,
    StarsRefunded,
    StorageLostAlert,
    TicketCard,
    TicketClosed,
    TicketReply,
    UnknownPaid,
    UnknownResolved,
    WalletAdjusted,
)
from bot.core.records import OrderFilter
from bot.telegram import callback as cb
from bot.telegram.features.broadcasts.screens import done_keyboard, report_text
from bot.telegram.features.payments.screens import (
    payment_alert_text,
    payment_closed_text,
    stars_refunded_text,
)
from bot.telegram.features.support.screens import (
    answer_keyboard,
    ticket_card_keyboard,
    ticket_card_text,
    ticket_closed_text,
    ticket_reply_text,
)
from bot.telegram.features.wallet.screens import deposit_card, deposit_decided_text
from bot.telegram.i18n import Translator
from bot.telegram.render.keyboards import markup, menu_button
from bot.telegram.render.orders import delivered_percent, found_hint, order_progress, quantity_text
from bot.telegram.render.text import (
    escape,
    order_state_text,
    refill_state_text,
    short_link,
    shorten,
)

log = logging.getLogger(__name__)


def notice_text(t: Translator, notice: Notice) -> str:
    """A notice from the outbox, in the recipient's language."""
    match notice:
        case OrderChanged():
            return _order_changed(t, notice)
        case TicketCard():
            return ticket_card_text(t, notice)
        case TicketReply():
            return ticket_reply_text(t, notice)
        case TicketClosed():
            return ticket_closed_text(t, notice)
        case BroadcastReport():
            return report_text(t, notice)
        case Interrupted(wallet=True):
            return t._(
                "⚠️ Your order of {service} ({link}) was interrupted by a restart of the bot: it "
                "may or may not have been placed. The operator checks it; the money stays held "
                "until then, and comes back if it was not placed."
            ).format(
                service=escape(shorten(notice.service, 120)),
                link=escape(shorten(notice.link or "—", 80)),
            )
        case Interrupted():
            return (
                t._(
                    "⚠️ Your order of {service} ({link}) was interrupted by a restart of the bot: "
                    "it may or may not have been placed on the panel. Check the panel before "
                    "ordering again."
                ).format(
                    service=escape(shorten(notice.service, 120)),
                    link=escape(shorten(notice.link or "—", 80)),
                )
                + "\n"
                + found_hint(t, notice.order)
            )
        case RefillChanged():
            return t._("♻️ Refill {refill} of order {id}: {old} → <b>{new}</b>").format(
                refill=notice.refill,
                id=notice.panel_id,
                old=escape(refill_state_text(t, notice.old)),
                new=escape(refill_state_text(t, notice.new)),
            )
        case PanelDown():
            return t._(
                "⚠️ The panel has been unreachable since {since}. Order tracking is paused "
                "and resumes by itself."
            ).format(since=t.datetime(datetime.fromtimestamp(notice.since, tz=UTC)))
        case StorageLostAlert():
            return t._(
                "⚠️ The database file {path} was removed or replaced while the bot runs. New "
                "orders are refused. Restart the bot (restore a backup over it first if needed)."
            ).format(path=escape(notice.path))
        case BadKeyAlert():
            return t._(
                "⚠️ The panel refuses the bot's API key: “{message}”. Order tracking is paused "
                "until PANEL_KEY is right."
            ).format(message=escape(shorten(notice.message, 200)))
        case PanelUp():
            return t._("✅ The panel is reachable again. Order tracking has resumed.")
        case UnknownPaid():
            return t._(
                "⚠️ Order {order} of user {user} ({service}, {link}) was paid {paid} from the "
                "wallet, and its outcome is unknown. Look on the panel: was it placed?"
            ).format(
                order=notice.order,
                user=notice.user,
                service=escape(shorten(notice.service, 80)),
                link=escape(short_link(notice.link or "—")),
                paid=t.money(notice.paid, notice.currency),
            )
        case UnknownResolved():
            return _unknown_resolved(t, notice)
        case DepositCard():
            return deposit_card(t, notice)
        case DepositDecided():
            return deposit_decided_text(t, notice)
        case PaymentClosed():
            return payment_closed_text(t, notice)
        case StarsRefunded():
            return stars_refunded_text(t, notice)
        case PaymentAlert():
            return payment_alert_text(t, notice)
        case WalletAdjusted():
            return wallet_adjusted_text(t, notice)
        case PanelShort():
            return t._(
                "⚠️ The panel balance ({balance}) cannot pay for the customers' orders: they "
                "are refused until the panel balance is topped up."
            ).format(balance=t.money(notice.balance, notice.currency))
        case LowBalance():
            return t._("⚠️ The panel balance is low: {balance} (alert below {threshold}).").format(
                balance=t.money(notice.balance, notice.currency),
                threshold=t.money(notice.threshold, notice.currency),
            )
    return escape(notice.kind)


def _order_changed(t: Translator, notice: OrderChanged) -> str:
    """An order's change: which order (number, service, link, quantity), what changed in
    words, and what was not delivered when it ended short."""
    old_raw, new_raw = notice.old or "", notice.new or ""
    quantity, remains = notice.quantity, notice.remains
    new = OrderState.parse(new_raw)
    lines = [
        t._("📦 <b>Order {id}</b> — {service}").format(
            id=notice.panel_id, service=escape(shorten(notice.service, 120))
        )
    ]
    about = []
    if notice.link:
        about.append("🔗 " + escape(short_link(notice.link)))
    if quantity:
        about.append(t._("quantity {n}").format(n=quantity_text(t, quantity, notice.runs)))
    if about:
        lines.append(" · ".join(about))
    bar = order_progress(quantity, remains, new, "")  # a notice does not carry the type
    percent = delivered_percent(quantity, remains)
    if new_raw == old_raw and bar is not None and percent is not None:  # only progress moved
        lines.append(t._("{percent} % delivered").format(percent=t.number(percent)))
    else:
        old_text, new_text = order_state_text(t, old_raw), order_state_text(t, new_raw)
        lines.append(f"{escape(old_text)} → <b>{escape(new_text)}</b>")
    if bar:
        lines.append(bar)
    if new in (OrderState.PARTIAL, OrderState.CANCELED, OrderState.REFUNDED) and quantity:
        short = quantity if remains is None else min(quantity, max(0, remains))
        if short and notice.wallet:  # the refund to the wallet is told below
            lines.append(
                t._("Not delivered: {n} of {total}.").format(
                    n=t.number(short), total=t.number(quantity)
                )
            )
        elif short and notice.panel_refund:
            lines.append(
                t._("Not delivered: {n} of {total}. The panel refunds {amount}.").format(
                    n=t.number(short),
                    total=t.number(quantity),
                    amount=t.money(notice.panel_refund, notice.currency),
                )
            )
        elif short:
            lines.append(
                t._(
                    "Not delivered: {n} of {total}. The panel refunds what was not delivered."
                ).format(n=t.number(short), total=t.number(quantity))
            )
    if notice.charge:
        lines.append(t._("Charge: {amount}").format(amount=t.money(notice.charge, notice.currency)))
    if notice.refund:
        lines.append(
            t._("💰 {amount} went back to your wallet.").format(
                amount=t.money(notice.refund, notice.currency)
            )
        )
    return "\n".join(lines)


def _unknown_resolved(t: Translator, notice: UnknownResolved) -> str:
    """An admin decided the customer's order of unknown outcome."""
    what = t._("{service} ({link})").format(
        service=escape(shorten(notice.service, 120)),
        link=escape(short_link(notice.link or "—")),
    )
    if notice.panel_id:
        text = t._("✅ Your order of {what} was placed after all: it is order {id}.").format(
            what=what, id=notice.panel_id
        )
    else:
        text = t._("Your order of {what} was not placed.").format(what=what)
    if notice.refund:
        text += "\n" + t._("💰 {amount} went back to your wallet.").format(
            amount=t.money(notice.refund, notice.currency)
        )
    return text


def wallet_adjusted_text(t: Translator, notice: WalletAdjusted) -> str:
    """The customer's wallet credited or debited by an admin, with the new balance."""
    amount = t.money(abs(notice.amount), notice.currency)
    balance = t.money(notice.balance, notice.currency)
    if notice.amount >= 0:
        text = t._("💰 The operator added {amount} to your wallet. Wallet: <b>{balance}</b>")
    else:
        text = t._("💰 The operator took {amount} from your wallet. Wallet: <b>{balance}</b>")
    text = text.format(amount=amount, balance=balance)
    if notice.note:
        text += "\n" + t._("Note: {note}").format(note=escape(shorten(notice.note, 200)))
    return text


def notice_photo(notice: Notice) -> str | None:
    """The photo a notice is shown with (a top-up's receipt), as Telegram's file id."""
    if isinstance(notice, DepositCard) and notice.proof_kind == "photo":
        return notice.proof or None
    if isinstance(notice, TicketCard | TicketReply) and notice.message_kind == "photo":
        return notice.body or None
    return None


def notice_keyboard(t: Translator, notice: Notice) -> InlineKeyboardMarkup:
    """A card to decide gets its decision's buttons; orders and refills a button that opens
    the order's card in a new message (the notice stays as it is); every other notice a way
    on (at least the menu), never a dead end."""
    match notice:
        case TicketCard():
            return ticket_card_keyboard(t, notice.ticket)
        case TicketReply():
            return answer_keyboard(t)
        case DepositCard():
            return InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            t._("✅ Approve"), callback_data=cb.DEPOSIT_APPROVE(notice.deposit)
                        ),
                        InlineKeyboardButton(
                            t._("❌ Reject"), callback_data=cb.DEPOSIT_REJECT(notice.deposit)
                        ),
                    ]
                ]
            )
        case PaymentClosed():
            button = InlineKeyboardButton(t._("➕ Top up"), callback_data=cb.TOP_UP())
            return InlineKeyboardMarkup([[button]])
        case UnknownPaid():
            placed = InlineKeyboardButton(
                t._("✅ It was placed"), callback_data=cb.UNKNOWN_PLACED(notice.order)
            )
            refund = InlineKeyboardButton(
                t._("↩️ Not placed: refund"), callback_data=cb.UNKNOWN_NOT_PLACED(notice.order)
            )
            return InlineKeyboardMarkup([[placed, refund]])
        case OrderChanged() | Interrupted() | RefillChanged() | UnknownResolved() if notice.order:
            button = InlineKeyboardButton(
                t._("Open the order"), callback_data=cb.OPEN_ORDER(notice.order)
            )
            return InlineKeyboardMarkup([[button]])
        case WalletAdjusted():
            balance = InlineKeyboardButton(t._("💰 Balance"), callback_data=cb.BALANCE())
            menu = InlineKeyboardButton(t._("🏠 Menu"), callback_data=cb.MENU())
            return InlineKeyboardMarkup([[balance, menu]])
        case DepositDecided():
            # A top-up credited (or not): a way on, not a dead end.
            first = (
                InlineKeyboardButton(t._("🛒 New order"), callback_data=cb.NEW_ORDER())
                if notice.approved
                else InlineKeyboardButton(t._("💰 Balance"), callback_data=cb.BALANCE())
            )
            menu = InlineKeyboardButton(t._("🏠 Menu"), callback_data=cb.MENU())
            return InlineKeyboardMarkup([[first, menu]])
        case OrderChanged() | Interrupted() | RefillChanged() | UnknownResolved():
            # No row id to open (an old outbox's notice): the user's orders instead.
            orders = InlineKeyboardButton(
                t._("📦 My orders"), callback_data=cb.ORDERS(0, OrderFilter.ALL, 0)
            )
            return markup([[orders, menu_button(t)]])
        case StarsRefunded():
            balance = InlineKeyboardButton(t._("💰 Balance"), callback_data=cb.BALANCE())
            return markup([[balance, menu_button(t)]])
        case TicketClosed():
            support = InlineKeyboardButton(t._("🆘 Support"), callback_data=cb.SUPPORT())
            return markup([[support, menu_button(t)]])
        case BroadcastReport():
            return done_keyboard(t)
    return markup([[menu_button(t)]])  # an admin's alert: read, then on to the menu


async def send_notice(bot: Bot, chat_id: int, notice: Notice, t: Translator) -> None:
    """One notice, with its photo when it has one; a photo Telegram will not show (expired,
    say) is replaced by the text alone, so the notice is never lost for its photo."""
    text = notice_text(t, notice)
    keyboard = notice_keyboard(t, notice)
    photo = notice_photo(notice)
    if photo is not None:
        try:
            await bot.send_photo(chat_id, photo, caption=text, reply_markup=keyboard)
            return
        except BadRequest as exc:
            log.info("a notice's photo was not sent (%s); its text is", exc)
            text += "\n\n" + t._("(The photo could not be shown.)")
    await bot.send_message(chat_id, text, reply_markup=keyboard)
