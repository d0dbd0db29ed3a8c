"""Automatic top-ups: a deposit paid through Telegram Stars, a gateway (Tripay, Midtrans) or
the operator's own QRIS, and its wallet credit, exactly once.

Every path that can credit (a gateway's callback, a poll, the customer's Check, Telegram's
`successful_payment`) goes through one transaction that moves the payment to PAID only from
an open state and posts the deposit's own amount with it: a replayed callback, a callback after
a poll, a second delivery of an update or a restart in between find it paid and credit nothing
(the ledger's unique index on the deposit backs this). What a gateway says that credits
nothing (a bad signature, a reference the bot never gave, another amount or currency) alerts
the admins once, through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.core.actor import Actor
from bot.core.balance import PanelCurrency
from bot.core.notices import ADMINS, DepositDecided, PaymentAlert, PaymentClosed, StarsRefunded
from bot.core.payments import (
    BadCallback,
    Gateway,
    GatewayFailure,
    Invoice,
    NoUniqueAmount,
    PaymentMethod,
    PaymentNews,
    PaymentRequest,
    PaymentState,
    StoredPayment,
    deposit_of,
    matches,
    merchant_ref,
    stars_for,
)
from bot.core.ports import Clock, Store, Transaction
from bot.core.records import Deposit, DepositState, EntryKind
from bot.core.shop import Shop, TopUpRefusal

log = logging.getLogger(__name__)

EXPIRES_IN = 3600.0
"""Seconds a customer has to pay a top-up opened at a gateway or with Stars."""
FAST_POLL, FAST_FOR, SLOW_POLL = 10.0, 600.0, 60.0
"""Without callbacks: an open payment asked about every 10 s for its first 10 minutes, then
every minute until it expires."""
GRACE = 60.0
"""After its expiry, a payment the gateway still calls pending is closed this much later."""
GIVE_UP = 86400.0
"""A gateway that cannot be asked for a day after a payment's expiry: the payment is closed
(a PAID callback or check after that still credits it)."""
POLL_BATCH = 50
ALERT_AGAIN = 3600.0
"""Bad signatures alert the admins at most once an hour for each gateway."""
QRIS_OPEN_FOR = 86400.0
"""A gateway-free QRIS top-up keeps its amount to itself this long (or until decided)."""
STARS_CURRENCY = "XTR"
OPEN = (PaymentState.CREATING, PaymentState.PENDING, PaymentState.EXPIRED, PaymentState.FAILED)
"""The states from which a payment may still be credited: a gateway's PAID after the bot's
own expiry, or after it said the payment failed (or after the bot gave up opening it), is
money taken: it is credited, not dropped. Never from PAID (a replay) nor REFUNDED."""
ASK_AGAIN = (PaymentState.PENDING, PaymentState.EXPIRED)
"""The states in which a customer's Check asks the gateway: an expired payment too, which
the bot closed while the gateway still called it pending (a late QRIS settlement is found
by the customer's Check when no callback comes)."""


class Problem(StrEnum):
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_REFERENCE = "unknown_reference"
    WRONG_AMOUNT = "wrong_amount"
    """Another amount or another currency than the deposit's."""
    REFUNDED = "refunded"
    """Refunded at the gateway after its credit: the credit stays, an admin looks."""
    PAID_AGAIN = "paid_again"
    """Stars paid for a top-up already paid (or closed): the customer should get them back."""


class Settled(StrEnum):
    """What a piece of news did."""

    CREDITED = "credited"
    ALREADY = "already"
    """Known already: nothing changed (a replay, a poll after the callback)."""
    PENDING = "pending"
    CLOSED = "closed"
    UNKNOWN = "unknown"
    """Not a payment of the bot's: nothing changed, the admins alerted."""
    REFUSED = "refused"
    """Another amount or currency, or paid again: nothing credited, the admins alerted."""


@dataclass(frozen=True, slots=True)
class Choice:
    """A way to pay offered to the customer (a Tripay channel is one choice each)."""

    method: PaymentMethod
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentOpened:
    """A gateway's payment to show: its QR (as a PNG) or pay code, amount, expiry."""

    deposit_id: int
    payment: StoredPayment
    instructions: tuple[str, ...]
    qr_png: bytes | None


@dataclass(frozen=True, slots=True)
class StarsInvoice:
    deposit_id: int
    stars: int
    payload: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class QrisOpened:
    """A gateway-free QRIS for exactly `to_pay` (the amount asked plus its unique suffix),
    which the wallet gets once an admin sees it arrive."""

    deposit: Deposit
    asked: Decimal
    to_pay: Decimal
    qr_png: bytes


@dataclass(frozen=True, slots=True)
class ManualChosen:
    """The receipt flow of `Shop.open_deposit`."""


@dataclass(frozen=True, slots=True)
class GatewayDown:
    """Nothing was opened: the gateway is down or refused (`reason` in plain words, the
    gateway's own when it refused), or every unique QRIS amount is taken."""

    method: PaymentMethod
    reason: str


@dataclass(frozen=True, slots=True)
class NotOffered:
    """A way to pay the operator does not offer (a stale or forged button)."""


Started = (
    PaymentOpened
    | StarsInvoice
    | QrisOpened
    | ManualChosen
    | GatewayDown
    | NotOffered
    | TopUpRefusal
)


@dataclass(frozen=True, slots=True)
class Checked:
    payment: StoredPayment
    unavailable: str | None = None
    """The gateway could not be asked now (plain words)."""


class RefundRefusal(StrEnum):
    NOT_STARS = "not_stars"
    NOT_PAID = "not_paid"
    """Not credited (yet), or refunded already."""
    SPENT = "spent"
    """The wallet holds less than the top-up: its money was spent."""
    NOT_ADMIN = "not_admin"


@dataclass(frozen=True, slots=True)
class Refunded:
    deposit_id: int
    user_id: int
    stars: int
    amount: Decimal
    balance: Decimal


class TopUps:
    """The customers' automatic top-ups and what gateways say of them."""

    def __init__(
        self,
        store: Store,
        shop: Shop,
        currency: PanelCurrency,
        *,
        methods: Sequence[PaymentMethod],
        gateways: Mapping[PaymentMethod, Gateway],
        channels: Mapping[PaymentMethod, tuple[str, ...]] | None = None,
        stars_rate: Decimal | None = None,
        qris: Callable[[PaymentRequest, Set[Decimal]], Invoice] | None = None,
        qr_image: Callable[[str], bytes] | None = None,
        polling: bool = True,
        clock: Clock,
        expires_in: float = EXPIRES_IN,
    ) -> None:
        self._store = store
        self._shop = shop
        self._currency = currency
        self._methods = tuple(methods)
        self._gateways = dict(gateways)
        self._channels = dict(channels or {})
        self._stars_rate = stars_rate
        self._qris = qris
        self._qr_image = qr_image
        self._polling = polling
        self._clock = clock
        self._expires_in = expires_in

    # -- what is offered ----------------------------------------------------------------------

    @property
    def automatic(self) -> bool:
        """Whether any way but the manual receipt is enabled."""
        return any(method is not PaymentMethod.MANUAL for method in self._methods)

    @property
    def takes_callbacks(self) -> bool:
        """Whether a gateway that sends callbacks (Tripay, Midtrans) is enabled."""
        return bool(self._gateways)

    @property
    def manual(self) -> bool:
        return PaymentMethod.MANUAL in self._methods and bool(self._shop.deposit_instructions)

    def choices(self) -> list[Choice]:
        """The ways to pay a top-up now, in the operator's order: those in rupiah only while
        the wallets are in rupiah."""
        rupiah = self._currency.code == "IDR"
        found: list[Choice] = []
        for method in self._methods:
            match method:
                case PaymentMethod.MANUAL if self.manual:
                    found.append(Choice(method))
                case PaymentMethod.STARS if self._stars_rate:
                    found.append(Choice(method))
                case PaymentMethod.TRIPAY if rupiah and method in self._gateways:
                    found += [Choice(method, ch) for ch in self._channels.get(method, ())]
                case PaymentMethod.MIDTRANS if rupiah and method in self._gateways:
                    found.append(Choice(method))
                case PaymentMethod.QRIS if rupiah and self._qris is not None:
                    found.append(Choice(method))
        return found

    def stars_for(self, amount: Decimal) -> int:
        assert self._stars_rate is not None
        return stars_for(amount, self._stars_rate)

    # -- opening ------------------------------------------------------------------------------

    async def start(self, actor: Actor, amount: Decimal, choice: Choice, name: str = "") -> Started:
        """A top-up of `amount` paid the chosen way. A gateway is asked once, after the
        deposit and its payment are recorded; when it fails, both are closed at once."""
        if not actor.pays_from_wallet:
            return NotOffered()
        refusal = self._shop.top_up_refusal(amount)
        if refusal is not None:
            return refusal
        if choice not in self.choices():
            return NotOffered()
        match choice.method:
            case PaymentMethod.MANUAL:
                return ManualChosen()
            case PaymentMethod.QRIS:
                return await self._open_qris(actor.user_id, amount, name)
        again = await self._still_open(actor.user_id, amount, choice)
        if again is not None:
            return again
        if choice.method is PaymentMethod.STARS:
            return await self._open_stars(actor.user_id, amount)
        return await self._open_gateway(actor.user_id, amount, choice, name)

    async def _still_open(
        self, user_id: int, amount: Decimal, choice: Choice
    ) -> StarsInvoice | PaymentOpened | None:
        """The user's open top-up of this amount paid this way, shown again rather than a
        second one opened (a double tap, or the customer coming back to it)."""
        for payment in await self._store.payments.open_of(user_id, choice.method):
            if (
                payment.amount == amount
                and payment.channel == choice.channel
                and self._clock() < payment.expires_at - GRACE
            ):
                if payment.method is PaymentMethod.STARS:
                    stars = int(payment.to_pay)
                    payload = payment.merchant_ref
                    return StarsInvoice(
                        payment.deposit_id, stars, payload, amount, payment.currency
                    )
                picture = None
                if payment.qr_string and self._qr_image is not None:
                    picture = self._qr_image(payment.qr_string)
                return PaymentOpened(payment.deposit_id, payment, (), picture)
        return None

    async def _open_stars(self, user_id: int, amount: Decimal) -> StarsInvoice:
        stars = self.stars_for(amount)
        expires_at = self._clock() + self._expires_in
        async with self._store.transaction() as tx:
            deposit = await tx.deposits.open_paid(
                user_id, amount, PaymentMethod.STARS.value, DepositState.AWAITING_PAYMENT
            )
            await tx.payments.add(
                deposit_id=deposit.id,
                user_id=user_id,
                method=PaymentMethod.STARS,
                channel=None,
                state=PaymentState.PENDING,
                amount=amount,
                currency=self._currency.code,
                to_pay=Decimal(stars),
                expires_at=expires_at,
                next_poll_at=expires_at,
            )
        return StarsInvoice(
            deposit.id, stars, merchant_ref(deposit.id), amount, self._currency.code
        )

    async def _open_qris(self, user_id: int, amount: Decimal, name: str) -> Started:
        assert self._qris is not None and self._qr_image is not None
        if await self._store.deposits.pending_of(user_id) is not None:
            return TopUpRefusal.WAITING
        request = PaymentRequest(0, user_id, amount, self._currency.code, name, self._expires_in)
        async with self._store.transaction() as tx:
            since = self._clock() - QRIS_OPEN_FOR
            taken = await tx.deposits.open_amounts(PaymentMethod.QRIS.value, since)
            try:
                invoice = self._qris(request, taken)
            except NoUniqueAmount:
                return GatewayDown(PaymentMethod.QRIS, "every amount near this one is taken")
            deposit = await tx.deposits.open_paid(
                user_id, invoice.to_pay, PaymentMethod.QRIS.value, DepositState.AWAITING_PROOF
            )
        assert invoice.qr_string is not None
        return QrisOpened(deposit, amount, invoice.to_pay, self._qr_image(invoice.qr_string))

    async def _open_gateway(
        self, user_id: int, amount: Decimal, choice: Choice, name: str
    ) -> Started:
        gateway = self._gateways[choice.method]
        currency = self._currency.code
        expires_at = self._clock() + self._expires_in
        async with self._store.transaction() as tx:
            deposit = await tx.deposits.open_paid(
                user_id, amount, choice.method.value, DepositState.AWAITING_PAYMENT
            )
            payment = await tx.payments.add(
                deposit_id=deposit.id,
                user_id=user_id,
                method=choice.method,
                channel=choice.channel,
                state=PaymentState.CREATING,
                amount=amount,
                currency=currency,
                to_pay=amount,
                expires_at=expires_at,
                next_poll_at=expires_at + GRACE,
            )
        request = PaymentRequest(
            deposit.id, user_id, amount, currency, name, self._expires_in, choice.channel
        )
        try:
            invoice = await gateway.create(request)
        except (GatewayFailure, ValueError) as exc:
            reason = getattr(exc, "words", None) or getattr(exc, "reason", None) or str(exc)
            log.warning("%s did not open top-up %d: %s", choice.method, deposit.id, exc)
            async with self._store.transaction() as tx:
                await tx.payments.move(payment.id, PaymentState.FAILED, (PaymentState.CREATING,))
                await tx.deposits.settle(deposit.id, DepositState.CLOSED)
            return GatewayDown(choice.method, str(reason))
        now = self._clock()
        async with self._store.transaction() as tx:
            await tx.payments.opened(
                payment.id, invoice, self._next_poll(now, now, invoice.expires_at)
            )
            stored = await tx.payments.get(payment.id)
        assert stored is not None
        picture = None
        if invoice.qr_string and self._qr_image is not None:
            picture = self._qr_image(invoice.qr_string)
        return PaymentOpened(deposit.id, stored, invoice.instructions, picture)

    # -- learning the outcome -------------------------------------------------------------------

    async def callback(
        self, name: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes, str] | None:
        """A gateway's callback: its signature checked on the raw bytes before anything in it
        is read, then settled. The answer the gateway expects; None for a gateway that is not
        enabled."""
        try:
            method = PaymentMethod(name)
        except ValueError:
            return None
        gateway = self._gateways.get(method)
        if gateway is None:
            return None
        try:
            news = gateway.read_callback(body, headers)
        except BadCallback as exc:
            log.warning("%s: a callback refused: %s", method, exc)
            await self._alert(Problem.BAD_SIGNATURE, method, "", detail=str(exc))
            return gateway.callback_answer(False)
        confirm: Callable[[PaymentNews], Awaitable[PaymentNews]] | None = getattr(
            gateway, "confirm", None
        )
        if confirm is not None:
            try:
                news = await confirm(news)
            except GatewayFailure as exc:
                log.warning("%s: a callback not confirmed now: %s", method, exc)
                return gateway.callback_answer(False)
        outcome = await self.settle(method, news)
        return gateway.callback_answer(outcome is not Settled.UNKNOWN)

    async def settle(self, method: PaymentMethod, news: PaymentNews) -> Settled:
        """What a gateway says of a payment, applied once: PAID credits the deposit's amount
        (when the news is of that amount and currency), EXPIRED and FAILED close it."""
        problem = Problem.UNKNOWN_REFERENCE
        deposit_id: int | None = None
        async with self._store.transaction() as tx:
            payment = await self._find(tx, method, news)
            if payment is not None:
                deposit_id = payment.deposit_id
                if news.state is PaymentState.PAID:
                    if matches(news, payment.amount, payment.currency):
                        credited = await self._credit(tx, payment)
                        return Settled.CREDITED if credited else Settled.ALREADY
                    problem = Problem.WRONG_AMOUNT
                elif news.state in (PaymentState.EXPIRED, PaymentState.FAILED):
                    closed = await self._close(tx, payment, news.state)
                    return Settled.CLOSED if closed else Settled.ALREADY
                elif news.state is PaymentState.REFUNDED:
                    if not await tx.payments.move(
                        payment.id, PaymentState.REFUNDED, (PaymentState.PAID,)
                    ):
                        return Settled.ALREADY
                    problem = Problem.REFUNDED
                else:
                    return Settled.PENDING
        await self._alert(
            problem,
            method,
            news.reference,
            deposit=deposit_id,
            amount=news.amount,
            currency=news.currency,
        )
        return Settled.UNKNOWN if problem is Problem.UNKNOWN_REFERENCE else Settled.REFUSED

    async def _find(
        self, tx: Transaction, method: PaymentMethod, news: PaymentNews
    ) -> StoredPayment | None:
        """The payment the news is of: by the gateway's reference, else by the bot's merchant
        reference, as long as both say the same deposit."""
        payment = await tx.payments.by_reference(method, news.reference)
        if payment is None:
            deposit_id = deposit_of(news.merchant_ref)
            payment = await tx.payments.of_deposit(deposit_id) if deposit_id else None
            if payment is not None and payment.reference not in (None, news.reference):
                return None
        if payment is None or payment.method is not method:
            return None
        if news.merchant_ref != payment.merchant_ref:
            return None
        return payment

    async def _credit(self, tx: Transaction, payment: StoredPayment) -> bool:
        """The deposit credited with its payment, once; its owner told."""
        if not await tx.payments.move(payment.id, PaymentState.PAID, OPEN):
            return False
        await tx.deposits.settle(payment.deposit_id, DepositState.APPROVED)
        balance = await tx.wallets.post(
            payment.user_id,
            payment.amount,
            EntryKind.DEPOSIT,
            deposit_id=payment.deposit_id,
            note=payment.method.value,
        )
        await tx.outbox.add(
            [
                DepositDecided(
                    payment.user_id,
                    deposit=payment.deposit_id,
                    approved=True,
                    amount=payment.amount,
                    balance=balance,
                    currency=payment.currency,
                )
            ]
        )
        return True

    async def _close(self, tx: Transaction, payment: StoredPayment, state: PaymentState) -> bool:
        """An open payment closed unpaid (expired or failed), its owner told when they had
        been shown it."""
        shown = payment.state is not PaymentState.CREATING
        if not await tx.payments.move(
            payment.id, state, (PaymentState.CREATING, PaymentState.PENDING)
        ):
            return False
        await tx.deposits.settle(payment.deposit_id, DepositState.CLOSED)
        if shown:
            await tx.outbox.add(
                [
                    PaymentClosed(
                        payment.user_id,
                        deposit=payment.deposit_id,
                        amount=payment.amount,
                        currency=payment.currency,
                        expired=state is PaymentState.EXPIRED,
                    )
                ]
            )
        return True

    async def check(self, actor: Actor, deposit_id: int) -> Checked | None:
        """The customer's Check: the gateway asked now, its answer settled. None for a
        deposit that is not theirs or not paid through a gateway."""
        payment = await self._store.payments.of_deposit(deposit_id)
        if payment is None or not (payment.user_id == actor.user_id or actor.is_admin):
            return None
        gateway = self._gateways.get(payment.method)
        if payment.state in ASK_AGAIN and payment.reference and gateway is not None:
            try:
                news = await gateway.status(payment.reference)
            except GatewayFailure as exc:
                return Checked(payment, exc.reason)
            await self.settle(payment.method, news)
            payment = await self._store.payments.get(payment.id) or payment
        return Checked(payment)

    async def poll(self) -> int:
        """Open payments that are due asked about (or closed once expired); how many were
        credited or closed."""
        now = self._clock()
        changed = 0
        for payment in await self._store.payments.due(now, POLL_BATCH):
            changed += await self._poll_one(payment, now)
        return changed

    async def _poll_one(self, payment: StoredPayment, now: float) -> int:
        payments = self._store.payments
        gateway = self._gateways.get(payment.method)
        if payment.state is PaymentState.CREATING or gateway is None or not payment.reference:
            if now < payment.expires_at:  # Stars, or a creation cut short: at its expiry
                await payments.reschedule(payment.id, payment.expires_at)
                return 0
            async with self._store.transaction() as tx:
                return int(await self._close(tx, payment, PaymentState.EXPIRED))
        try:
            news = await gateway.status(payment.reference)
        except GatewayFailure as exc:
            log.info("%s: payment %d not asked now: %s", payment.method, payment.id, exc)
            if now >= payment.expires_at + GIVE_UP:
                async with self._store.transaction() as tx:
                    return int(await self._close(tx, payment, PaymentState.EXPIRED))
            await payments.reschedule(payment.id, now + SLOW_POLL)
            return 0
        outcome = await self.settle(payment.method, news)
        if outcome is Settled.PENDING:
            if now >= payment.expires_at + GRACE:
                async with self._store.transaction() as tx:
                    return int(await self._close(tx, payment, PaymentState.EXPIRED))
            await payments.reschedule(
                payment.id, self._next_poll(payment.created_at, now, payment.expires_at)
            )
            return 0
        if outcome in (Settled.UNKNOWN, Settled.REFUSED):
            await payments.reschedule(payment.id, now + SLOW_POLL)  # the admins were told
        return int(outcome in (Settled.CREDITED, Settled.CLOSED))

    def _next_poll(self, created_at: float, now: float, expires_at: float) -> float:
        """Without callbacks, every 10 s for 10 minutes, then every minute; with them, only
        at the expiry (a lost callback is found then)."""
        last = expires_at + GRACE
        if not self._polling:
            return last
        step = FAST_POLL if now - created_at < FAST_FOR else SLOW_POLL
        return min(now + step, last)

    # -- Telegram Stars -----------------------------------------------------------------------

    async def pre_checkout(self, user_id: int, payload: str, currency: str, total: int) -> bool:
        """Whether Telegram may take the Stars: the user's own open top-up, not expired, of
        exactly its number of Stars."""
        deposit_id = deposit_of(payload)
        payment = await self._store.payments.of_deposit(deposit_id) if deposit_id else None
        return (
            payment is not None
            and payment.method is PaymentMethod.STARS
            and payment.user_id == user_id
            and payment.state is PaymentState.PENDING
            and self._clock() < payment.expires_at
            and currency == STARS_CURRENCY
            and Decimal(total) == payment.to_pay
        )

    async def stars_paid(
        self, user_id: int, payload: str, currency: str, total: int, charge_id: str
    ) -> Settled:
        """Telegram took the Stars: the top-up credited once per `telegram_payment_charge_id`
        (a second delivery of the update credits nothing)."""
        problem = Problem.UNKNOWN_REFERENCE
        deposit_id = deposit_of(payload)
        async with self._store.transaction() as tx:
            if await tx.payments.by_reference(PaymentMethod.STARS, charge_id) is not None:
                return Settled.ALREADY
            payment = await tx.payments.of_deposit(deposit_id) if deposit_id else None
            if (
                payment is not None
                and payment.method is PaymentMethod.STARS
                and payment.user_id == user_id
            ):
                if currency != STARS_CURRENCY or Decimal(total) != payment.to_pay:
                    problem = Problem.WRONG_AMOUNT
                elif payment.reference is None and await self._credit(tx, payment):
                    await tx.payments.set_reference(payment.id, charge_id)
                    return Settled.CREDITED
                else:
                    problem = Problem.PAID_AGAIN
        await self._alert(
            problem,
            PaymentMethod.STARS,
            charge_id,
            deposit=deposit_id,
            amount=Decimal(total),
            currency=currency,
            detail=f"user {user_id}",
        )
        return Settled.UNKNOWN if problem is Problem.UNKNOWN_REFERENCE else Settled.REFUSED

    async def refund_stars(
        self,
        actor: Actor,
        deposit_id: int,
        give_back: Callable[[int, str], Awaitable[Any]],
    ) -> Refunded | RefundRefusal:
        """An admin gives a Stars top-up back: the wallet debited by its amount and Telegram
        asked to refund (`give_back(user, charge id)`) in one step; when Telegram refuses,
        raising, nothing is debited. Only while the wallet still holds the amount."""
        if not actor.is_admin:
            return RefundRefusal.NOT_ADMIN
        async with self._store.transaction() as tx:
            payment = await tx.payments.of_deposit(deposit_id)
            if payment is None or payment.method is not PaymentMethod.STARS:
                return RefundRefusal.NOT_STARS
            if payment.state is not PaymentState.PAID or payment.reference is None:
                return RefundRefusal.NOT_PAID
            wallet = await tx.wallets.get(payment.user_id)
            if wallet.balance < payment.amount:
                return RefundRefusal.SPENT
            await tx.payments.move(payment.id, PaymentState.REFUNDED, (PaymentState.PAID,))
            balance = await tx.wallets.post(
                payment.user_id,
                -payment.amount,
                EntryKind.ADJUSTMENT,
                deposit_id=deposit_id,
                admin_id=actor.user_id,
                note="Stars refund",
            )
            stars = int(payment.to_pay)
            await tx.outbox.add(
                [
                    StarsRefunded(
                        payment.user_id,
                        deposit=deposit_id,
                        stars=stars,
                        amount=payment.amount,
                        balance=balance,
                        currency=payment.currency,
                    )
                ]
            )
            await give_back(payment.user_id, payment.reference)  # raises: all rolled back
        return Refunded(deposit_id, payment.user_id, stars, payment.amount, balance)

    # -- alerts ---------------------------------------------------------------------------------

    async def _alert(
        self,
        problem: Problem,
        method: PaymentMethod,
        reference: str,
        *,
        deposit: int | None = None,
        amount: Decimal | None = None,
        currency: str = "",
        detail: str = "",
    ) -> None:
        """The admins told, once a problem and reference (bad signatures: once an hour for
        each gateway, whatever the forged body says)."""
        kv = self._store.kv
        now = self._clock()
        if problem is Problem.BAD_SIGNATURE:
            key = f"payment_alert:{method}:{problem}"
            last = await kv.get(key)
            if last is not None and now - float(last) < ALERT_AGAIN:
                return
        else:
            key = f"payment_alert:{method}:{problem}:{reference[:80]}"
            if await kv.get(key) is not None:
                return
        await self._store.outbox.add(
            [
                PaymentAlert(
                    ADMINS,
                    method=method.value,
                    problem=problem.value,
                    reference=reference[:80],
                    deposit=deposit,
                    amount=amount if amount is not None and amount.is_finite() else None,
                    currency=currency[:8],
                    detail=detail[:200],
                )
            ]
        )
        await kv.set(key, repr(now))
