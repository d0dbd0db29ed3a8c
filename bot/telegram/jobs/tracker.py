"""The tracker job: every POLL_INTERVAL seconds (never two at once) a tracking poll, then the
outbox sent within Telegram's limits, each notice in its recipient's language."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot.core.accounts import Accounts
from bot.core.checkout import UnsavedOutcomes
from bot.core.notices import ADMINS
from bot.core.ports import Outbox
from bot.core.records import OutboxItem, UserRecord
from bot.core.tracking import CycleReport, OrderTracking
from bot.telegram.i18n import I18n
from bot.telegram.notices import send_notice
from bot.telegram.render.text import user_translator

log = logging.getLogger(__name__)

SEND_BATCH = 100
NOTIFICATIONS_PER_SECOND = 27
"""Below Telegram's limit of about 30 messages a second for bulk sending, evenly spaced
(a bucket that lets a burst through at once would be answered with 429)."""


class TrackerJob:
    def __init__(
        self,
        tracking: OrderTracking,
        outbox: Outbox,
        accounts: Accounts,
        i18n: I18n,
        unsaved: UnsavedOutcomes,
        *,
        admin_ids: Iterable[int],
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        self._tracking = tracking
        self._outbox = outbox
        self._accounts = accounts
        self._unsaved = unsaved
        self._i18n = i18n
        self._admin_ids = sorted(admin_ids)
        self._interval = interval
        self._clock = clock
        self._lock = asyncio.Lock()
        self._sending = asyncio.Lock()
        """One delivery of the outbox at a time (a cycle's, or one asked for at once)."""
        self._send_rate = AsyncLimiter(1, 1 / NOTIFICATIONS_PER_SECOND)
        self._soon: asyncio.Task[None] | None = None
        self._again = False
        self.last_cycle: CycleReport | None = None

    @property
    def send_rate(self) -> AsyncLimiter:
        """The pace of the bot's messages sent unasked: a broadcast takes its turns from it
        too, so that both together stay under Telegram's limit."""
        return self._send_rate

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        assert application.job_queue is not None
        application.job_queue.run_repeating(
            self._job,
            interval=self._interval,
            first=min(5.0, self._interval),
            name="tracker",
            job_kwargs={"max_instances": 1, "coalesce": True},
        )

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.run_cycle(context.bot)

    async def run_cycle(self, bot: Bot) -> CycleReport | None:
        """One cycle; None if one is already running."""
        if self._lock.locked():
            log.info("tracker cycle still running; this one is skipped")
            return None
        async with self._lock:
            await self._unsaved.save()
            report = await self._tracking.poll()
            report.sent = await self.deliver(bot)
            report.duration = self._clock() - report.started
            self.last_cycle = report
            return report

    # -- delivery -------------------------------------------------------------------------------

    def deliver_soon(self, bot: Bot) -> None:
        """Send the outbox now, not at the next cycle (a card an admin must act on, a reply
        someone waits for): the notices are stored already, so nothing is lost if this does
        not run."""
        self._again = True
        if self._soon is None or self._soon.done():
            self._soon = asyncio.create_task(self._deliver_while_asked(bot))

    async def _deliver_while_asked(self, bot: Bot) -> None:
        while self._again:
            self._again = False
            try:
                await self.deliver(bot)
            except Exception:  # the next cycle sends what is left
                log.warning("outbox not delivered now; the next cycle sends it", exc_info=True)
                return

    async def delivered(self) -> None:
        """Until the delivery asked for with `deliver_soon` is done (tests, shutdown)."""
        if self._soon is not None:
            await asyncio.gather(self._soon, return_exceptions=True)

    async def deliver(self, bot: Bot) -> int:
        """Send the outbox. Returns how many messages were sent."""
        async with self._sending:
            return await self._deliver(bot)

    async def _deliver(self, bot: Bot) -> int:
        sent = 0
        while True:
            items = await self._outbox.pending(SEND_BATCH)
            if not items:
                return sent
            users = await self._accounts.get_many(i.notice.to for i in items)
            outcomes = await asyncio.gather(
                *(self._send(bot, item, users.get(item.notice.to)) for item in items)
            )
            done = [
                item.id for item, outcome in zip(items, outcomes, strict=True) if outcome != "retry"
            ]
            sent += sum(1 for outcome in outcomes if outcome == "sent")
            await self._outbox.remove(done)
            if len(done) < len(items):
                return sent  # Telegram is failing: the rest waits for the next cycle

    async def _send(self, bot: Bot, item: OutboxItem, user: UserRecord | None) -> str:
        """'sent', 'dropped' (blocked, or notifications off) or 'retry'. A notice for every
        admin (`ADMINS`) is sent to each; it is done when one of them has it."""
        if item.notice.to == ADMINS:
            records = await self._accounts.get_many(self._admin_ids)
            outcomes = [
                await self._send_to(bot, item, admin, records.get(admin))
                for admin in self._admin_ids
            ]
            if "sent" in outcomes:
                return "sent"
            return "retry" if "retry" in outcomes else "dropped"
        return await self._send_to(bot, item, item.notice.to, user)

    async def _send_to(
        self, bot: Bot, item: OutboxItem, chat_id: int, user: UserRecord | None
    ) -> str:
        if user is not None and user.blocked:
            return "dropped"
        if not item.notice.always and user is not None and not user.notifications:
            return "dropped"
        t = user_translator(self._i18n, user)
        await self._send_rate.acquire()
        try:
            await send_notice(bot, chat_id, item.notice, t)
        except Forbidden:
            await self._accounts.blocked(chat_id)
            log.info("user %d blocked the bot; not messaged until they write again", chat_id)
            return "dropped"
        except BadRequest as exc:
            log.warning("notification %d dropped: %s", item.id, exc)
            return "dropped"
        except TelegramError as exc:
            log.warning("notification %d not sent (%s); kept for the next cycle", item.id, exc)
            return "retry"
        return "sent"
