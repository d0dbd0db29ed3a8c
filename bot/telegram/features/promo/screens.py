"""Promo codes as admins and customers read them."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.promo import BadPromo, PromoRefusal
from bot.core.records import PromoCode, PromoKind
from bot.telegram.i18n import Translator
from bot.telegram.render.text import escape


def refusal_text(t: Translator, refusal: PromoRefusal, code: str) -> str:
    """Why the code the customer typed does not apply (nothing was changed)."""
    shown = escape(code.strip().upper()[:32])
    match refusal:
        case PromoRefusal.EXPIRED:
            text = t._("The promo code {code} has expired.")
        case PromoRefusal.USED_UP:
            text = t._("The promo code {code} has been used up.")
        case PromoRefusal.USED_BY_YOU:
            text = t._("You have already used the promo code {code} as often as it allows.")
        case PromoRefusal.BELOW_MINIMUM:
            text = t._("The promo code {code} needs a larger amount.")
        case PromoRefusal.OTHER_KIND:
            text = t._("The promo code {code} is not for this: it is for a top-up or an order.")
        case PromoRefusal.NOTHING:
            text = t._("The promo code {code} takes nothing off this amount.")
        case _:
            text = t._("There is no promo code {code}. Check its spelling.")
    return "❌ " + text.format(code=shown)


def applied_line(t: Translator, code: str, amount: str) -> str:
    return t._("🎟 Promo code {code}: −{amount}").format(code=escape(code), amount=amount)


def promo_line(t: Translator, promo: PromoCode, currency: str) -> str:
    value = (
        f"{t.number(promo.percent)} %"
        if promo.percent is not None
        else t.money(promo.amount or 0, currency)  # type: ignore[arg-type]
    )
    kind = t._("top-up bonus") if promo.kind is PromoKind.TOP_UP else t._("order discount")
    parts = [f"<code>{escape(promo.code)}</code> — {kind} {value}"]
    if promo.minimum:
        parts.append(t._("min {amount}").format(amount=t.money(promo.minimum, currency)))
    if promo.expires_at is not None:
        day = datetime.fromtimestamp(promo.expires_at - 1, tz=UTC).strftime("%Y-%m-%d")
        parts.append(t._("until {day}").format(day=day))
    limit = "∞" if promo.total_limit is None else t.number(promo.total_limit)
    parts.append(t._("used {uses}/{limit}").format(uses=t.number(promo.uses), limit=limit))
    if promo.per_user is not None:
        parts.append(t._("{n} per user").format(n=t.number(promo.per_user)))
    if not promo.active:
        parts.append(t._("off"))
    return " · ".join(parts)


def usage_text(t: Translator) -> str:
    return t._(
        "Usage: /promo add &lt;CODE&gt; topup|order &lt;percent&gt;%|&lt;amount&gt; "
        "[min=&lt;amount&gt;] [until=YYYY-MM-DD] [limit=&lt;uses&gt;] [per_user=&lt;uses&gt;] · "
        "/promo off &lt;CODE&gt; · /promo on &lt;CODE&gt;"
    )


def bad_promo_text(t: Translator, bad: BadPromo) -> str:
    match bad:
        case BadPromo.CODE:
            return t._("A code is 3 to 32 letters, digits, _ or -.")
        case BadPromo.KIND:
            return t._("Say what the code is for: topup (a bonus) or order (a discount).")
        case BadPromo.TAKEN:
            return t._("That code exists already.")
        case BadPromo.OPTION:
            return t._(
                "An option is not understood: min=50000, until=2026-12-31, limit=100, per_user=1."
            )
    return t._("The value is a percent up to 100 (like 10%) or a whole amount above 0 (like 5000).")
