"""Access control, in one place: a handler in the first group that stops foreign updates.

Admins (`ADMIN_IDS`) have full access, `ALLOWED_IDS` may use the operator's key; with no
`ALLOWED_IDS`, only admins may. Anyone else gets a polite refusal showing their id.
"""

from __future__ import annotations

import logging

from bot.logs import current_update
from bot.telegram.context import BotContext
from bot.telegram.handlers.common import answer_query, expired
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

log = logging.getLogger(__name__)

GROUP = -100


async def gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    state = context.state
    if user is None:
        raise ApplicationHandlerStop
    current_update.set((user.id, update.update_id))
    log.debug("an update from user %d", user.id)
    if not state.settings.is_allowed(user.id):
        context.use_language(state.i18n.resolve(None, user.language_code))
        t = context.t
        text = t._(
            "Sorry, this bot is private. Ask its operator for access and give them your "
            "Telegram id: <code>{id}</code>"
        ).format(id=user.id)
        await answer_query(update, context, t._("Sorry, this bot is private."))
        if update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, text)
        log.info("refused user %d: not in ADMIN_IDS or ALLOWED_IDS (told them their id)", user.id)
        raise ApplicationHandlerStop
    row = await state.store.users.touch(user.id, user.language_code)
    context.use_language(state.i18n.resolve(row.language, user.language_code))
    if context.user_data is not None:
        context.came_from, context.user_data.screen = context.user_data.screen, None
    if update.callback_query is not None and not update.callback_query.data:
        # PTB lets a query without data match every patterned handler: stop it here.
        await expired(update, context)
        raise ApplicationHandlerStop


async def too_busy(update: Update, application: Application) -> None:  # type: ignore[type-arg]
    """A user whose queue of updates is full: told once that the rest waits (strangers are
    not answered here; the gate answers them)."""
    state = application.bot_data
    user = update.effective_user
    if user is None or not state.settings.is_allowed(user.id):
        return
    row = await state.store.users.get(user.id)
    t = state.i18n.get(state.i18n.resolve(row.language if row else None, user.language_code))
    text = t._(
        "Please wait: your earlier requests are still being handled. "
        "What you sent meanwhile was skipped."
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=False)
        elif update.effective_chat is not None:
            await application.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        log.info("could not tell user %d to wait: %s", user.id, exc)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, gate), group=GROUP)
