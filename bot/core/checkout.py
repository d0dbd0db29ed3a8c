"""Placing an order exactly once, without Telegram.

The intent is stored (keyed by the draft's random key) before the panel is called, and the
outcome after. A second submission of the same draft finds the stored row and sends
nothing: double taps, repeated callbacks and restarts cannot place a second order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from bot.core.actor import Actor
from bot.core.api import OrderState, Service, ServiceType
from bot.core.balance import PanelBalance, PanelCurrency
from bot.core.drafts import OrderDraft, Quote, quote
from bot.core.money import InsufficientFunds, WalletPayment, currency_unit
from bot.core.notices import ADMINS, Interrupted, Notice, UnknownPaid
from bot.core.order_types import Issue, order_type_of
from bot.core.panel import (
    OrderRequest,
    OutcomeUnknown,
    Panel,
    PanelError,
    PanelFailure,
    PanelUnavailable,
    failure_to_text,
)
from bot.core.ports import StorageFailed, StorageLost, Store
from bot.core.promo import Applied, PromoChanged, PromoRefusal
from bot.core.promo import use as use_promo
from bot.core.records import EntryKind, Order, Outcome, PromoKind, Wallet, target_of
from bot.core.referrals import reshare
from bot.core.settlement import give_back, take
from bot.core.shop import Shop

log = logging.getLogger(__name__)

STORE_RETRY_PAUSES = (0.2, 1.0, 0.0)
"""Pauses after each failed write of a placed order's id (the last try: no pause)."""
"""The yes/no question before the optional drip-feed fields."""


async def submit(
    store: Store,
    panel: Panel,
    *,
    user_id: int,
    key: str,
    offer: Quote,
    currency: str,
    unsaved: UnsavedOutcomes,
    payment: WalletPayment | None = None,
) -> tuple[Order, bool]:
    """Place the quoted order once per intent `key`. Returns the stored row and whether this
    call sent it. The quote is the one the user confirmed, computed once by the caller; a
    quote the bot's own checks refuse is never sent. `payment`: taken from the user's wallet
    in the intent's transaction (`InsufficientFunds` before the panel is called: no intent,
    nothing taken). `unsaved` keeps a failure's outcome the database would not store.
    Raises `StorageLost` when the database cannot keep an order: it is not placed."""
    if offer.issues:
        raise ValueError(f"a quote with issues is not an order: {offer.issues}")
    service = offer.service
    row, created = await record_intent(store, user_id, key, offer, currency, payment)
    if not created:
        log.info("order intent %s was already submitted (%s); not sent again", key, row.outcome)
        return row, False
    try:
        order_id = await panel.add(OrderRequest(service.id, offer.fields))
    except OutcomeUnknown as exc:
        log.warning("order intent %s: outcome unknown (%s)", key, exc.reason)
        return await unsaved.settle(row, Outcome.UNKNOWN, exc.reason), True
    except (PanelUnavailable, PanelError) as exc:
        # Refused, rate limited or never sent: nothing was ordered.
        log.info("order intent %s not placed: %s", key, exc)
        error = failure_to_text(exc)
        return await unsaved.settle(row, Outcome.REJECTED, error), True
    log.info("order %d placed for user %d (service %d)", order_id, user_id, service.id)
    return await _keep(store, row, order_id), True


async def record_intent(
    store: Store,
    user_id: int,
    key: str,
    offer: Quote,
    currency: str,
    payment: WalletPayment | None,
) -> tuple[Order, bool]:
    """The intent to order, stored before the panel is called, with its payment taken from
    the wallet in the same transaction (`InsufficientFunds`: neither). The row, and whether
    it is new (an existing one was submitted already: it must not be sent again). A promo
    code's discount is used in the same transaction (`PromoChanged`: it no longer gives what
    the payment says, nothing written); the user's referrer gets their share once placed."""
    store.check_file()
    async with store.transaction() as tx:
        row, created = await tx.orders.record_intent(
            intent_key=key,
            user_id=user_id,
            service=offer.service,
            fields=offer.fields,
            quantity=offer.quantity,
            price=offer.price,
            currency=currency,
            paid=payment.amount if payment is not None else None,
            cost=payment.cost if payment is not None else None,
        )
        if created and payment is not None:
            full = payment.amount + payment.discount
            if payment.promo is not None and payment.discount:
                unit = currency_unit(currency)
                applied = await use_promo(
                    tx,
                    payment.promo,
                    user_id,
                    PromoKind.ORDER,
                    full,
                    unit,
                    payment.checked_at,
                    order_id=row.id,
                )
                if not (isinstance(applied, Applied) and applied.benefit == payment.discount):
                    raise PromoChanged(payment.promo)
                await tx.wallets.post(
                    user_id,
                    payment.discount,
                    EntryKind.PROMO_DISCOUNT,
                    order_id=row.id,
                    note=applied.promo.code,
                )
            await take(tx, user_id, full, EntryKind.DEBIT_ORDER, order_id=row.id)
            if payment.referral_percent > 0:
                referrer = await tx.referrals.referrer_of(user_id)
                if referrer is not None:
                    await tx.referrals.open_share(row.id, referrer, payment.referral_percent)
    return row, created


async def end_submission(store: Store, row: Order, outcome: Outcome, error: str) -> Order:
    """A submission refused (its money back at once) or of unknown outcome (its money held,
    and the admins asked whether it was placed), in one transaction; once: a submission no
    longer under way is left as it is."""
    async with store.transaction() as tx:
        if await tx.orders.set_outcome(row.id, outcome, error):
            if outcome is Outcome.REJECTED:
                await give_back(tx, row, OrderState.FAIL, None)
                await tx.promos.release_order(row.id)  # never placed: the code is not used
            elif outcome is Outcome.UNKNOWN and row.paid is not None:
                await tx.outbox.add([unknown_paid(row)])
    stored = await store.orders.get(row.id)
    assert stored is not None
    return stored


def unknown_paid(order: Order) -> UnknownPaid:
    """The admins' card of an order paid from a wallet whose outcome is unknown."""
    return UnknownPaid(
        ADMINS,
        order=order.id,
        user=order.user_id,
        service=order.service_name,
        link=order.target or "",
        paid=order.paid or Decimal(0),
        currency=order.currency,
    )


async def resolve_interrupted(store: Store) -> int:
    """After a restart: a submission that was under way has an unknown outcome; its owner is
    told so, and the admins get the card of one paid from a wallet, in one transaction."""
    async with store.transaction() as tx:
        interrupted = await tx.orders.interrupt_submissions()
        notices: list[Notice] = [
            Interrupted(
                order.user_id,
                order=order.id,
                service=order.service_name,
                link=order.target or "",
                wallet=order.paid is not None,
            )
            for order in interrupted
        ]
        notices += [unknown_paid(order) for order in interrupted if order.paid is not None]
        await tx.outbox.add(notices)
    if interrupted:
        log.warning(
            "%d order submission(s) were interrupted; marked outcome unknown", len(interrupted)
        )
    return len(interrupted)


class UnsavedOutcomes:
    """A submission's failure (a refusal and its refund, an unknown outcome) the database
    would not store: tried again at once, then kept here and stored by the tracker's next
    cycle (`save`), so the money taken for a refused order comes back without a restart,
    once (`end_submission` changes only a submission under way)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: dict[int, tuple[Order, Outcome, str]] = {}

    async def settle(self, row: Order, outcome: Outcome, error: str) -> Order:
        """The outcome stored, or (the database failing) kept to store later; the row as
        it is meant to be either way."""
        for pause in STORE_RETRY_PAUSES:
            try:
                return await end_submission(self._store, row, outcome, error)
            except StorageFailed as exc:
                log.error(
                    "order intent %s: its outcome (%s) was not stored: %s",
                    row.intent_key,
                    outcome,
                    exc,
                )
                if pause:
                    await asyncio.sleep(pause)
        self._waiting[row.id] = (row, outcome, error)
        return replace(row, outcome=outcome, error=error)

    async def save(self) -> None:
        """Store the outcomes kept for later (the tracker's cycle)."""
        for row_id, (row, outcome, error) in list(self._waiting.items()):
            try:
                await end_submission(self._store, row, outcome, error)
            except StorageFailed as exc:
                log.error("order %d: its outcome is still not stored: %s", row_id, exc)
                return
            del self._waiting[row_id]
            log.info("order %d: its outcome (%s) is stored now", row_id, outcome)


class OrderNotStored(Exception):
    """The panel placed the order, and the database would not store it (after retries)."""

    def __init__(self, order_id: int, row: Order) -> None:
        super().__init__(f"order {order_id} placed but not stored")
        self.order_id = order_id
        self.row = row


async def _keep(store: Store, row: Order, order_id: int) -> Order:
    """Store a placed order's id. The id is never dropped: the write is tried again, and if
    storage keeps failing the id stays in the log (to reconcile from), new orders are
    refused, and the caller is told (`OrderNotStored`)."""
    reason = ""
    for attempt, pause in enumerate(STORE_RETRY_PAUSES):
        try:
            async with store.transaction() as tx:  # placed: its referrer's share is due
                await tx.orders.set_placed(row.id, order_id)
                await reshare(tx, row.id)
            placed = await store.orders.get(row.id)
            assert placed is not None
            return placed
        except StorageFailed as exc:
            log.critical(
                "order %d was placed on the panel for user %d (intent %s, service %d) but "
                "could not be stored, attempt %d/%d: %s",
                order_id,
                row.user_id,
                row.intent_key,
                row.service_id,
                attempt + 1,
                len(STORE_RETRY_PAUSES),
                exc,
            )
            reason = str(exc)
            if pause:
                await asyncio.sleep(pause)
    store.give_up(reason)
    raise OrderNotStored(order_id, row)


# -- the use case: a summary, and Confirm ---------------------------------------------------


class NotOffered(StrEnum):
    GONE = "gone"
    """The panel no longer offers the service."""
    NOT_FROM_A_WALLET = "not_from_a_wallet"
    """A subscription, charged by the panel per post after the fact: a wallet cannot pay it
    up front (nor get back what the posts did not use)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """What the summary shows: the order as quoted (at the price the actor pays), the wallet
    (shop mode) or the panel balance, what is missing, and unfinished orders for its link."""

    quote: Quote
    wallet: Wallet | None
    balance: Decimal | None
    missing: Decimal
    top_up: Decimal | None
    """The top-up that pays what is missing, when top-ups are taken."""
    same_link: list[Order]
    discount: Decimal = Decimal(0)
    """A promo code's discount (the quote's price is what is paid after it)."""
    promo: str | None = None
    promo_dropped: bool = False
    """The code given earlier no longer applies (used up, expired): the price is without it."""


@dataclass(frozen=True, slots=True)
class Placed:
    """A Confirm that reached the panel (or found the intent stored already): the row says
    what became of it (placed, refused in the panel's words, or of unknown outcome)."""

    order: Order


@dataclass(frozen=True, slots=True)
class PriceChanged:
    """The price is no longer the one the summary showed: nothing was taken."""

    summary: Summary


@dataclass(frozen=True, slots=True)
class Short:
    """The wallet cannot pay: nothing was sent, nothing taken."""

    missing: Decimal
    top_up: Decimal | None


class Refused(StrEnum):
    SHOP_CANNOT = "shop_cannot"
    """The panel balance cannot pay for a customer's order (the admins are told)."""
    STORAGE_DOWN = "storage_down"
    """The database cannot keep an order: none is placed."""


Confirmed = Placed | PriceChanged | Short | Refused | OrderNotStored | Issue


class Checkout:
    def __init__(
        self,
        store: Store,
        panel: Panel,
        shop: Shop,
        balance: PanelBalance,
        currency: PanelCurrency,
        unsaved: UnsavedOutcomes,
    ) -> None:
        self._store = store
        self._panel = panel
        self._shop = shop
        self._balance = balance
        self._currency = currency
        self._unsaved = unsaved

    async def offered(self, actor: Actor, service_id: int) -> Service | NotOffered:
        """The service as this actor buys it (a customer's rate with the markup). Raises
        `PanelFailure` when there is no catalog at all."""
        service = (await self._shop.catalog_for(actor.user_id)).by_id.get(service_id)
        if service is None:
            return NotOffered.GONE
        if service.type is ServiceType.SUBSCRIPTIONS and actor.pays_from_wallet:
            return NotOffered.NOT_FROM_A_WALLET
        return service

    async def summary(self, actor: Actor, draft: OrderDraft, service: Service) -> Summary | Issue:
        """The summary of a complete draft (the price it shows is the one Confirm may take),
        or the first answer the service's rules refuse now."""
        offer = quote(draft, service)
        if offer.issues:
            return offer.issues[0]
        return await self._summary(actor, draft, offer)

    async def _summary(self, actor: Actor, draft: OrderDraft, offer: Quote) -> Summary:
        payment = await self._shop.payment(
            actor.user_id, offer.service.id, offer.fields, draft.promo
        )
        wallet: Wallet | None = None
        balance: Decimal | None = None
        missing = Decimal(0)
        dropped = bool(draft.promo) and (payment is None or payment.promo is None)
        if dropped:
            draft.promo = None
        if payment is not None:
            offer = replace(offer, price=payment.amount)
            wallet = await self._shop.wallet(actor.user_id)
            missing = wallet.short_of(payment.amount)
        else:
            with contextlib.suppress(PanelFailure):
                balance = (await self._balance.get()).amount
        draft.shown_price = offer.price
        target = target_of(offer.fields)
        active = await self._store.orders.active_for(actor.user_id, target) if target else []
        # Only the same service: comments after likes on one post are normal.
        same_link = [order for order in active if order.service_id == offer.service.id]
        top_up = self._shop.top_up_for(missing) if missing and self._shop.takes_deposits else None
        return Summary(
            offer,
            wallet,
            balance,
            missing,
            top_up,
            same_link,
            discount=payment.discount if payment is not None else Decimal(0),
            promo=payment.promo if payment is not None else None,
            promo_dropped=dropped,
        )

    async def apply_promo(
        self, actor: Actor, draft: OrderDraft, service: Service, code: str
    ) -> Summary | PromoRefusal | Issue:
        """A promo code typed at the summary: the summary again with its discount, or why it
        does not apply (the draft keeps the code it had)."""
        offer = quote(draft, service)
        if offer.issues:
            return offer.issues[0]
        payment = await self._shop.payment(actor.user_id, service.id, offer.fields)
        if payment is None:
            return PromoRefusal.UNKNOWN  # codes are for customers paying from a wallet
        applied = await self._shop.order_promo(actor.user_id, code, payment.amount)
        if isinstance(applied, PromoRefusal):
            return applied
        draft.promo = applied.promo.code
        return await self._summary(actor, draft, offer)

    async def confirm(self, actor: Actor, draft: OrderDraft, service: Service) -> Confirmed:
        """Place the draft's order once, at the price its summary showed, or say why not.
        Raises `PanelFailure` when there is no catalog at all."""
        offer = quote(draft, service)
        if offer.issues:  # the catalog changed since the summary: the answer is asked again
            return offer.issues[0]
        payment = await self._shop.payment(actor.user_id, service.id, offer.fields, draft.promo)
        if (payment.amount if payment is not None else offer.price) != draft.shown_price:
            return PriceChanged(await self._summary(actor, draft, offer))
        if payment is not None and not await self._shop.can_take(actor.user_id, payment.cost):
            return Refused.SHOP_CANNOT
        try:
            row, _ = await submit(
                self._store,
                self._panel,
                user_id=actor.user_id,
                key=draft.key,
                offer=offer,
                currency=self._currency.code,
                unsaved=self._unsaved,
                payment=payment,
            )
        except InsufficientFunds as short:
            top_up = self._shop.top_up_for(short.missing) if self._shop.takes_deposits else None
            return Short(short.missing, top_up)
        except PromoChanged:  # used up by others since the summary: nothing was taken
            return PriceChanged(await self._summary(actor, draft, offer))
        except OrderNotStored as lost:
            return lost
        except StorageLost:
            return Refused.STORAGE_DOWN
        return Placed(row)

    async def submitted(self, actor: Actor, key: str) -> Order | None:
        """What became of an intent (an old Confirm button), if it was stored."""
        return await self._store.orders.by_intent(key, actor.user_id)

    async def again(
        self, actor: Actor, row_id: int
    ) -> tuple[OrderDraft, Service] | NotOffered | None:
        """A new draft with the service and answers of one of the actor's orders, and its
        service (None: no such order of theirs; `NotOffered`: its service cannot be ordered
        now). Raises `PanelFailure` when there is no catalog at all."""
        order = await self._store.orders.get(row_id)
        if order is None or not actor.may_see(order):
            return None
        service = await self.offered(actor, order.service_id)
        if isinstance(service, NotOffered):
            return service
        return OrderDraft.again(service.id, order_type_of(service), order.fields), service
