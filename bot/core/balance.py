"""The panel balance and its currency, shared by every screen and the tracker.

The balance is asked at most once per `ttl` seconds however many users ask, and callers at the
same moment share one request. The currency is the stored one (IDR for the default panel and
the sandbox until one is known), learned from every balance answer and asked in the
background right after start, so prices show it from the first screen."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.core.api import Balance, to_currency
from bot.core.panel import BadKey, Panel, PanelFailure
from bot.core.ports import Facts

log = logging.getLogger(__name__)

BALANCE_TTL = 10.0


class PanelCurrency:
    def __init__(self, kv: Facts, default: str) -> None:
        self._kv = kv
        self._default = default
        self.code = default

    async def load(self) -> None:
        stored = await self._kv.get("currency")
        self.code = to_currency(stored) or self._default  # a value stored by an older version

    async def note(self, balance: Balance) -> None:
        if balance.currency and balance.currency != self.code:
            self.code = balance.currency
            await self._kv.set("currency", balance.currency)


class PanelBalance:
    def __init__(
        self,
        panel: Panel,
        currency: PanelCurrency,
        *,
        ttl: float = BALANCE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._panel = panel
        self._currency = currency
        self._ttl = ttl
        self._clock = clock
        self._last: tuple[float, Balance] | None = None
        self._asking = asyncio.Lock()
        self.learning: asyncio.Task[None] | None = None
        """The request made at start, while it runs."""

    async def get(self) -> Balance:
        """The balance, at most `ttl` seconds old; raises `PanelFailure` like the client."""
        async with self._asking:
            if self._last is not None and self._clock() - self._last[0] < self._ttl:
                return self._last[1]
            balance = await self._panel.balance()
            self._last = (self._clock(), balance)
        await self._currency.note(balance)
        return balance

    def learn(self) -> None:
        """Ask once in the background (at start): a panel that is down delays nothing."""
        self.learning = asyncio.create_task(self._learn())

    async def _learn(self) -> None:
        try:
            await self.get()
        except BadKey as exc:
            log.warning(
                "the panel refuses the API key (PANEL_KEY): %s; the admins are told by the tracker",
                exc,
            )
        except PanelFailure as exc:
            log.info("the panel's currency is not known yet (%s)", exc)

    def close(self) -> None:
        if self.learning is not None:
            self.learning.cancel()
