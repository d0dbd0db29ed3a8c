"""/language: choose the language with buttons."""

from __future__ import annotations

from babel import Locale
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.features.start.handlers import set_chat_commands, welcome
from bot.telegram.render.keyboards import Button, main_menu, markup, menu_button
from bot.telegram.replies import expired, show

NAMES = {"en": "English", "id": "Bahasa Indonesia"}
"""As their speakers name them (Babel says "Indonesia" for the language)."""


def language_name(code: str) -> str:
    if code in NAMES:
        return NAMES[code]
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


async def choose(update: Update, context: BotContext) -> None:
    t = context.t
    buttons = [
        [
            Button(
                ("✅ " if code == t.language else "") + language_name(code),
                callback_data=cb.SET_LANGUAGE(code),
            )
        ]
        for code in context.state.i18n.languages
    ]
    buttons.append([menu_button(t)])
    await show(update, context, t._("Choose your language:"), markup(buttons))


async def set_language(update: Update, context: BotContext) -> None:
    args = cb.SET_LANGUAGE.parse(update.callback_query.data if update.callback_query else None)
    user = update.effective_user
    if args is None or user is None or args[0] not in context.state.i18n.languages:
        await expired(update, context)
        return
    await context.state.accounts.set_language(user.id, args[0])
    context.use_language(args[0])
    t = context.t
    await show(update, context, t._("Language changed.") + "\n\n" + welcome(t), main_menu(t))
    if update.effective_chat is not None:
        await set_chat_commands(context, update.effective_chat.id)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("language", choose))
    application.add_handler(CallbackQueryHandler(choose, pattern=cb.LANGUAGES.matches))
    application.add_handler(CallbackQueryHandler(set_language, pattern=cb.SET_LANGUAGE.matches))
