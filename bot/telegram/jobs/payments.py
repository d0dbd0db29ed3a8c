"""The payments job: every 10 s the open payments that are due asked about at their gateway
(or closed once expired), and what that changed told at once; and the callbacks' web server's
handler, which tells at once too."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from telegram import Bot
from telegram.ext import Application, ContextTypes

from bot.core.topups import FAST_POLL, TopUps
from bot.telegram.jobs.tracker import TrackerJob

log = logging.getLogger(__name__)


class PaymentsJob:
    def __init__(self, topups: TopUps, tracker: TrackerJob) -> None:
        self._topups = topups
        self._tracker = tracker
        self.bot: Bot | None = None
        """The bot that sends what a callback changed (set once the bot runs)."""

    @property
    def takes_callbacks(self) -> bool:
        """Whether a gateway that sends callbacks is enabled."""
        return self._topups.takes_callbacks

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        assert application.job_queue is not None
        application.job_queue.run_repeating(
            self._job,
            interval=FAST_POLL,
            first=FAST_POLL,
            name="payments",
            job_kwargs={"max_instances": 1, "coalesce": True},
        )

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.run(context.bot)

    async def run(self, bot: Bot) -> int:
        """One poll; how many payments were credited or closed (their owners told now)."""
        changed = await self._topups.poll()
        if changed:
            self._tracker.deliver_soon(bot)
        return changed

    async def callback(
        self, name: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes, str] | None:
        answer = await self._topups.callback(name, body, headers)
        if self.bot is not None:
            self._tracker.deliver_soon(self.bot)
        return answer
