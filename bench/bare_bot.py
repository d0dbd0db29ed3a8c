"""The baseline of `bench/rate.py`: a bare python-telegram-bot bot that answers every update
with one message (a text) or one edit (a tap) and does nothing else. Same library, same
polling, same concurrency as the bot; no database, no panel, no i18n, no gate.

Run as `python -m bench.bare_bot` with BOT_TOKEN and TELEGRAM_API_URL in the environment."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("ok")


async def edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.edit_message_text("ok")


def build() -> Application:  # type: ignore[type-arg]
    application = (
        ApplicationBuilder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_URL"])
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.ALL, reply))
    application.add_handler(CallbackQueryHandler(edit))
    return application


if __name__ == "__main__":
    build().run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0)
