"""/start, /help, the main menu, the command menu, and a hint for stray text."""

from __future__ import annotations

from bot.telegram.context import BotContext
from bot.telegram.handlers import browse, mass, orders, shop
from bot.telegram.handlers.common import expired, home_menu, show
from bot.telegram.i18n import N_, Translator
from bot.telegram.ui import callback as cb
from bot.telegram.ui.keyboards import Button, markup, menu_button
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

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


async def stray_text(update: Update, context: BotContext) -> None:
    """Words typed outside an order search the services (right after the orders list: the
    user's orders; after the mass order's prompt, or pasted as such: a mass order's lines);
    what finds nothing, an unknown command or anything else gets the menu
    and a hint."""
    message = update.effective_message
    text = (message.text or "").strip() if message is not None else ""
    if text and not text.startswith("/") and context.came_from == orders.ORDERS_SCREEN:
        await orders.find_orders(update, context, text)
        return
    if text and (context.came_from == mass.MASS_SCREEN or mass.looks_like_lines(text)):
        await mass.preview(update, context, text)
        return
    if text and await shop.typed(update, context, text):
        return
    if text and not text.startswith("/") and await browse.search_found(update, context, text):
        return
    t = context.t
    await show(
        update,
        context,
        t._("I did not understand that. Use the menu below, or /help for the commands."),
        home_menu(context),
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CallbackQueryHandler(start, pattern=cb.MENU.matches))
    application.add_handler(CallbackQueryHandler(help_command, pattern=cb.HELP.matches))


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """Registered last in the default group, so they run only when no feature handled the
    update: stray text, unknown commands and buttons nobody knows."""
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE, stray_text))
    application.add_handler(CallbackQueryHandler(expired))
