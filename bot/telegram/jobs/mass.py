"""Confirmed mass orders, run in the background (the user goes on using the bot meanwhile):
one task per batch, its progress message edited as the lines go, then the report. Batches a
stop or a crash interrupted go on at the next start; at shutdown a batch stops between two
lines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.core.accounts import Accounts
from bot.core.mass_order import MassOrders
from bot.core.panel import PanelFailure
from bot.core.records import MassBatch
from bot.telegram.features.mass.screens import progress_text, report_keyboard, report_messages
from bot.telegram.i18n import I18n, Translator
from bot.telegram.render.text import failure_text, user_translator

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0
"""Seconds between two edits of a progress message (Telegram limits edits)."""


class MassOrderJob:
    def __init__(
        self, mass: MassOrders, accounts: Accounts, i18n: I18n, *, clock: Callable[[], float]
    ) -> None:
        self._mass = mass
        self._accounts = accounts
        self._i18n = i18n
        self._clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._users: dict[int, asyncio.Lock] = {}
        """A user's batches run one after the other: one customer does not flood the panel
        with several batches at once."""

    def start(self, bot: Bot, batch: MassBatch) -> None:
        if batch.key in self._tasks:
            return
        task = asyncio.create_task(self._run(bot, batch))
        self._tasks[batch.key] = task
        task.add_done_callback(lambda _: self._tasks.pop(batch.key, None))

    async def resume(self, bot: Bot) -> None:
        """Go on with the batches the last run left unfinished."""
        for batch in await self._mass.unfinished():
            log.info("mass order %s of user %d goes on", batch.key, batch.user_id)
            self.start(bot, batch)

    async def stop(self) -> None:
        """Let each running batch finish the line under way, and stop there."""
        self._mass.stopping = True
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def wait(self) -> None:
        """Until every batch started so far is done (tests)."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run(self, bot: Bot, batch: MassBatch) -> None:
        t = user_translator(self._i18n, await self._accounts.get(batch.user_id))
        shown_at = 0.0

        async def progress(done: int, total: int) -> None:
            nonlocal shown_at
            if done < total and self._clock() - shown_at < PROGRESS_EVERY:
                return
            shown_at = self._clock()
            await self._edit(bot, batch, progress_text(t, done, total))

        lock = self._users.setdefault(batch.user_id, asyncio.Lock())
        try:
            async with lock:
                reports = await self._mass.run(batch, progress)
        except PanelFailure as exc:  # no catalog at all: nothing was sent
            await self._mass.give_up(batch)
            nothing = t._("Nothing of this mass order was placed: send it again later.")
            await self._tell(bot, batch, [failure_text(t, exc) + "\n\n" + nothing], t)
            return
        except Exception:
            log.exception("mass order %s stopped; it goes on at the next start", batch.key)
            stopped = t._(
                "⚠️ The mass order stopped on an error. No line is sent twice: it goes on "
                "when the bot starts again."
            )
            await self._tell(bot, batch, [stopped], t)
            return
        if reports is not None:
            await self._tell(bot, batch, report_messages(t, reports), t)

    async def _edit(self, bot: Bot, batch: MassBatch, text: str) -> None:
        """Best effort: the batch goes on whatever becomes of its progress message."""
        if batch.chat_id is None or batch.message_id is None:
            return
        with contextlib.suppress(TelegramError):
            await bot.edit_message_text(text, batch.chat_id, batch.message_id)

    async def _tell(self, bot: Bot, batch: MassBatch, messages: list[str], t: Translator) -> None:
        """The report: in the progress message and, when longer, in the messages after it."""
        chat = batch.chat_id if batch.chat_id is not None else batch.user_id
        first, *rest = messages
        keyboard = report_keyboard(t)
        try:
            if batch.message_id is None:
                raise BadRequest("no progress message")
            await bot.edit_message_text(
                first, chat, batch.message_id, reply_markup=None if rest else keyboard
            )
        except BadRequest:
            await bot.send_message(chat, first, reply_markup=None if rest else keyboard)
        except TelegramError as exc:
            log.warning("mass order %s: report not shown (%s)", batch.key, exc)
            return
        for number, text in enumerate(rest, start=1):
            with contextlib.suppress(TelegramError):
                await bot.send_message(
                    chat, text, reply_markup=keyboard if number == len(rest) else None
                )
