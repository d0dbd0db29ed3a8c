"""/start, /help, the main menu and the command menu."""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.features.referrals import handlers as referrals
from bot.telegram.i18n import N_, Translator
from bot.telegram.render.keyboards import Button, markup, menu_button
from bot.telegram.replies import home_menu, show

COMMANDS = (
    ("order", N_("Place a new order")),
    ("mass", N_("Mass order: many orders, one per line")),
    ("orders", N_("My orders")),
    ("status", N_("Status of orders by id")),
    ("refill", N_("Ask for a refill of orders")),
    ("refill_status", N_("Status of refills")),
    ("cancel", N_("Cancel orders, or the current step")),
    ("balance", N_("Panel balance")),
    ("notifications", N_("Order notifications on or off")),
    ("support", N_("Ask support a question")),
    ("language", N_("Change the language")),
    ("help", N_("How to use this bot")),
)


def bot_commands(t: Translator) -> list[BotCommand]:
    return [BotCommand(name, t._(description)) for name, description in COMMANDS]


async def set_chat_commands(context: BotContext, chat_id: int) -> None:
    """The command menu of one chat, in the language its user chose."""
    await context.bot.set_my_commands(bot_commands(context.t), scope=BotCommandScopeChat(chat_id))


def welcome(t: Translator) -> str:
    return t._(
        "<b>Welcome!</b>\nOrder the panel's services, follow your orders and check the "
        "balance, right here. Choose an action:"
    )


def help_text(t: Translator) -> str:
    lines = [t._("<b>How to use this bot</b>"), ""]
    lines += [f"/{name} — {t._(description)}" for name, description in COMMANDS]
    lines += [
        "",
        t._("Ids can be separated by spaces, commas or new lines, e.g. /status 123 456."),
        t._("You are told here when one of your orders changes."),
    ]
    return "\n".join(lines)


async def start(update: Update, context: BotContext) -> None:
    """/start and the Menu button: the main menu, and the order left half-filled if any."""
    t = context.t
    text = welcome(t)
    joined = await referrals.link_from_start(update, context)
    if joined:
        text = joined + "\n\n" + text
    if context.data.draft is not None:
        text += "\n\n" + t._("Your unfinished order is kept: ▶️ continue it, or start a new one.")
    await show(update, context, text, home_menu(context))


async def help_command(update: Update, context: BotContext) -> None:
    t = context.t
    rows = [
        [Button(t._("🔔 Notifications"), callback_data=cb.NOTIFICATIONS_MENU())],
        [menu_button(t)],
    ]
    await show(update, context, help_text(t), markup(rows))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CallbackQueryHandler(start, pattern=cb.MENU.matches))
    application.add_handler(CallbackQueryHandler(help_command, pattern=cb.HELP.matches))
