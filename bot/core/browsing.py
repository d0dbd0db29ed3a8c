"""Browsing the catalog as one user sees it: their view of the services (a customer's prices
with the markup), their favourites and the services they ordered last."""

from __future__ import annotations

from bot.core.actor import Actor
from bot.core.catalog import CatalogIndex
from bot.core.ports import Store
from bot.core.shop import Shop


class Browsing:
    def __init__(self, store: Store, shop: Shop) -> None:
        self._store = store
        self._shop = shop

    async def index(self, actor: Actor) -> CatalogIndex:
        """Raises `PanelFailure` when there is no catalog at all."""
        return await self._shop.catalog_for(actor.user_id)

    async def favourites(self, actor: Actor) -> list[int]:
        """The actor's favourite service ids, the latest starred first."""
        return await self._store.favourites.of(actor.user_id)

    async def toggle_favourite(self, actor: Actor, service_id: int) -> bool:
        """Star or unstar; whether the service is a favourite now."""
        return await self._store.favourites.toggle(actor.user_id, service_id)

    async def recent(self, actor: Actor, limit: int) -> list[int]:
        """The services of the actor's latest orders, the latest first."""
        return await self._store.orders.recent_services(actor.user_id, limit)

    async def has_orders(self, actor: Actor) -> bool:
        return await self._store.orders.has_orders(actor.user_id)
