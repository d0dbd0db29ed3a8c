"""Referrals without Telegram: each customer's link, a new user linked to who brought them
(once, never to themselves, never changed), and the referrer's share of what that user spends.

The share of an order is REFERRAL_PERCENT (as it was when the order was paid) of what the
order was paid from the wallet less what came back to it, rounded down to the currency's
unit; it is due once the order is placed (none while its outcome is unknown, none for an
order never placed), and every change of the order's money settles it again in the same
transaction (`reshare`): a partial or canceled order takes back the share of what it
refunded. Paid shares are `REFERRAL` entries, shares taken back `REFERRAL_BACK` entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from bot.core.money import currency_unit, round_down
from bot.core.ports import Clock, Store, Transaction
from bot.core.records import EntryKind, Outcome

START_PREFIX = "ref_"
"""A referral link's start parameter: `ref_<code>`."""
CODE = re.compile(r"^[A-Za-z0-9]{6,16}$")


def share_due(paid: Decimal | None, refunded: Decimal, percent: Decimal, unit: Decimal) -> Decimal:
    """The share of an order paid `paid` of which `refunded` came back: the percent of what
    it kept, rounded down to the unit (never below zero)."""
    if paid is None or percent <= 0:
        return Decimal(0)
    return max(Decimal(0), round_down((paid - refunded) * percent / 100, unit))


async def reshare(tx: Transaction, order_id: int) -> Decimal:
    """Settle the referrer's share of an order after a change of its outcome or its money,
    inside the transaction of that change. Returns what moved (signed; 0: nothing)."""
    share = await tx.referrals.share(order_id)
    if share is None:
        return Decimal(0)
    order = await tx.orders.get(order_id)
    if order is None:
        return Decimal(0)
    due = Decimal(0)
    if order.outcome is Outcome.PLACED:
        due = share_due(order.paid, order.refunded, share.percent, currency_unit(order.currency))
    delta = due - share.paid
    if delta:
        kind = EntryKind.REFERRAL if delta > 0 else EntryKind.REFERRAL_BACK
        await tx.wallets.post(share.referrer_id, delta, kind, order_id=order_id)
        await tx.referrals.set_paid(order_id, due)
    return delta


class NotLinked(StrEnum):
    UNKNOWN_CODE = "unknown_code"
    SELF = "self"
    ALREADY = "already"
    """Linked to someone already (never changed)."""
    NOT_NEW = "not_new"
    """They ordered before the link: not a user the referrer brought."""
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Linked:
    referrer_id: int


@dataclass(frozen=True, slots=True)
class ReferralSummary:
    code: str
    referred: int
    this_month: Decimal
    in_all: Decimal


def month_start(moment: float) -> float:
    day = datetime.fromtimestamp(moment, tz=UTC)
    return day.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


class ReferralProgram:
    def __init__(self, store: Store, percent: Decimal, admin_ids: frozenset[int], clock: Clock):
        self._store = store
        self.percent = percent
        self._admins = admin_ids
        self._clock = clock

    @property
    def on(self) -> bool:
        return self.percent > 0

    async def code_of(self, user_id: int) -> str:
        return await self._store.referrals.code_of(user_id)

    async def link(self, user_id: int, start: str) -> Linked | NotLinked:
        """The user opened a `ref_<code>` link: linked to its owner when they are new (never
        ordered, never linked), not its owner, and the owner not linked to them."""
        if not self.on:
            return NotLinked.OFF
        code = start.removeprefix(START_PREFIX)
        if not CODE.match(code):
            return NotLinked.UNKNOWN_CODE
        referrals = self._store.referrals
        owner = await referrals.owner_of(code)
        if owner is None:
            return NotLinked.UNKNOWN_CODE
        if owner == user_id or await referrals.referrer_of(owner) == user_id:
            return NotLinked.SELF
        if await referrals.referrer_of(user_id) is not None:
            return NotLinked.ALREADY
        if user_id in self._admins or await self._store.orders.has_orders(user_id):
            return NotLinked.NOT_NEW
        if not await referrals.link(user_id, owner):
            return NotLinked.ALREADY  # linked by another update meanwhile
        return Linked(owner)

    async def summary(self, user_id: int) -> ReferralSummary:
        referrals = self._store.referrals
        return ReferralSummary(
            code=await referrals.code_of(user_id),
            referred=await referrals.count_referred(user_id),
            this_month=await referrals.earned(user_id, month_start(self._clock())),
            in_all=await referrals.earned(user_id, 0.0),
        )
