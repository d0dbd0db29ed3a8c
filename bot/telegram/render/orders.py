"""Orders as every screen shows them: a card, a line of a list, the progress, the quantity of a
drip-feed. HTML parse mode: every string from the panel or the user passes `escape`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from telegram import InlineKeyboardMarkup

from bot.core.api import OrderState, ServiceType
from bot.core.money import panel_refund
from bot.core.my_orders import Card
from bot.core.records import Order, Outcome, Refill, RefillTerm, drip_runs
from bot.core.unknown_outcome import NotAttached
from bot.telegram.i18n import Translator
from bot.telegram.render.keyboards import order_keyboard
from bot.telegram.render.text import (
    choice_label,
    escape,
    field_label,
    order_state_text,
    refill_state_text,
    short_link,
    shorten,
)

NUMBER_FIELDS = frozenset({"quantity", "runs", "interval", "min", "max", "posts", "old_posts"})
"""Answers that are numbers, shown grouped the way the user's language groups them."""
SHOWN_LINES = 5
SHOWN_CHARS = 300


def field_value(t: Translator, name: str, value: str) -> str:
    """An answer as shown back: long lists cut to a few lines, always escaped."""
    if name in ("device", "type_of_traffic", "delay"):
        return escape(choice_label(t, name, value))
    if name in NUMBER_FIELDS and value.isdigit():
        return t.number(int(value))
    lines = value.splitlines()
    if len(lines) > 1:
        shown = [escape(shorten(line, 100)) for line in lines[:SHOWN_LINES]]
        if len(lines) > SHOWN_LINES:
            shown.append(
                t.n_(
                    "… and {n} more line", "… and {n} more lines", len(lines) - SHOWN_LINES
                ).format(n=t.number(len(lines) - SHOWN_LINES))
            )
        return "\n" + "\n".join(shown)
    return escape(shorten(value, SHOWN_CHARS))


def fields_block(t: Translator, fields: dict[str, str]) -> list[str]:
    return [
        f"{field_label(t, name)}: {field_value(t, name, value)}" for name, value in fields.items()
    ]


def remains_text(t: Translator, remains: int) -> str:
    """What is left to deliver; a negative remainder is the panel's over-delivery."""
    if remains < 0:
        return t._("Over-delivered: {n} more than ordered").format(n=t.number(-remains))
    return t._("Remains: {n}").format(n=t.number(remains))


def delivered_percent(quantity: int | None, remains: int | None) -> int | None:
    """How much of the order was delivered, in whole percent (None when not known)."""
    if not quantity or remains is None:
        return None
    return 100 * max(0, min(quantity, quantity - remains)) // quantity


def order_progress(
    quantity: int | None, remains: int | None, state: OrderState | None, service_type: str
) -> str | None:
    """The progress bar of an order, except while it is pending (nothing is delivered yet)
    and for subscriptions (whose remainder is not a delivery count): the card, the lists,
    /status and the notifications alike."""
    subscription = ServiceType.parse(service_type) is ServiceType.SUBSCRIPTIONS
    if state is OrderState.PENDING or subscription:
        return None
    return progress_bar(quantity, remains)


def progress_bar(quantity: int | None, remains: int | None, width: int = 10) -> str | None:
    percent = delivered_percent(quantity, remains)
    if percent is None:
        return None
    filled = round(width * percent / 100)
    return "▓" * filled + "░" * (width - filled) + f" {percent}%"


def quantity_text(t: Translator, quantity: int, runs: int | None) -> str:
    """An order's quantity in all; a drip-feed's as its runs make it (`500 × 5 runs = 2,500`)."""
    if not runs:
        return t.number(quantity)
    return t._("{each} × {runs} runs = {total}").format(
        each=t.number(quantity // runs), runs=t.number(runs), total=t.number(quantity)
    )


def order_card(t: Translator, order: Order, refill: Refill | None = None) -> str:
    """An order as its card shows it; `refill`: its latest refill, shown while under way
    and once finished."""
    if order.panel_order_id is not None:
        title = t._("<b>Order {id}</b>").format(id=order.panel_order_id)
    elif order.outcome is Outcome.UNKNOWN:
        title = t._("<b>Order (outcome unknown)</b>")
    elif order.outcome is Outcome.SUBMITTING:
        title = t._("<b>Order (being placed)</b>")
    else:
        title = t._("<b>Order (not placed)</b>")
    lines = [
        title,
        "",
        t._("Service: {name}").format(name=escape(shorten(order.service_name, 200))),
    ]
    runs = drip_runs(order.fields)
    for name, value in order.fields.items():
        if runs and name == "quantity" and order.quantity is not None:
            lines.append(t._("Quantity: {n}").format(n=quantity_text(t, order.quantity, runs)))
        elif not (runs and name == "runs"):
            lines += fields_block(t, {name: value})
    if order.quantity is not None and "quantity" not in order.fields:
        lines.append(t._("Quantity: {n}").format(n=t.number(order.quantity)))
    if order.paid is not None:  # from a wallet: what the user paid (the panel's is the cost)
        lines.append(t._("Paid: {amount}").format(amount=t.money(order.paid, order.currency)))
        if order.refunded:
            lines.append(
                t._("Refunded to your wallet: {amount}").format(
                    amount=t.money(order.refunded, order.currency)
                )
            )
    else:
        charge = order.charge if order.charge is not None else order.price
        lines.append(t._("Charge: {amount}").format(amount=t.money(charge, order.currency)))
        back = (
            panel_refund(order.price, order.charge, order.quantity, order.state, order.remains)
            if order.state is not None
            else Decimal(0)
        )
        if back:
            lines.append(
                t._("Refunded by the panel: {amount}").format(amount=t.money(back, order.currency))
            )
    if order.outcome is Outcome.PLACED:
        lines.append(
            t._("Status: {status}").format(status=escape(order_state_text(t, order.status)))
        )
        if order.start_count is not None:
            lines.append(t._("Start count: {n}").format(n=t.number(order.start_count)))
        if order.remains is not None:
            lines.append(remains_text(t, order.remains))
        bar = order_progress(order.quantity, order.remains, order.state, order.service_type)
        if bar:
            lines.append(bar)
        term = order.refill_term
        if term is not None:
            lines.append(refill_term_text(t, order, term))
        if refill is not None:
            lines.append(
                t._("♻️ Refill {id}: {status}").format(
                    id=refill.panel_refill_id,
                    status=escape(refill_state_text(t, refill.status or "Pending")),
                )
            )
        if order.cancel_requested_at is not None and not order.final:
            lines.append(t._("✖️ Cancellation requested"))
    elif order.outcome is Outcome.UNKNOWN and order.paid is not None:
        lines.append(t._("Status: outcome unknown — the operator checks it"))
    elif order.outcome is Outcome.UNKNOWN:
        lines.append(t._("Status: outcome unknown — check the panel before ordering again"))
        lines.append(found_hint(t, order.id))
    elif order.outcome is Outcome.SUBMITTING:
        lines.append(t._("Status: being placed…"))
    elif order.outcome is Outcome.NOT_PLACED:
        lines.append(t._("Status: marked as not placed (the panel has no such order)"))
    else:
        lines.append(t._("Status: not placed"))
    return "\n".join(lines)


def order_target(fields: dict[str, str]) -> str | None:
    """What an order is for, as the user knows it: its link, or its username."""
    return fields.get("link") or fields.get("username") or None


def order_line(t: Translator, order: Order) -> str:
    """An order in a list: number, state and progress, quantity (a drip-feed's as the card
    says it) and service, date and price, link."""
    if order.panel_order_id is not None:
        head = f"<b>#{order.panel_order_id}</b>"
    else:
        head = t._("<b>No number yet</b>")
    match order.outcome:
        case Outcome.PLACED:
            state = order_state_text(t, order.status)
            bar = order_progress(order.quantity, order.remains, order.state, order.service_type)
            if bar and OrderState.parse(order.status or "") is OrderState.IN_PROGRESS:
                state += " " + bar.rsplit(" ", 1)[-1]
        case Outcome.UNKNOWN:
            state = t._("outcome unknown")
        case _:
            state = t._("being placed")
    what = escape(shorten(order.service_name, 60))
    runs = drip_runs(order.fields)
    if order.quantity is not None and runs:
        what = f"{quantity_text(t, order.quantity, runs)} · {what}"
    elif order.quantity is not None:
        what = f"{t.number(order.quantity)} · {what}"
    when = t.datetime(datetime.fromtimestamp(order.created_at, tz=UTC))
    price = order.paid if order.paid is not None else order.price
    lines = [f"{head} · {escape(state)}", what, f"📅 {when} · {t.money(price, order.currency)}"]
    target = order_target(order.fields)
    if target:
        lines.append("🔗 " + escape(short_link(target)))
    return "\n".join(lines)


def refill_term_text(t: Translator, order: Order, term: RefillTerm) -> str:
    """The refill term the service's name states, as the card says it."""
    if term.days == 0:
        return t._("♻️ No refill for this service")
    if order.refill_until is None:
        return t._("♻️ Refill can be asked for the order's lifetime")
    until = datetime.fromtimestamp(order.refill_until, tz=UTC)
    return t._("♻️ Refill can be asked until {date}").format(date=t.datetime(until))


def not_attached_text(t: Translator, reason: NotAttached, number: int, panel_id: int) -> str:
    """Why the panel order `panel_id` was not attached to the bot's order `number`."""
    match reason:
        case NotAttached.NOT_WAITING:
            return t._("Order {n} is not waiting for a panel order id.").format(n=number)
        case NotAttached.OPERATOR_DECIDES:
            return t._(
                "Order {n} was paid from your wallet: the operator checks on the panel whether "
                "it was placed, and you are told here."
            ).format(n=number)
        case NotAttached.TAKEN:
            return t._("Order #{id} is already one of the bot's orders.").format(id=panel_id)
        case NotAttached.OLDER:
            return t._(
                "Order #{id} is older than order {n}, so it cannot be that order. Check the number."
            ).format(id=panel_id, n=number)
        case NotAttached.NOT_ON_PANEL:
            return t._("The panel does not know order #{id}. Check the number.").format(id=panel_id)
    return t._(
        "The panel charged more for order #{id} than order {n} costs, so it cannot be that "
        "order. Check the number."
    ).format(id=panel_id, n=number)


def found_hint(t: Translator, number: int) -> str:
    return t._(
        "Found it on the panel? Send /found {n} followed by its order id, and it is followed "
        "from then on."
    ).format(n=number)


def card_keyboard(t: Translator, card: Card) -> InlineKeyboardMarkup:
    """An order card's buttons: Refill and Cancel only where the order actions would send
    them (the checks the commands make)."""
    return order_keyboard(t, card.order, refill=card.can_refill, cancel=card.can_cancel)
