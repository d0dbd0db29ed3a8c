"""Automatic top-ups: the payments port and the rules that need no gateway.

A deposit (a top-up the customer asked for) is paid through one `Gateway`: the bot asks it
for an `Invoice`, then learns the outcome as `PaymentNews`, from a callback the gateway sends
or from asking it (`status`). What a gateway says is never the credit: the credit is the
deposit's own amount, and news of another amount or currency credits nothing (`matches`).

Money is `Decimal` everywhere; a gateway's number format (Tripay's integers, Midtrans's
"10000.00") is read by its adapter into a `Decimal`, so amounts compare exactly.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Set
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Protocol

MAX_CALLBACK_BYTES = 65536
"""A callback body larger than this is refused unread (every gateway's fits in a few KiB)."""

MERCHANT_REF_PREFIX = "DEP-"

UNIQUE_SUFFIXES = range(1, 1000)
"""What a gateway-free QRIS payment adds to the amount, in whole units of the currency, so
that the admin can tell open top-ups apart by the amount their bank app shows."""


class PaymentMethod(StrEnum):
    STARS = "stars"
    TRIPAY = "tripay"
    MIDTRANS = "midtrans"
    QRIS = "qris"
    """The operator's own static QRIS made dynamic for the amount: no gateway, an admin
    approves what their bank app shows."""
    MANUAL = "manual"
    """A receipt sent to the admins, as before automatic payments."""


class PaymentState(StrEnum):
    CREATING = "creating"
    """Recorded before the gateway is asked (the customer was shown nothing yet)."""
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    FAILED = "failed"
    """Cancelled, denied or failed at the gateway: nothing was paid."""
    REFUNDED = "refunded"
    """Paid, then given back by the gateway: a credit already made needs an admin's look."""


def merchant_ref(deposit_id: int) -> str:
    """The reference the bot gives a gateway for a deposit: one deposit, one reference, which
    everything the gateway says of the payment carries back (and Midtrans refuses a second
    charge under)."""
    return f"{MERCHANT_REF_PREFIX}{deposit_id}"


def deposit_of(reference: str) -> int | None:
    """The deposit a merchant reference names, or None when it is not one of the bot's."""
    number = reference.removeprefix(MERCHANT_REF_PREFIX)
    if not (number.isascii() and number.isdigit() and len(number) <= 18):
        return None
    return int(number) if merchant_ref(int(number)) == reference else None


@dataclass(frozen=True)
class PaymentRequest:
    deposit_id: int
    user_id: int
    amount: Decimal
    currency: str
    customer_name: str
    expires_in: float
    """Seconds the customer has to pay."""
    channel: str | None = None
    """The gateway's own code of the channel the customer chose (Tripay: `QRIS`, `BRIVA`…);
    None: the gateway's first channel."""

    @property
    def merchant_ref(self) -> str:
        return merchant_ref(self.deposit_id)


@dataclass(frozen=True)
class Invoice:
    """A payment a gateway opened for a deposit: what to show the customer."""

    method: PaymentMethod
    reference: str
    """The gateway's own reference of the payment (what `status` takes)."""
    merchant_ref: str
    amount: Decimal
    """The deposit's amount as the gateway took it, its fee aside."""
    currency: str
    qr_string: str | None
    """The text to draw as a QR (`bot.adapters.payments.qr.qr_png`)."""
    pay_url: str | None
    """A page of the gateway where the customer can pay."""
    expires_at: float
    """Unix time after which the gateway takes no payment."""
    instructions: tuple[str, ...] = ()
    """The gateway's own steps, as plain text lines (often in Indonesian)."""
    qr_url: str | None = None
    """An image of the QR served by the gateway."""
    pay_code: str | None = None
    """What the customer types in their bank app: a virtual account number, a pay code."""
    surcharge: Decimal = Decimal(0)
    """What the customer pays on top of `amount`: the gateway's fee when the operator has the
    customer pay it, or a gateway-free QRIS's unique suffix."""

    @property
    def to_pay(self) -> Decimal:
        """The amount the customer pays, and their bank app shows."""
        return self.amount + self.surcharge


@dataclass(frozen=True)
class PaymentNews:
    """What a gateway says of a payment, in a callback or when asked."""

    reference: str
    merchant_ref: str
    state: PaymentState
    amount: Decimal
    """The deposit's amount as the gateway says it was paid, its fee aside."""
    currency: str


@dataclass(frozen=True)
class StoredPayment:
    """A deposit's payment as the bot keeps it (`bot.core.ports.Payments`)."""

    id: int
    deposit_id: int
    user_id: int
    method: PaymentMethod
    channel: str | None
    reference: str | None
    """The gateway's reference (Stars: the `telegram_payment_charge_id`), once known."""
    state: PaymentState
    amount: Decimal
    """What the wallet gets: the deposit's amount."""
    currency: str
    to_pay: Decimal
    """What the customer pays (Stars: the number of Stars; QRIS: the amount with its suffix)."""
    qr_string: str | None
    pay_url: str | None
    pay_code: str | None
    expires_at: float
    next_poll_at: float | None
    created_at: float

    @property
    def merchant_ref(self) -> str:
        return merchant_ref(self.deposit_id)


class BadCallback(Exception):
    """A callback whose signature is wrong or whose body cannot be read: nothing in it may be
    believed. The message says why, never with a secret."""


class GatewayFailure(Exception):
    """A gateway call that gave nothing usable; `reason` is plain words for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GatewayRefused(GatewayFailure):
    """The gateway answered and said no; `words` are its own (cleaned and shortened)."""

    def __init__(self, gateway: str, words: str) -> None:
        super().__init__(f"{gateway} refused: {words}")
        self.words = words


class GatewayUnavailable(GatewayFailure):
    """No usable answer: the gateway is down, answered 5xx or garbage, or did not answer in
    time. After `create`, the customer was shown nothing to pay: a payment the gateway may
    have opened all the same expires unpaid."""


class Gateway(Protocol):
    method: PaymentMethod

    async def create(self, request: PaymentRequest) -> Invoice:
        """Open a payment for the deposit; raises `GatewayFailure`."""
        ...

    async def status(self, reference: str) -> PaymentNews:
        """Ask the gateway what became of a payment; raises `GatewayFailure`."""
        ...

    def read_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentNews:
        """The news of a callback, its signature checked first; raises `BadCallback`."""
        ...

    def callback_answer(self, ok: bool) -> tuple[int, bytes, str]:
        """The HTTP status, body and content type the gateway expects in answer to a callback
        (ok: taken; not ok: refused, which some gateways send again later)."""
        ...


def matches(news: PaymentNews, expected_amount: Decimal, expected_currency: str) -> bool:
    """Whether news is of the deposit's exact amount and currency: a payment of anything else
    credits nothing, whatever the gateway claims."""
    return (
        news.amount.is_finite()
        and news.amount == expected_amount
        and news.currency.upper() == expected_currency.upper()
    )


class NoUniqueAmount(Exception):
    """Every amount + 1…999 is already an open top-up's: the customer must wait or use
    another method."""


def unique_amount(amount: Decimal, taken: Set[Decimal], rng: random.Random) -> Decimal:
    """The amount plus a suffix of 1…999 whole units that no open top-up has (`taken`: the
    amounts to pay of the open gateway-free QRIS top-ups)."""
    free = [amount + suffix for suffix in UNIQUE_SUFFIXES if amount + suffix not in taken]
    if not free:
        raise NoUniqueAmount(f"all {len(UNIQUE_SUFFIXES)} amounts after {amount} are taken")
    return rng.choice(free)


def stars_for(amount: Decimal, rate: Decimal) -> int:
    """Telegram Stars that pay for a wallet amount at `rate` wallet units a Star: rounded up,
    so the wallet never gets more than was paid, and at least one."""
    if rate <= 0:
        raise ValueError("the Stars rate must be more than zero")
    return max(1, int((amount / rate).to_integral_value(rounding=ROUND_CEILING)))


def amount_for(stars: int, rate: Decimal) -> Decimal:
    """The wallet amount that a number of Stars buys at `rate` wallet units a Star."""
    return stars * rate
