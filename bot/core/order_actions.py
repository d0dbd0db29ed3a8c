"""Refill and cancel orders, without Telegram: the checks a button and a command share, and at
most one request per order in flight. Neither call is ever retried (the panel has no
idempotency key); a cancellation the panel accepted is remembered, so it is not sent again."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from bot.core.actor import Actor
from bot.core.api import OrderState, OrderStatus, RefillStatus
from bot.core.panel import Panel, PanelError, PanelFailure
from bot.core.ports import Store
from bot.core.records import NOT_YOURS, Order
from bot.core.tracking import OrderTracking

NOT_DELIVERED = frozenset(
    {OrderState.CANCELED, OrderState.REFUNDED, OrderState.ERROR, OrderState.FAIL}
)
UNDER_WAY = frozenset({OrderState.PENDING, OrderState.PROCESSING, OrderState.IN_PROGRESS})


class Refusal(StrEnum):
    """Why the bot itself did not send a refill or cancel for an order."""

    NOT_ALLOWED = "not_allowed"
    """The service does not allow it."""
    FINISHED = "finished"
    """Cancel: the order is already in a final state."""
    REQUESTED = "requested"
    """Cancel: already requested; refill: one is under way."""
    NOT_DELIVERED = "not_delivered"
    """Refill: the order was canceled, refunded or failed."""
    NOT_YET = "not_yet"
    """Refill: the order is not delivered yet (pending or in progress)."""
    TERM_OVER = "term_over"
    """Refill: the refill term the service's name states is over."""


CancelResult = PanelError | Refusal | None
"""None: the panel accepted the cancellation."""
RefillResult = int | PanelError | Refusal
"""An int: the refill's id."""


class OrderActions:
    def __init__(
        self,
        store: Store,
        panel: Panel,
        tracking: OrderTracking,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._panel = panel
        self._tracking = tracking
        self._clock = clock
        self._in_flight: set[tuple[str, int]] = set()

    async def fresh(self, stored: Mapping[int, Order]) -> dict[int, Order]:
        """The orders, those whose stored status is not final asked of the panel first (the
        tracker polls old orders seldom: a refill refused as "not delivered yet" while the
        panel says Completed would be false). A panel that cannot answer leaves them as
        stored; the call that follows reads its failure."""
        asked = [i for i, order in stored.items() if not order.final]
        if not asked:
            return dict(stored)
        try:
            statuses = await self._panel.statuses(asked)
        except PanelFailure:
            return dict(stored)
        fresh = dict(stored)
        for panel_id in asked:
            status = statuses.get(panel_id)
            if isinstance(status, OrderStatus):
                fresh[panel_id] = await self._tracking.record(stored[panel_id], status)
        return fresh

    def cancel_refusal(self, order: Order) -> Refusal | None:
        if not order.can_cancel:
            return Refusal.NOT_ALLOWED
        if order.cancel_requested_at is not None or ("cancel", order.id) in self._in_flight:
            return Refusal.REQUESTED  # even once it is canceled: that is what was asked
        if order.final:
            return Refusal.FINISHED
        return None

    async def refill_refusal(self, order: Order) -> Refusal | None:
        term = order.refill_term
        if not order.can_refill or (term is not None and term.days == 0):
            return Refusal.NOT_ALLOWED
        until = order.refill_until
        if until is not None and self._clock() > until:
            return Refusal.TERM_OVER
        if order.state in NOT_DELIVERED:
            return Refusal.NOT_DELIVERED
        if order.state in UNDER_WAY:
            return Refusal.NOT_YET
        if ("refill", order.id) in self._in_flight:
            return Refusal.REQUESTED
        latest = await self._store.refills.latest_for(order.panel_order_id or 0)
        if latest is not None and not latest.final:
            return Refusal.REQUESTED
        return None

    # -- what a user asks, by the panel's order ids (the actor may act on their own) -------------

    async def _theirs(self, actor: Actor, ids: list[int]) -> tuple[dict[int, Order], set[int]]:
        """The bot's orders among `ids` the actor may see, and the ids they may act on: their
        own (an admin: any, orders placed on the panel's website too)."""
        stored = await self._store.orders.by_panel_ids(ids)
        owned = {i: order for i, order in stored.items() if actor.may_see(order)}
        return owned, {i for i in ids if actor.may_ask_about(i, owned.get(i))}

    async def status(
        self, actor: Actor, ids: list[int]
    ) -> tuple[dict[int, OrderStatus | PanelError], dict[int, Order]]:
        """The panel's status of each id (`NOT_YOURS` for one the actor may not see), and the
        bot's own orders among them, stored as seen. Raises `PanelFailure`."""
        owned, allowed = await self._theirs(actor, ids)
        asked = [i for i in ids if i in allowed]
        statuses = await self._panel.statuses(asked) if asked else {}
        results: dict[int, OrderStatus | PanelError] = {}
        for panel_id in ids:
            status = statuses.get(panel_id, NOT_YOURS) if panel_id in allowed else NOT_YOURS
            if panel_id in owned and isinstance(status, OrderStatus):
                owned[panel_id] = await self._tracking.record(owned[panel_id], status)
            results[panel_id] = status
        return results, owned

    async def refill_orders(self, actor: Actor, ids: list[int]) -> dict[int, RefillResult]:
        owned, allowed = await self._theirs(actor, ids)
        return await self.refill(ids, owned, allowed, actor.user_id)

    async def known_cancel_refusals(self, actor: Actor, ids: list[int]) -> dict[int, Refusal]:
        """The actor's orders among `ids` the bot already knows cannot be canceled (stored
        as finished, not cancelable, asked already): refused without asking the user first."""
        owned, _ = await self._theirs(actor, ids)
        refused = {i: self.cancel_refusal(order) for i, order in owned.items()}
        return {i: refusal for i, refusal in refused.items() if refusal is not None}

    async def cancel_orders(self, actor: Actor, ids: list[int]) -> dict[int, CancelResult]:
        owned, allowed = await self._theirs(actor, ids)
        return await self.cancel(ids, owned, allowed)

    async def refill_states(
        self, actor: Actor, ids: list[int]
    ) -> dict[int, RefillStatus | PanelError]:
        """The state of refills the actor may see (theirs; an admin: any)."""
        known = await self._store.refills.get_many(ids)
        allowed = {i for i in ids if actor.is_admin or (i in known and actor.may_see(known[i]))}
        return await self.refill_statuses(ids, allowed)

    async def refusal(self, kind: str, order: Order) -> Refusal | None:
        """Why a `kind` ("refill" or "cancel") of this order is not sent, if it is not."""
        if kind == "cancel":
            return self.cancel_refusal(order)
        return await self.refill_refusal(order)

    async def _checked(
        self,
        kind: str,
        ids: list[int],
        stored: Mapping[int, Order],
        allowed: set[int],
        results: dict[int, Any],
    ) -> list[int]:
        """The ids to send: the others (not the user's, or refused by the checks) get their
        answer in `results` now."""
        sendable: list[int] = []
        for panel_id in ids:
            row = stored.get(panel_id)
            if panel_id not in allowed:
                results[panel_id] = NOT_YOURS
                continue
            refusal = None if row is None else await self.refusal(kind, row)
            if refusal is None:
                sendable.append(panel_id)
            else:
                results[panel_id] = refusal
        return sendable

    @contextmanager
    def _sending(self, kind: str, orders: list[Order]) -> Iterator[None]:
        keys = {(kind, order.id) for order in orders}
        self._in_flight |= keys
        try:
            yield
        finally:
            self._in_flight -= keys

    async def cancel(
        self, ids: list[int], stored: Mapping[int, Order], allowed: set[int]
    ) -> dict[int, CancelResult]:
        """Cancel the orders `ids` (panel ids). `stored` holds the bot's rows among them,
        `allowed` the ids this user may act on (an admin: any). Checks first, then one bulk
        call for the rest; accepted cancellations are remembered."""
        results: dict[int, CancelResult] = {}
        stored = await self.fresh({i: o for i, o in stored.items() if i in allowed})
        sendable = await self._checked("cancel", ids, stored, allowed, results)
        rows = [stored[i] for i in sendable if i in stored]
        if sendable:
            with self._sending("cancel", rows):
                results.update(await self._panel.cancel(sendable))
                accepted = [row.id for row in rows if results.get(row.panel_order_id or 0) is None]
                await self._store.orders.mark_cancel_requested(accepted)
        return {i: results[i] for i in ids}

    async def refill_statuses(
        self, ids: list[int], allowed: set[int]
    ) -> dict[int, RefillStatus | PanelError]:
        """The state of refills (`allowed`: those the user may see); the followed ones among
        them are stored. Raises `PanelFailure` for the whole call."""
        asked = [i for i in ids if i in allowed]
        answers = await self._panel.refill_statuses(asked) if asked else {}
        followed = await self._store.refills.get_many(asked)
        results: dict[int, RefillStatus | PanelError] = {}
        for refill_id in ids:
            result = answers.get(refill_id, NOT_YOURS) if refill_id in allowed else NOT_YOURS
            if refill_id in followed and isinstance(result, RefillStatus):
                await self._store.refills.store_statuses({refill_id: result.status_raw})
            results[refill_id] = result
        return results

    async def refill(
        self, ids: list[int], stored: Mapping[int, Order], allowed: set[int], user_id: int
    ) -> dict[int, RefillResult]:
        """Ask refills for `ids` (panel ids), like `cancel`; each refill granted is followed
        (stored for its owner, or for `user_id` where the bot has no row)."""
        results: dict[int, RefillResult] = {}
        stored = await self.fresh({i: o for i, o in stored.items() if i in allowed})
        sendable = await self._checked("refill", ids, stored, allowed, results)
        if sendable:
            with self._sending("refill", [stored[i] for i in sendable if i in stored]):
                results.update(await self._panel.refills(sendable))
            for panel_id in sendable:
                refill_id = results[panel_id]
                if isinstance(refill_id, int):
                    owner = stored[panel_id].user_id if panel_id in stored else user_id
                    await self._store.refills.add(refill_id, panel_id, owner)
        return {i: results[i] for i in ids}
