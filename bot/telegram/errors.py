"""The one error handler: log the traceback, tell the user to try again, show no internals."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError
from telegram.ext import Application

from bot.telegram.context import BotContext
from bot.telegram.render.keyboards import main_menu

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """A tapped button is not answered here: the failing handler may have answered it already
    (its context is not this one), and Telegram takes one answer per tap."""
    if isinstance(context.error, NetworkError) and not isinstance(update, Update):
        log.warning("network error outside an update: %s", context.error)
        return
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(context.error, Forbidden):
        return
    user = update.effective_user
    i18n = context.state.i18n
    language = i18n.default_language
    if user is not None:
        row = await context.state.accounts.get(user.id)
        language = i18n.resolve(row.language if row else None, user.language_code)
    t = i18n.get(language)
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            t._("Something went wrong. Please try again."),
            reply_markup=main_menu(t),
        )
    except Exception:  # the error handler must never raise
        log.warning("could not tell the user about the error", exc_info=True)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_error_handler(on_error)
