"""What an admin's /stats shows: users, orders, the panel's health, the outbox, and in shop
mode the money of a few periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.money import Money
from bot.core.panel import Panel
from bot.core.ports import Clock, Store
from bot.core.records import DAY
from bot.core.shop import Shop


@dataclass(frozen=True, slots=True)
class Stats:
    users: int
    orders_since: int
    by_status: dict[str, int]
    panel_last_success: float
    panel_failures: int
    outbox: int
    money: list[Money]
    """Today's, the last 7 days', the last 30 days' (none outside shop mode)."""


class Statistics:
    def __init__(self, store: Store, panel: Panel, shop: Shop, clock: Clock) -> None:
        self._store = store
        self._panel = panel
        self._shop = shop
        self._clock = clock

    async def now(self) -> Stats:
        """The figures now: the orders placed today (UTC) and, in shop mode, the money of
        today, the last 7 and the last 30 days."""
        store = self._store
        now = self._clock()
        midnight = datetime.fromtimestamp(now, tz=UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        today = midnight.timestamp()
        money_since = (today, now - 7 * DAY, now - 30 * DAY)
        return Stats(
            users=await store.users.count(),
            orders_since=await store.orders.count_since(today),
            by_status=await store.orders.counts_by_status(),
            panel_last_success=self._panel.last_success,
            panel_failures=self._panel.failures_in_a_row,
            outbox=await store.outbox.count(),
            money=await self._shop.money_since(money_since) if self._shop.on else [],
        )
