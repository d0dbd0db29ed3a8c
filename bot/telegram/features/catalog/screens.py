"""The catalog's screens: a service as a button and as its card, a category's name."""

from __future__ import annotations

from bot.core.api import Service
from bot.core.order_types import order_type_of
from bot.core.records import stated_refill_term
from bot.telegram.i18n import Translator
from bot.telegram.render.services import category_name, per_thousand
from bot.telegram.render.text import escape, shorten

BUTTON_TEXT = 64


def compact_number(n: int) -> str:
    """100000 → 100K, 2500000 → 2.5M: a service's maximum on its button."""
    for size, unit in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if n >= size:
            whole, part = divmod(n * 10 // size, 10)
            return f"{whole}.{part}{unit}" if part and whole < 100 else f"{whole}{unit}"
    return str(n)


def refill_mark(service: Service) -> str:
    """The refill a service gives, short: ♻️30d (the term its name states), ♻️∞ (lifetime),
    ♻️ (refill, no term stated), nothing without refill."""
    term = stated_refill_term(service.name)
    if term is not None and term.days == 0:
        return ""
    if term is not None:
        return f"♻️{term.days}d" if term.days is not None else "♻️∞"
    return "♻️" if service.refill else ""


def service_button(t: Translator, service: Service, currency: str) -> str:
    """What tells services apart first (id, rate, refill, maximum), then the name.
    Button text is shown as is (no parse mode), so it is shortened, not escaped."""
    package = order_type_of(service).package
    money = t.money(service.rate, currency)
    rate = t._("{price}/pkg").format(price=money) if package else f"{money}/1K"
    parts = [f"#{service.id}", rate, refill_mark(service)]
    if not package:
        parts.append(t._("max {n}").format(n=compact_number(service.max)))
    head = " · ".join(p for p in parts if p)
    return f"{head} · {shorten(service.name, BUTTON_TEXT - len(head) - 3)}"


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
