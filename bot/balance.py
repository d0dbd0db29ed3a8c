"""The panel balance, shared: asked at most once per `ttl` seconds however many users ask, and
callers at the same moment share one request. Every answer also keeps the panel's currency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.panel.client import PanelClient
from bot.panel.models import Balance

BALANCE_TTL = 10.0


class PanelBalance:
    def __init__(
        self,
        panel: PanelClient,
        on_answer: Callable[[Balance], Awaitable[None]],
        *,
        ttl: float = BALANCE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._panel = panel
        self._on_answer = on_answer
        self._ttl = ttl
        self._clock = clock
        self._last: tuple[float, Balance] | None = None
        self._asking = asyncio.Lock()

    async def get(self) -> Balance:
        """The balance, at most `ttl` seconds old; raises `PanelFailure` like the client."""
        async with self._asking:
            if self._last is not None and self._clock() - self._last[0] < self._ttl:
                return self._last[1]
            balance = await self._panel.balance()
            self._last = (self._clock(), balance)
        await self._on_answer(balance)
        return balance
