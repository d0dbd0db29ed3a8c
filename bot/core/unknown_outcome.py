"""An order of unknown outcome, decided without Telegram: attached to the panel order that is
it, or marked not placed. One path, with every check, for a team member's /found and an
admin's "It was placed".

API v2's status answer names no service and no link, so nothing proves a panel order is a
given bot order. What can be checked is checked: the id is no other bot order's, the panel
knows it, it is newer than the newest panel id the bot knew when the intent was stored, and
its charge fits the price. An order paid from a wallet is decided by admins only: a customer
could otherwise attach someone else's order, follow it, cancel it, and be refunded for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.core.actor import Actor
from bot.core.api import OrderState, OrderStatus
from bot.core.money import currency_unit
from bot.core.notices import UnknownResolved
from bot.core.panel import NotFound, Panel
from bot.core.ports import Store
from bot.core.records import Check, Order, Outcome
from bot.core.settlement import give_back
from bot.core.tracking import poll_delay

CHARGE_SLACK = Decimal("1.02")
"""A panel order's charge may exceed the price the bot computed by this much (rounding, a
rate changed between the intent and the order)."""


class NotAttached(StrEnum):
    """Why a panel order was not attached to an order of unknown outcome."""

    NO_SUCH_ORDER = "no_such_order"
    """No order of the bot with that number is the actor's."""
    NOT_WAITING = "not_waiting"
    """The order is not (or no longer) of unknown outcome."""
    OPERATOR_DECIDES = "operator_decides"
    """Paid from a wallet: only admins decide."""
    TAKEN = "taken"
    """Another order of the bot has that panel id."""
    OLDER = "older"
    """The panel order is older than the order's intent."""
    NOT_ON_PANEL = "not_on_panel"
    CHARGE = "charge"
    """Its charge is more than this order costs."""


@dataclass(frozen=True, slots=True)
class Attached:
    order: Order


class UnknownOutcomes:
    def __init__(
        self, store: Store, panel: Panel, poll_interval: float, clock: Callable[[], float]
    ) -> None:
        self._store = store
        self._panel = panel
        self._interval = poll_interval
        self._clock = clock

    async def order(self, actor: Actor, row_id: int) -> Order | NotAttached:
        """The order, if it is one of the actor's (an admin: any)."""
        order = await self._store.orders.get(row_id)
        return order if order is not None and actor.may_see(order) else NotAttached.NO_SUCH_ORDER

    async def may_decide(self, actor: Actor, row_id: int) -> Order | NotAttached:
        """The order, if this actor may decide its outcome now."""
        order = await self.order(actor, row_id)
        if isinstance(order, NotAttached):
            return order
        return self.refusal(order, by_admin=actor.is_admin) or order

    async def attach(self, actor: Actor, row_id: int, panel_id: int) -> Attached | NotAttached:
        """Attach the panel order `panel_id` to the actor's order `row_id` (of unknown
        outcome), after every check; its status is stored (and refunded as it says) at once.
        Raises `PanelFailure` when the panel cannot answer."""
        order = await self.may_decide(actor, row_id)
        if isinstance(order, NotAttached):
            return order
        by_admin = actor.is_admin
        if await self._store.orders.by_panel_ids([panel_id]):
            return NotAttached.TAKEN
        if order.known_panel_id is not None and panel_id <= order.known_panel_id:
            return NotAttached.OLDER
        try:
            status = await self._panel.status(panel_id)
        except NotFound:
            return NotAttached.NOT_ON_PANEL
        if not charge_fits(order, status):
            return NotAttached.CHARGE
        delay = poll_delay(self._clock() - order.created_at, self._interval)
        check = Check(order.id, status, None if delay is None else self._clock() + delay)
        async with self._store.transaction() as tx:
            attached = await tx.orders.attach(order.id, panel_id)
            if attached:
                await tx.orders.store_checks([check])
                back = await give_back(tx, order, status.state, status.remains)
                if by_admin and order.paid is not None:
                    await tx.outbox.add([resolved_notice(order, panel_id, back)])
        if not attached:
            current = await self._store.orders.get(order.id)
            if current is None or current.outcome is not Outcome.UNKNOWN:
                return NotAttached.NOT_WAITING
            return NotAttached.TAKEN  # attached to another order meanwhile
        stored = await self._store.orders.get(order.id)
        assert stored is not None
        return Attached(stored)

    @staticmethod
    def refusal(order: Order, *, by_admin: bool) -> NotAttached | None:
        """Why this actor may not decide this order at all, if they may not."""
        if order.outcome is not Outcome.UNKNOWN:
            return NotAttached.NOT_WAITING
        if order.paid is not None and not by_admin:
            return NotAttached.OPERATOR_DECIDES
        return None

    async def not_placed(self, actor: Actor, row_id: int) -> Order | NotAttached:
        """The order was not placed (whoever looked found no such panel order): it leaves
        the lists, and a wallet gets its money back (its owner told, when an admin said so),
        once."""
        order = await self.may_decide(actor, row_id)
        if isinstance(order, NotAttached):
            return order
        by_admin = actor.is_admin
        async with self._store.transaction() as tx:
            marked = await tx.orders.set_not_placed(order.id)
            if marked:
                back = await give_back(tx, order, OrderState.FAIL, None)
                if by_admin and order.paid is not None:
                    await tx.outbox.add([resolved_notice(order, None, back)])
        stored = await self._store.orders.get(order.id)
        return stored if marked and stored is not None else NotAttached.NOT_WAITING


def charge_fits(order: Order, status: OrderStatus) -> bool:
    """Whether the panel order's charge (when it tells one) can be this order's: not more than
    the panel's price of it, with a little slack."""
    if status.charge is None:
        return True
    expected = order.cost if order.cost is not None else order.price
    return status.charge <= expected * CHARGE_SLACK + currency_unit(order.currency)


def resolved_notice(order: Order, panel_id: int | None, refund: Decimal) -> UnknownResolved:
    """The owner's news that an admin decided their order (`panel_id`: placed as that order;
    None: not placed), with what went back to the wallet."""
    return UnknownResolved(
        order.user_id,
        order=order.id,
        panel_id=panel_id,
        service=order.service_name,
        link=order.target or "",
        currency=order.currency,
        refund=refund or None,
    )
