"""Messages in HTML parse mode. Every string from the panel or the user passes `escape`."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import Order, Outcome
from bot.i18n import Translator
from bot.ordering import Quote
from bot.panel.models import OrderState, Service
from bot.panel.ordertypes import order_type_of
from bot.ui import callback as cb
from bot.ui.text import (
    choice_label,
    escape,
    field_label,
    order_state_text,
    refill_state_text,
    shorten,
)

BUTTON_TEXT = 60
SHOWN_LINES = 5
SHOWN_CHARS = 300


def category_name(t: Translator, name: str) -> str:
    return name or t._("Other")


def per_thousand(t: Translator, service: Service, currency: str) -> str:
    if order_type_of(service).package:
        return t._("{price} per package").format(price=t.money(service.rate, currency))
    return t._("{price} per 1000").format(price=t.money(service.rate, currency))


def service_button(t: Translator, service: Service, currency: str) -> str:
    """Button text is shown as is (no parse mode), so it is shortened, not escaped."""
    price = t.money(service.rate, currency)
    return f"{shorten(service.name, BUTTON_TEXT - len(price) - 3)} · {price}"


def service_card(t: Translator, service: Service, currency: str, category: str) -> str:
    yes, no = t._("yes"), t._("no")
    lines = [
        f"<b>{escape(service.name)}</b>",
        "",
        t._("Service ID: {id}").format(id=service.id),
        t._("Category: {category}").format(category=escape(category_name(t, category))),
        t._("Type: {type}").format(type=escape(service.type_raw)),
        t._("Price: {price}").format(price=per_thousand(t, service, currency)),
    ]
    if not order_type_of(service).package:
        lines.append(
            t._("Quantity: {min} to {max}").format(
                min=t.number(service.min), max=t.number(service.max)
            )
        )
    lines.append(t._("Refill: {answer}").format(answer=yes if service.refill else no))
    lines.append(t._("Cancel: {answer}").format(answer=yes if service.cancel else no))
    if service.desc:
        lines += ["", escape(shorten(service.desc, 1000))]
    return "\n".join(lines)


def field_value(t: Translator, name: str, value: str) -> str:
    """An answer as shown back: long lists cut to a few lines, always escaped."""
    if name in ("device", "type_of_traffic", "delay"):
        return escape(choice_label(t, name, value))
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


def summary(t: Translator, offer: Quote, currency: str, balance: Decimal | None) -> str:
    lines = [
        t._("<b>Check your order</b>"),
        "",
        t._("Service: {name}").format(name=escape(shorten(offer.service.name, 200))),
        *fields_block(t, offer.fields),
    ]
    if offer.quantity is not None and "quantity" not in offer.fields:
        lines.append(t._("Quantity: {n}").format(n=t.number(offer.quantity)))
    lines += ["", t._("Price: <b>{price}</b>").format(price=t.money(offer.price, currency))]
    if balance is not None:
        lines.append(t._("Balance: {balance}").format(balance=t.money(balance, currency)))
        if balance < offer.price:
            lines += ["", t._("⚠️ Your balance is too low for this order.")]
    return "\n".join(lines)


def remains_text(t: Translator, remains: int) -> str:
    """What is left to deliver; a negative remainder is the panel's over-delivery."""
    if remains < 0:
        return t._("Over-delivered: {n} more than ordered").format(n=t.number(-remains))
    return t._("Remains: {n}").format(n=t.number(remains))


def progress_bar(quantity: int | None, remains: int | None, width: int = 10) -> str | None:
    if not quantity or remains is None:
        return None
    done = max(0, min(quantity, quantity - remains))
    filled = round(width * done / quantity)
    return "▓" * filled + "░" * (width - filled) + f" {100 * done // quantity}%"


def order_card(t: Translator, order: Order) -> str:
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
        *fields_block(t, order.fields),
    ]
    if order.quantity is not None and "quantity" not in order.fields:
        lines.append(t._("Quantity: {n}").format(n=t.number(order.quantity)))
    charge = order.charge if order.charge is not None else order.price
    lines.append(t._("Charge: {amount}").format(amount=t.money(charge, order.currency)))
    if order.outcome is Outcome.PLACED:
        lines.append(
            t._("Status: {status}").format(status=escape(order_state_text(t, order.status)))
        )
        if order.start_count is not None:
            lines.append(t._("Start count: {n}").format(n=t.number(order.start_count)))
        if order.remains is not None:
            lines.append(remains_text(t, order.remains))
        bar = progress_bar(order.quantity, order.remains)
        if bar:
            lines.append(bar)
    elif order.outcome is Outcome.UNKNOWN:
        lines.append(t._("Status: outcome unknown — check the panel before ordering again"))
        lines.append(found_hint(t, order.id))
    elif order.outcome is Outcome.SUBMITTING:
        lines.append(t._("Status: being placed…"))
    else:
        lines.append(t._("Status: not placed"))
    return "\n".join(lines)


def found_hint(t: Translator, number: int) -> str:
    return t._(
        "Found it on the panel? Send /found {n} followed by its order id, and it is followed "
        "from then on."
    ).format(n=number)


def notice_text(t: Translator, kind: str, payload: dict[str, Any]) -> str:
    """A notification from the outbox, in the recipient's language."""
    if kind == "order":
        lines = [
            t._("📦 <b>Order {id}</b> — {service}").format(
                id=payload["panel_id"], service=escape(shorten(payload["service"], 120))
            ),
            f"{escape(order_state_text(t, payload['old']))} → "
            f"<b>{escape(order_state_text(t, payload['new']))}</b>",
        ]
        bar = progress_bar(payload.get("quantity"), payload.get("remains"))
        if bar:
            lines.append(bar)
        if OrderState.parse(payload["new"] or "") is OrderState.PARTIAL and payload.get("remains"):
            lines.append(t._("Not delivered: {n}").format(n=t.number(payload["remains"])))
        if payload.get("charge"):
            lines.append(
                t._("Charge: {amount}").format(
                    amount=t.money(Decimal(payload["charge"]), payload.get("currency") or "")
                )
            )
        return "\n".join(lines)
    if kind == "interrupted":
        return (
            t._(
                "⚠️ Your order of {service} ({link}) was interrupted by a restart of the bot: "
                "it may or may not have been placed on the panel. Check the panel before "
                "ordering again."
            ).format(
                service=escape(shorten(payload["service"], 120)),
                link=escape(shorten(payload.get("link") or "—", 80)),
            )
            + "\n"
            + found_hint(t, payload["order"])
        )
    if kind == "refill":
        return t._("♻️ Refill {refill} of order {id}: {old} → <b>{new}</b>").format(
            refill=payload["refill"],
            id=payload["panel_id"],
            old=escape(refill_state_text(t, payload["old"])),
            new=escape(refill_state_text(t, payload["new"])),
        )
    if kind == "panel_down":
        return t._(
            "⚠️ The panel has been unreachable since {since}. Order tracking is paused "
            "and resumes by itself."
        ).format(since=t.datetime(datetime.fromtimestamp(payload["since"], tz=UTC)))
    if kind == "storage_lost":
        return t._(
            "⚠️ The database file {path} was removed or replaced while the bot runs. New "
            "orders are refused. Restart the bot (restore a backup over it first if needed)."
        ).format(path=escape(payload.get("path", "")))
    if kind == "bad_key":
        return t._(
            "⚠️ The panel refuses the bot's API key: “{message}”. Order tracking is paused "
            "until PANEL_KEY is right."
        ).format(message=escape(shorten(str(payload.get("message", "")), 200)))
    if kind == "panel_up":
        return t._("✅ The panel is reachable again. Order tracking has resumed.")
    if kind == "low_balance":
        return t._("⚠️ The panel balance is low: {balance} (alert below {threshold}).").format(
            balance=t.money(Decimal(payload["balance"]), payload["currency"]),
            threshold=t.money(Decimal(payload["threshold"]), payload["currency"]),
        )
    return escape(kind)


def notice_keyboard(
    t: Translator, kind: str, payload: dict[str, Any]
) -> InlineKeyboardMarkup | None:
    if kind in ("order", "interrupted"):
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t._("Open the order"), callback_data=cb.ORDER(payload["order"])
                    )
                ]
            ]
        )
    return None
