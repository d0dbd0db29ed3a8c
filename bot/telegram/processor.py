"""The order of updates: a user's one after the other, different users' in parallel."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 512
UNLIMITED = 2**31 - 1
MAX_QUEUED_PER_USER = 10
"""A user's updates waiting behind their running one; more are dropped with one notice."""
SLOW_AFTER = 2.0
"""Seconds an update may take before the user sees "typing…" (a slow panel, say)."""
TYPING_EVERY = 4.5
"""Telegram shows a chat action for 5 s: it is sent again while the update runs."""


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Updates of one user run in order; different users run in parallel, so a slow panel
    answer for one user never stalls the others.

    A user's update waits for that user's earlier ones before it takes one of the shared
    slots. PTB's (final) `process_update` takes its slot before `do_process_update` runs, so
    one user's queue could hold them all: its limit is set out of reach and the real one
    (`max_concurrent_updates`) is taken after the user's lock. Beyond `max_queued` waiting
    updates, a user's further updates are dropped and they are told once (`on_overflow`).
    An update still running after `slow_after` seconds gets `on_slow` (the "typing…" action)
    every `TYPING_EVERY` seconds until it is done."""

    def __init__(
        self,
        on_overflow: Callable[[Update], Awaitable[None]],
        on_slow: Callable[[Update], Awaitable[None]],
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        max_queued: int = MAX_QUEUED_PER_USER,
        slow_after: float = SLOW_AFTER,
    ) -> None:
        super().__init__(UNLIMITED)
        self._on_overflow = on_overflow
        self._on_slow = on_slow
        self._slow_after = slow_after
        self._max_queued = max_queued
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: Counter[int] = Counter()
        self._told: set[int] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            async with self._slots:
                await coroutine
            return
        if self._pending[user.id] > self._max_queued:
            if asyncio.iscoroutine(coroutine):
                coroutine.close()
            if user.id not in self._told:
                self._told.add(user.id)
                await self._on_overflow(update)  # type: ignore[arg-type]
            return
        lock = self._locks.setdefault(user.id, asyncio.Lock())
        self._pending[user.id] += 1
        try:
            async with lock, self._slots:
                await self._run(update, coroutine)  # type: ignore[arg-type]
        finally:
            self._pending[user.id] -= 1
            if not self._pending[user.id]:
                del self._pending[user.id]
                del self._locks[user.id]
                self._told.discard(user.id)

    async def _run(self, update: Update, coroutine: Awaitable[Any]) -> None:
        """Run the update; past `slow_after` seconds, keep the user told that it runs. Only a
        timer per update: the task that tells is made for the slow ones alone."""
        typing: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            self._slow_after, lambda: typing.append(asyncio.create_task(self._typing(update)))
        )
        try:
            await coroutine
        finally:
            timer.cancel()
            for task in typing:
                task.cancel()

    async def _typing(self, update: Update) -> None:
        while True:
            try:
                await self._on_slow(update)
            except Exception:  # a courtesy: never an error of the update it accompanies
                log.debug("typing action not sent", exc_info=True)
                return
            await asyncio.sleep(TYPING_EVERY)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
