"""/balance and the Balance button."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.core.panel import PanelFailure, PanelUnavailable
from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.features.wallet import handlers as wallet
from bot.telegram.render.keyboards import Button, markup, menu_button
from bot.telegram.render.text import failure_text
from bot.telegram.replies import show, too_fast


async def balance(update: Update, context: BotContext) -> None:
    t = context.t
    if context.actor.pays_from_wallet:
        await wallet.show_wallet(update, context)
        return
    if await too_fast(update, context):
        return
    try:
        result = await context.state.balance.get()
    except PanelFailure as exc:
        rows = [[menu_button(t)]]
        if isinstance(exc, PanelUnavailable):
            rows = [[Button(t._("🔄 Retry"), callback_data=cb.BALANCE()), menu_button(t)]]
        await show(update, context, failure_text(t, exc), markup(rows))
        return
    text = t._("Balance: <b>{amount}</b>").format(amount=t.money(result.amount, result.currency))
    refresh = Button(t._("🔄 Refresh"), callback_data=cb.BALANCE())
    await show(update, context, text, markup([[refresh, menu_button(t)]]))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("balance", balance))
    application.add_handler(CallbackQueryHandler(balance, pattern=cb.BALANCE.matches))
