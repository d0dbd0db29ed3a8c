"""Placing an order exactly once, without Telegram.

The intent is stored (keyed by the draft's random key) before the panel is called, and the
outcome after. A second submission of the same draft finds the stored row and sends
nothing: double taps, repeated callbacks and restarts cannot place a second order.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, replace
from decimal import Decimal

from pydantic import BaseModel, Field

from bot.core.api import OrderState, Service
from bot.core.money import WalletPayment
from bot.core.notices import ADMINS, Interrupted, Notice, UnknownPaid
from bot.core.order_types import (
    InvalidField,
    Issue,
    OrderType,
    check_field,
    check_order,
    fields_to_ask,
    order_type_of,
    price,
    quantity,
)
from bot.core.panel import (
    OrderRequest,
    OutcomeUnknown,
    Panel,
    PanelError,
    PanelUnavailable,
    failure_to_text,
)
from bot.core.ports import StorageFailed, Store
from bot.core.records import EntryKind, Order, Outcome
from bot.core.settlement import give_back, take

log = logging.getLogger(__name__)

DRIP_FEED_STEP = "dripfeed"
STORE_RETRY_PAUSES = (0.2, 1.0, 0.0)
"""Pauses after each failed write of a placed order's id (the last try: no pause)."""
"""The yes/no question before the optional drip-feed fields."""


def new_key() -> str:
    return secrets.token_urlsafe(9)


class OrderDraft(BaseModel):
    """An order being filled in, one answer at a time."""

    key: str = Field(default_factory=new_key)
    """The intent key: the order placed from this draft is stored under it."""
    service_id: int
    values: dict[str, str] = Field(default_factory=dict)
    """Answers in the panel's form; an optional field skipped is an empty string."""
    answered: list[str] = Field(default_factory=list)
    drip_feed: bool | None = None
    screen: int = 0
    """The number of the question or summary last shown: only that message's buttons act."""
    shown: Decimal | None = None
    """The price the latest summary showed: Confirm takes that or nothing."""

    def next_screen(self) -> int:
        self.screen += 1
        return self.screen

    def is_current(self, screen: int) -> bool:
        """Whether a button of screen `screen` belongs to the latest question. A number
        beyond the stored one is a screen shown just before a crash lost the draft's last
        save: it is the latest."""
        if screen < self.screen:
            return False
        self.screen = screen
        return True

    def next_step(self, order_type: OrderType) -> str | None:
        """The field to ask next, `DRIP_FEED_STEP`, or None when the order is complete."""
        plain = fields_to_ask(order_type, self.values, drip_feed=False)
        if plain:
            return plain[0]
        if order_type.has_drip_feed and self.drip_feed is None:
            return DRIP_FEED_STEP
        remaining = fields_to_ask(order_type, self.values, drip_feed=bool(self.drip_feed))
        return remaining[0] if remaining else None

    @classmethod
    def again(cls, service_id: int, order_type: OrderType, fields: dict[str, str]) -> OrderDraft:
        """A new draft with an earlier order's answers, as if given again one by one: what
        was skipped is skipped again, and a required answer the order lacks is asked."""
        draft = cls(service_id=service_id)
        while (step := draft.next_step(order_type)) is not None:
            if step == DRIP_FEED_STEP:
                draft.choose_drip_feed("runs" in fields)
            elif step in fields:
                draft.answer(step, fields[step])
            elif order_type.field(step).optional:
                draft.answer(step, "")
            else:
                break
        return draft

    def answer(self, name: str, value: str) -> None:
        self.values[name] = value
        self.answered.append(name)

    def choose_drip_feed(self, enabled: bool) -> None:
        self.drip_feed = enabled
        self.answered.append(DRIP_FEED_STEP)

    def step_back(self) -> bool:
        """Forget the last answer; False when there is none (back to the service)."""
        if not self.answered:
            return False
        last = self.answered.pop()
        if last == DRIP_FEED_STEP:
            self.drip_feed = None
        else:
            self.values.pop(last, None)
        return True

    def edit(self, name: str, order_type: OrderType) -> bool:
        """Forget one answer (and the answers only asked because of it) so it is asked again;
        False when the draft has no such answer."""
        if name not in self.values:
            return False
        dependent = {s.name for s in order_type.fields if s.ask_if and s.ask_if[0] == name}
        for field in (name, *dependent):
            self.values.pop(field, None)
        self.answered = [a for a in self.answered if a != name and a not in dependent]
        return True

    def renew_key(self) -> None:
        """After a refusal, a new confirmation is a new intent."""
        self.key = new_key()

    def fields(self) -> dict[str, str]:
        return {name: value for name, value in self.values.items() if value}


@dataclass(frozen=True, slots=True)
class Quote:
    service: Service
    fields: dict[str, str]
    quantity: int | None
    price: Decimal
    issues: list[Issue]


def delivered_quantity(order_type: OrderType, fields: dict[str, str]) -> int | None:
    """What the order delivers in all: the quantity, times the runs of a drip-feed (what
    the panel's remains count down from)."""
    amount = quantity(order_type, fields)
    runs = fields.get("runs", "")
    return amount * int(runs) if amount is not None and runs.isdigit() else amount


def quote(draft: OrderDraft, service: Service) -> Quote:
    """The order the draft makes with the service as the catalog has it now: only the fields
    of its order type, each checked again (the panel may have changed the service's range
    since the answer was given)."""
    order_type = order_type_of(service)
    answers = draft.fields()
    fields = {spec.name: answers[spec.name] for spec in order_type.fields if spec.name in answers}
    issues = []
    for spec in order_type.fields:
        if spec.name in fields:
            try:
                check_field(spec, fields[spec.name], service)
            except InvalidField as invalid:
                issues.append(invalid.issue)
    issues += check_order(order_type, fields, service)
    return Quote(
        service=service,
        fields=fields,
        quantity=delivered_quantity(order_type, fields),
        price=price(service, fields),
        issues=issues,
    )


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
        return await unsaved.settle(store, row, Outcome.UNKNOWN, exc.reason), True
    except (PanelUnavailable, PanelError) as exc:
        # Refused, rate limited or never sent: nothing was ordered.
        log.info("order intent %s not placed: %s", key, exc)
        error = failure_to_text(exc)
        return await unsaved.settle(store, row, Outcome.REJECTED, error), True
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
    it is new (an existing one was submitted already: it must not be sent again)."""
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
            await take(tx, user_id, payment.amount, EntryKind.DEBIT_ORDER, order_id=row.id)
    return row, created


async def end_submission(store: Store, row: Order, outcome: Outcome, error: str) -> Order:
    """A submission refused (its money back at once) or of unknown outcome (its money held,
    and the admins asked whether it was placed), in one transaction; once: a submission no
    longer under way is left as it is."""
    async with store.transaction() as tx:
        if await tx.orders.set_outcome(row.id, outcome, error):
            if outcome is Outcome.REJECTED:
                await give_back(tx, row, OrderState.FAIL, None)
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
                link=order.fields.get("link", ""),
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

    def __init__(self) -> None:
        self._waiting: dict[int, tuple[Order, Outcome, str]] = {}

    async def settle(self, store: Store, row: Order, outcome: Outcome, error: str) -> Order:
        """The outcome stored, or (the database failing) kept to store later; the row as
        it is meant to be either way."""
        for pause in STORE_RETRY_PAUSES:
            try:
                return await end_submission(store, row, outcome, error)
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

    async def save(self, store: Store) -> None:
        """Store the outcomes kept for later (the tracker's cycle)."""
        for row_id, (row, outcome, error) in list(self._waiting.items()):
            try:
                await end_submission(store, row, outcome, error)
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
            await store.orders.set_placed(row.id, order_id)
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
