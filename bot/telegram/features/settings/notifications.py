"""/notifications: order notifications on or off, per user."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.render.keyboards import Button, markup, menu_button
from bot.telegram.replies import expired, show


async def _render(update: Update, context: BotContext, enabled: bool) -> None:
    t = context.t
    if enabled:
        text = t._("🔔 Notifications are <b>on</b>: you are told here when an order changes.")
        toggle = Button(t._("🔕 Turn off"), callback_data=cb.NOTIFICATIONS(0))
    else:
        text = t._(
            "🔕 Notifications are <b>off</b>. Your orders are still followed; "
            "look at them with /orders."
        )
        toggle = Button(t._("🔔 Turn on"), callback_data=cb.NOTIFICATIONS(1))
    await show(update, context, text, markup([[toggle, menu_button(t)]]))


async def notifications(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    row = await context.state.accounts.get(user.id)
    await _render(update, context, row.notifications if row else True)


async def toggle(update: Update, context: BotContext) -> None:
    args = cb.NOTIFICATIONS.parse(update.callback_query.data if update.callback_query else None)
    user = update.effective_user
    if args is None or user is None or args[0] not in (0, 1):
        await expired(update, context)
        return
    await context.state.accounts.set_notifications(user.id, bool(args[0]))
    await _render(update, context, bool(args[0]))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("notifications", notifications))
    application.add_handler(CallbackQueryHandler(toggle, pattern=cb.NOTIFICATIONS.matches))
    application.add_handler(
        CallbackQueryHandler(notifications, pattern=cb.NOTIFICATIONS_MENU.matches)
    )
