"""A user's orders: the list with its filters and counts, finding one by what they remember
(an id, a link, words of the service), one order's card, and its refresh from the panel.
Who may see which order is `Actor.may_see`."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from bot.core.actor import Actor
from bot.core.order_actions import OrderActions
from bot.core.ports import Store
from bot.core.records import ListedOrder, Order, OrderFilter, Refill, same_target
from bot.core.tracking import OrderTracking

FOUND_SHOWN = 8
SEARCHED = 500
"""Typed words are looked for in the user's latest orders, this many."""


@dataclass(frozen=True, slots=True)
class OrdersPage:
    owner: int
    """Whose orders (an admin may list another user's)."""
    view: OrderFilter
    page: int
    counts: dict[OrderFilter, int]
    orders: list[Order]
    """The page's orders, newest first."""

    @property
    def in_view(self) -> int:
        return self.counts[self.view]


@dataclass(frozen=True, slots=True)
class Found:
    orders: list[Order]
    """The first `FOUND_SHOWN`."""
    total: int


@dataclass(frozen=True, slots=True)
class Card:
    """An order as its card shows it: its latest refill, and which actions it offers."""

    order: Order
    refill: Refill | None
    can_refill: bool
    can_cancel: bool


class MyOrders:
    def __init__(self, store: Store, tracking: OrderTracking, actions: OrderActions) -> None:
        self._store = store
        self._tracking = tracking
        self._actions = actions

    async def page(
        self, actor: Actor, owner: int | None, view: OrderFilter, page: int, size: int
    ) -> OrdersPage | None:
        """A page of the orders of `owner` (None: the actor's own) in this view, with every
        view's count; None when the actor may not list them."""
        if owner is not None and owner != actor.user_id and not actor.is_admin:
            return None
        whose = owner if owner is not None else actor.user_id
        listed = await self._store.orders.listing(whose)
        counts = {v: sum(o.matches(v) for o in listed) for v in OrderFilter}
        chosen = [o for o in listed if o.matches(view)]
        pages = max(1, -(-len(chosen) // size))
        page = min(max(page, 0), pages - 1)
        shown = chosen[page * size : (page + 1) * size]
        rows = await self._store.orders.by_ids([o.id for o in shown])
        return OrdersPage(whose, view, page, counts, rows)

    async def any(self, actor: Actor) -> bool:
        return await self._store.orders.has_orders(actor.user_id)

    async def find(self, actor: Actor, text: str) -> Found:
        """The actor's orders with that id (on the panel or in the bot), that link, or those
        words in the service's name or the link, among their latest."""
        latest: list[ListedOrder] = (await self._store.orders.listing(actor.user_id))[:SEARCHED]
        orders = await self._store.orders.by_ids([o.id for o in latest])
        query = text.strip().lstrip("#")
        if query.isdigit():
            found = [o for o in orders if int(query) in (o.panel_order_id, o.id)]
        elif "/" in query or "." in query:
            found = [o for o in orders if o.target is not None and same_target(o.target, query)]
        else:
            terms = query.casefold().split()
            found = [
                o
                for o in orders
                if all(w in f"{o.service_name} {o.target or ''}".casefold() for w in terms)
            ]
        return Found(found[:FOUND_SHOWN], len(found))

    async def order(self, actor: Actor, row_id: int) -> Order | None:
        """The order, if it exists and the actor may see it."""
        order = await self._store.orders.get(row_id)
        return order if order is not None and actor.may_see(order) else None

    async def card(self, actor: Actor, row_id: int) -> Card | None:
        order = await self.order(actor, row_id)
        return await self.card_of(order) if order is not None else None

    async def card_of(self, order: Order) -> Card:
        refills = self._store.refills
        refill = await refills.latest_for(order.panel_order_id) if order.panel_order_id else None
        placed = order.panel_order_id is not None
        return Card(
            order,
            refill,
            can_refill=placed and await self._actions.refusal("refill", order) is None,
            can_cancel=placed and self._actions.cancel_refusal(order) is None,
        )

    async def refresh(
        self, actor: Actor, row_id: int, seen: int | None = None
    ) -> tuple[Card, bool] | None:
        """The order asked of the panel again and stored: its card, and whether anything the
        card shows changed: since the card the user looked at (`seen`, its `fingerprint`),
        else since the stored one (the tracker may have changed it after the user looked).
        Raises `PanelFailure`."""
        order = await self.order(actor, row_id)
        if order is None:
            return None
        fresh = await self._tracking.refresh(order)
        before = seen if seen is not None else fingerprint(order)
        return await self.card_of(fresh), fingerprint(fresh) != before


def fingerprint(order: Order) -> int:
    """What an order's card shows of the panel's answer, as a small number (carried by the
    card's Refresh button, so a refresh compares with the card the user saw)."""
    shown = (order.status, order.remains, order.start_count, order.charge, order.refunded)
    return zlib.crc32(repr(shown).encode()) % 10**9
