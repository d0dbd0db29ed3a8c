"""Promo codes without Telegram: an admin's code (a bonus on a top-up, or a discount on an
order; a percent or an amount; a minimum, an expiry, a total limit and a limit per user), and
its use, checked and counted inside the transaction of the top-up or the order it is for, so
that codes used by many customers at the same moment never go over their limits (the store
writes one transaction at a time).

A top-up's code is held with the top-up when it is opened (counted against the limits) and
gives its bonus, one `PROMO_BONUS` entry, in the transaction that approves it; a rejected
top-up frees it. An order's discount is one `PROMO_DISCOUNT` entry beside its debit (of the
full price), and the order keeps what the wallet paid in all: refunds give back at most that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from bot.core.money import round_down
from bot.core.ports import Clock, Store, Transaction
from bot.core.records import PromoCode, PromoKind

CODE = re.compile(r"^[A-Z0-9_-]{3,32}$")
MAX_PERCENT = Decimal(100)


class PromoRefusal(StrEnum):
    UNKNOWN = "unknown"
    """No such code (or switched off)."""
    EXPIRED = "expired"
    USED_UP = "used_up"
    """Its total limit is reached."""
    USED_BY_YOU = "used_by_you"
    """The user's own limit is reached."""
    BELOW_MINIMUM = "below_minimum"
    OTHER_KIND = "other_kind"
    """A top-up's code at an order, or an order's at a top-up."""
    NOTHING = "nothing"
    """It would take nothing off (a discount cannot make an order free)."""


class PromoChanged(Exception):
    """The code no longer gives what the summary showed (its limit was reached meanwhile):
    nothing is written, the user is asked again."""


@dataclass(frozen=True, slots=True)
class Applied:
    promo: PromoCode
    benefit: Decimal


def normal(code: str) -> str:
    return code.strip().upper()


def benefit_of(promo: PromoCode, amount: Decimal, unit: Decimal) -> Decimal:
    """The bonus on a top-up of `amount`, or the discount on an order of that price, in whole
    units; a discount leaves at least one unit to pay."""
    if promo.percent is not None:
        value = round_down(amount * promo.percent / 100, unit)
    else:
        value = round_down(promo.amount or Decimal(0), unit)
    if promo.kind is PromoKind.ORDER:
        value = min(value, amount - unit)
    return max(Decimal(0), value)


def refusal(
    promo: PromoCode | None,
    kind: PromoKind,
    amount: Decimal,
    now: float,
    used_by_user: int,
) -> PromoRefusal | None:
    """Why this code does not apply to this amount for this user now, if it does not."""
    if promo is None or not promo.active:
        return PromoRefusal.UNKNOWN
    if promo.kind is not kind:
        return PromoRefusal.OTHER_KIND
    if promo.expires_at is not None and now >= promo.expires_at:
        return PromoRefusal.EXPIRED
    if promo.total_limit is not None and promo.uses >= promo.total_limit:
        return PromoRefusal.USED_UP
    if promo.per_user is not None and used_by_user >= promo.per_user:
        return PromoRefusal.USED_BY_YOU
    if amount < promo.minimum:
        return PromoRefusal.BELOW_MINIMUM
    return None


async def check(
    repo: Transaction | Store,
    code: str,
    user_id: int,
    kind: PromoKind,
    amount: Decimal,
    unit: Decimal,
    now: float,
) -> Applied | PromoRefusal:
    """What the code gives on this amount, read (not used)."""
    promos = repo.promos
    promo = await promos.by_code(normal(code))
    used = await promos.uses_by(promo.id, user_id) if promo is not None else 0
    why = refusal(promo, kind, amount, now, used)
    if why is not None:
        return why
    assert promo is not None
    value = benefit_of(promo, amount, unit)
    if value <= 0:
        return PromoRefusal.NOTHING
    return Applied(promo, value)


async def use(
    tx: Transaction,
    code: str,
    user_id: int,
    kind: PromoKind,
    amount: Decimal,
    unit: Decimal,
    now: float,
    *,
    order_id: int | None = None,
    deposit_id: int | None = None,
) -> Applied | PromoRefusal:
    """Check and count one use of the code, inside the transaction of what it is for."""
    applied = await check(tx, code, user_id, kind, amount, unit, now)
    if isinstance(applied, Applied):
        await tx.promos.use(
            applied.promo.id, user_id, applied.benefit, order_id=order_id, deposit_id=deposit_id
        )
    return applied


# -- an admin's /promo ---------------------------------------------------------------------------


class BadPromo(StrEnum):
    CODE = "code"
    KIND = "kind"
    VALUE = "value"
    OPTION = "option"
    TAKEN = "taken"


def parse_new(words: list[str], admin_id: int, unit: Decimal) -> PromoCode | BadPromo:
    """`CODE topup|order 10%|5000 [min=N] [until=YYYY-MM-DD] [limit=N] [per_user=N]`."""
    if len(words) < 3:
        return BadPromo.VALUE
    code, kind_word, value = normal(words[0]), words[1].lower(), words[2]
    if not CODE.match(code):
        return BadPromo.CODE
    kinds = {"topup": PromoKind.TOP_UP, "top_up": PromoKind.TOP_UP, "order": PromoKind.ORDER}
    if kind_word not in kinds:
        return BadPromo.KIND
    percent = amount = None
    try:
        if value.endswith("%"):
            percent = Decimal(value[:-1])
            if not (0 < percent <= MAX_PERCENT):
                return BadPromo.VALUE
        else:
            amount = Decimal(value)
            if not amount > 0 or amount % unit:
                return BadPromo.VALUE
    except InvalidOperation:
        return BadPromo.VALUE
    promo = PromoCode(
        id=0,
        code=code,
        kind=kinds[kind_word],
        percent=percent,
        amount=amount,
        minimum=Decimal(0),
        expires_at=None,
        total_limit=None,
        per_user=None,
        created_by=admin_id,
    )
    for option in words[3:]:
        name, _, text = option.partition("=")
        try:
            match name.lower():
                case "min":
                    minimum = Decimal(text)
                    if minimum < 0 or not minimum.is_finite():
                        return BadPromo.OPTION
                    promo = replace(promo, minimum=minimum)
                case "until":
                    day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
                    promo = replace(promo, expires_at=day.timestamp() + 86_400)
                case "limit" if text.isdigit() and int(text) > 0:
                    promo = replace(promo, total_limit=int(text))
                case "per_user" if text.isdigit() and int(text) > 0:
                    promo = replace(promo, per_user=int(text))
                case _:
                    return BadPromo.OPTION
        except (InvalidOperation, ValueError):
            return BadPromo.OPTION
    return promo


class Promotions:
    """The admins' codes, and a customer's code checked before it is used."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(self, words: list[str], admin_id: int, unit: Decimal) -> PromoCode | BadPromo:
        promo = parse_new(words, admin_id, unit)
        if isinstance(promo, BadPromo):
            return promo
        created = await self._store.promos.create(promo)
        return created if created is not None else BadPromo.TAKEN

    async def listing(self) -> list[PromoCode]:
        return await self._store.promos.listing()

    async def offers(self, kind: PromoKind) -> bool:
        """Whether any code of this kind may be used now (customers are told they can type
        one)."""
        now = self._clock()
        return any(
            p.active and p.kind is kind and (p.expires_at is None or p.expires_at > now)
            for p in await self._store.promos.listing()
        )

    async def switch(self, code: str, active: bool) -> bool:
        return await self._store.promos.set_active(normal(code), active)

    async def check(
        self, code: str, user_id: int, kind: PromoKind, amount: Decimal, unit: Decimal
    ) -> Applied | PromoRefusal:
        return await check(self._store, code, user_id, kind, amount, unit, self._clock())
