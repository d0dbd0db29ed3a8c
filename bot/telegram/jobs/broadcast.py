"""Broadcasts running in the background: a few recipients at a time, evenly paced under
Telegram's limits (at most `per_second`; a flood wait is waited out), its progress message
edited as it goes, then its report (through the outbox). A broadcast a stop or a crash
interrupted goes on at the next start, without sending anyone a message twice."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

from aiolimiter import AsyncLimiter
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.core.accounts import Accounts
from bot.core.broadcasts import Broadcasts
from bot.core.records import Broadcast, RecipientState
from bot.telegram.features.broadcasts.screens import progress_text, send_broadcast
from bot.telegram.i18n import I18n
from bot.telegram.render.text import user_translator

log = logging.getLogger(__name__)

PER_SECOND = 25
"""Below Telegram's limit of about 30 messages a second to different chats (the outbox's
notices and a broadcast together: `shared`)."""
PROGRESS_EVERY = 3.0
FLOOD_TRIES = 3


def _forget(queued: set[int], user: int, _: object) -> None:
    queued.discard(user)


class BroadcastJob:
    def __init__(
        self,
        broadcasts: Broadcasts,
        accounts: Accounts,
        i18n: I18n,
        *,
        clock: Callable[[], float],
        per_second: float = PER_SECOND,
        delivered: Callable[[Bot], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        shared: AsyncLimiter | None = None,
    ) -> None:
        self._broadcasts = broadcasts
        self._accounts = accounts
        self._i18n = i18n
        self._clock = clock
        self._per_second = per_second
        self._rate = AsyncLimiter(1, 1 / per_second)
        self._shared = shared
        """The pace of the other messages sent unasked (the outbox's): both together stay
        under Telegram's limit."""
        self._delivered = delivered
        self._sleep = sleep
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopping = False

    def start(self, bot: Bot, broadcast: Broadcast) -> None:
        if broadcast.id in self._tasks:
            return
        task = asyncio.create_task(self._run(bot, broadcast))
        self._tasks[broadcast.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(broadcast.id, None))

    async def resume(self, bot: Bot) -> None:
        """Go on with the broadcasts the last run left unfinished; a recipient it was sending
        to when it stopped is not sent to again."""
        for broadcast in await self._broadcasts.running():
            doubtful = await self._broadcasts.interrupted(broadcast.id)
            log.info(
                "broadcast %d goes on (%d recipient(s) in doubt are not sent to again)",
                broadcast.id,
                doubtful,
            )
            self.start(bot, broadcast)

    async def stop(self) -> None:
        """Let each running broadcast finish the recipients under way, and stop there."""
        self._stopping = True
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def wait(self) -> None:
        """Until every broadcast started so far is done (tests)."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run(self, bot: Bot, broadcast: Broadcast) -> None:
        t = user_translator(self._i18n, await self._accounts.get(broadcast.admin_id))
        shown_at = self._clock()
        ahead = max(1, int(self._per_second))
        """Recipients waiting for their turn at the pace: one second's worth, so the pace
        never waits for the database."""
        queued: set[int] = set()
        sending: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping:
                fetched = await self._broadcasts.next_recipients(broadcast.id, ahead + len(queued))
                users = [user for user in fetched if user not in queued]
                if not users and not sending:
                    break
                for user in users:
                    queued.add(user)
                    task = asyncio.create_task(self._send(bot, broadcast, user))
                    sending.add(task)
                    task.add_done_callback(sending.discard)
                    task.add_done_callback(functools.partial(_forget, queued, user))
                if sending:
                    await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
                while len(sending) > ahead:
                    await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
                if self._clock() - shown_at >= PROGRESS_EVERY:
                    shown_at = self._clock()
                    tally = await self._broadcasts.tally(broadcast.id)
                    await self._edit(bot, broadcast, progress_text(t, tally))
            await asyncio.gather(*sending, return_exceptions=True)
            if self._stopping:
                return
            final = await self._broadcasts.finish(broadcast.id)
            if final is not None:
                await self._edit(bot, broadcast, progress_text(t, final))
                if self._delivered is not None:
                    self._delivered(bot)
        except Exception:
            log.exception("broadcast %d stopped; it goes on at the next start", broadcast.id)

    async def _turn(self) -> None:
        await self._rate.acquire()
        if self._shared is not None:
            await self._shared.acquire()

    async def _send(self, bot: Bot, broadcast: Broadcast, user: int) -> None:
        """One recipient: marked as being sent (committed), sent, its outcome kept."""
        await self._turn()
        if self._stopping:
            return
        records = self._broadcasts
        await records.record(broadcast.id, {user: RecipientState.SENDING})
        outcome = await self._attempt(bot, broadcast, user)
        await records.record(broadcast.id, {user: outcome})

    async def _attempt(self, bot: Bot, broadcast: Broadcast, user: int) -> RecipientState:
        for attempt in range(FLOOD_TRIES):
            if attempt:
                await self._turn()
            try:
                await send_broadcast(bot, user, broadcast)
            except RetryAfter as flood:
                wait = flood.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                log.warning("broadcast %d: flood wait of %s s", broadcast.id, seconds)
                await self._sleep(float(seconds))
                continue
            except Forbidden:
                await self._accounts.blocked(user)
                return RecipientState.BLOCKED
            except BadRequest as exc:
                log.info("broadcast %d: not sent to %d (%s)", broadcast.id, user, exc)
                return RecipientState.FAILED
            except TelegramError as exc:  # it may have arrived: never sent again
                log.warning("broadcast %d: to %d, outcome unknown (%s)", broadcast.id, user, exc)
                return RecipientState.FAILED
            return RecipientState.SENT
        return RecipientState.FAILED

    async def _edit(self, bot: Bot, broadcast: Broadcast, text: str) -> None:
        if broadcast.chat_id is None or broadcast.message_id is None:
            return
        with contextlib.suppress(TelegramError):
            await bot.edit_message_text(text, broadcast.chat_id, broadcast.message_id)
