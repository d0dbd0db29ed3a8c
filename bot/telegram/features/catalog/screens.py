"""The catalog's screens: a service as a button and as its card, a category's name."""

from __future__ import annotations

from bot.core.api import Service
from bot.core.order_types import order_type_of
from bot.telegram.i18n import Translator
from bot.telegram.render.services import category_name, per_thousand
from bot.telegram.render.text import escape, shorten

BUTTON_TEXT = 64


def service_button(t: Translator, service: Service, currency: str) -> str:
    """Button text is shown as is (no parse mode), so it is shortened, not escaped."""
    price = per_thousand(t, service, currency)
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
