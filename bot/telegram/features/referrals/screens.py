"""/referrals: the customer's link, how many they brought, what they earned."""

from __future__ import annotations

from decimal import Decimal

from bot.core.referrals import ReferralSummary
from bot.telegram.i18n import Translator
from bot.telegram.render.text import escape


def referral_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start=ref_{code}"


def referrals_text(
    t: Translator, summary: ReferralSummary, link: str, percent: Decimal, currency: str
) -> str:
    return "\n".join(
        [
            t._("🤝 <b>Referrals</b>"),
            "",
            t._(
                "Share your link: you earn {percent} % of what the customers who join "
                "through it spend, in your wallet."
            ).format(percent=t.number(percent)),
            f"<code>{escape(link)}</code>",
            "",
            t.n_(
                "You brought {n} customer.", "You brought {n} customers.", summary.referred
            ).format(n=t.number(summary.referred)),
            t._("Earned this month: <b>{amount}</b>").format(
                amount=t.money(summary.this_month, currency)
            ),
            t._("Earned in all: <b>{amount}</b>").format(amount=t.money(summary.in_all, currency)),
        ]
    )


def welcome_referred(t: Translator) -> str:
    return t._("🤝 You joined through a friend's link: welcome!")
