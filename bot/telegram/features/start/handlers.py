"""/start, /help, the main menu and the command menu."""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.core.panel import PanelFailure
from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.features.catalog.screens import service_button
from bot.telegram.features.referrals import handlers as referrals
from bot.telegram.i18n import N_, Translator
from bot.telegram.render.keyboards import Button, main_menu, markup, menu_button
from bot.telegram.replies import show

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


ADMIN_COMMANDS = (
    ("stats", N_("Users, orders, panel health and, in shop mode, the money")),
    ("orders &lt;user id&gt;", N_("A user's orders")),
    (
        "found &lt;number&gt; &lt;order id&gt;",
        N_("Attach the panel's order to one of unknown outcome"),
    ),
)
SHOP_ADMIN_COMMANDS = (
    ("credit &lt;user id&gt; &lt;amount&gt; [note]", N_("Add to a customer's wallet")),
    ("debit &lt;user id&gt; &lt;amount&gt; [note]", N_("Take from a customer's wallet")),
    ("wallet &lt;user id&gt;", N_("A customer's wallet and its entries")),
    ("limit &lt;user id&gt; &lt;amount&gt;", N_("How far below zero a wallet may go")),
    ("deposits", N_("The top-ups waiting for a decision")),
    ("markup", N_("The markup rules (all, a category, a service)")),
)


def help_text(t: Translator, *, admin: bool = False, shop: bool = False) -> str:
    """The commands; an admin's also lists the admin commands (with the shop's in shop
    mode)."""
    lines = [t._("<b>How to use this bot</b>"), ""]
    lines += [f"/{name} — {t._(description)}" for name, description in COMMANDS]
    if admin:
        lines += ["", t._("<b>Admin commands</b>")]
        commands = ADMIN_COMMANDS + (SHOP_ADMIN_COMMANDS if shop else ())
        lines += [f"/{name} — {t._(description)}" for name, description in commands]
    lines += [
        "",
        t._("Ids can be separated by spaces, commas or new lines, e.g. /status 123 456."),
        t._("You are told here when one of your orders changes."),
    ]
    return "\n".join(lines)


SHORTCUTS = 3
"""How many favourite or recent services the main menu offers to order in one tap."""


async def shortcuts(context: BotContext) -> list[Button]:
    """The user's favourite services, then those they ordered last, as buttons that open
    their order (none when the panel cannot give its catalog now)."""
    browsing = context.state.browsing
    try:
        index = await browsing.index(context.actor)
    except PanelFailure:
        return []
    favourites = await browsing.favourites(context.actor)
    recent = await browsing.recent(context.actor, SHORTCUTS)
    t, currency = context.t, context.state.currency.code
    marked = [("⭐", i) for i in favourites] + [("🕘", i) for i in recent if i not in favourites]
    return [
        Button(f"{mark} {service_button(t, index.by_id[i], currency)}", callback_data=cb.SERVICE(i))
        for mark, i in marked
        if i in index.by_id
    ][:SHORTCUTS]


async def start(update: Update, context: BotContext) -> None:
    """/start and the Menu button: the main menu, the order left half-filled if any, and
    the user's favourite and recent services."""
    t = context.t
    text = welcome(t)
    joined = await referrals.link_from_start(update, context)
    if joined:
        text = joined + "\n\n" + text
    draft = context.data.draft
    if draft is not None:
        text += "\n\n" + t._("Your unfinished order is kept: ▶️ continue it, or start a new one.")
    menu = main_menu(t, draft=draft, shortcuts=await shortcuts(context))
    await show(update, context, text, menu)


async def help_command(update: Update, context: BotContext) -> None:
    t = context.t
    rows = [
        [Button(t._("🔔 Notifications"), callback_data=cb.NOTIFICATIONS_MENU())],
        [menu_button(t)],
    ]
    admin = context.actor.is_admin
    shop = context.state.shop.on
    await show(update, context, help_text(t, admin=admin, shop=shop), markup(rows))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CallbackQueryHandler(start, pattern=cb.MENU.matches))
    application.add_handler(CallbackQueryHandler(help_command, pattern=cb.HELP.matches))
