"""Numbers as people write them, read one way wherever the bot reads one: a quantity or an
amount typed in chat, and an amount in the settings.

Digits grouped by three after a dot, a comma, a space or an apostrophe are thousands:
`50.000` and `50,000` are fifty thousand, as Indonesians and English speakers write it. Failing
that, one dot or comma followed by one to five digits is a fraction: `12.5`, `12,50`; and after
thousands grouped by one of them, the other starts the fraction: `25.000,50`, `25,000.50`.
Anything else (`1e9`, `1.000.00`, `12.345.678,9.1`, `-5`, digits of other scripts) is no
number: what could be read two ways is not read.
"""

from __future__ import annotations

import re
from decimal import Decimal

_GROUPED_INT = re.compile(r"[1-9]\d{0,2}([.,\s']\d{3})+", re.ASCII)
_DECIMAL = re.compile(r"\d+([.,]\d{1,5})?", re.ASCII)
_GROUPED_FRACTION = re.compile(
    r"\d{1,3}(?P<group>[.,])\d{3}(?:(?P=group)\d{3})*(?P<point>[.,])\d{1,5}", re.ASCII
)


def parse_int(text: str) -> int | None:
    """A whole number as people type it: digits, or digits grouped by three (`1.000`,
    `1,000`, `1 000`)."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    if _GROUPED_INT.fullmatch(text):
        return int(re.sub(r"\D", "", text))
    return None


def parse_amount(text: str) -> Decimal | None:
    """An amount: a whole number as `parse_int` reads it, else digits with a fraction after one
    dot or comma, else grouped thousands with a fraction after the other; None when it is
    none of these."""
    text = text.strip()
    whole = parse_int(text)
    if whole is not None:
        return Decimal(whole)
    if _DECIMAL.fullmatch(text):
        return Decimal(text.replace(",", "."))
    grouped = _GROUPED_FRACTION.fullmatch(text)
    if grouped and grouped["group"] != grouped["point"]:
        return Decimal(text.replace(grouped["group"], "").replace(grouped["point"], "."))
    return None


MAX_TYPED = Decimal(10) ** 12
"""An amount typed in chat above this is a slip of the keyboard, not money."""


def typed_amount(text: str) -> Decimal | None:
    """An amount typed in chat, after `Rp` or `IDR` if any (`100.000` is a hundred thousand,
    `25.000,50` a fraction too); None if it is none, not positive, or absurdly large."""
    amount = parse_amount(text.strip().removeprefix("Rp").removeprefix("IDR"))
    return amount if amount is not None and 0 < amount <= MAX_TYPED else None
