"""Promo codes: the admins' /promo (list, add, switch off and on). Customers type a code at Top
up (after the amount) and at an order's summary (`bot.telegram.features.checkout`)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.core.promo import BadPromo
from bot.telegram.context import BotContext
from bot.telegram.features.promo.screens import bad_promo_text, promo_line, usage_text
from bot.telegram.replies import command_arguments, home_menu, show


async def promo_command(update: Update, context: BotContext) -> None:
    """/promo; /promo add CODE topup|order 10%|5000 [options]; /promo off|on CODE."""
    t = context.t
    promos = context.state.promos
    words = command_arguments(update).split()
    notice = ""
    if words:
        action = words[0].lower()
        if action == "add":
            made = await promos.create(words[1:], context.actor.user_id, context.state.shop.unit)
            if isinstance(made, BadPromo):
                text = "❌ " + bad_promo_text(t, made) + "\n\n" + usage_text(t)
                await show(update, context, text, home_menu(context))
                return
            notice = "✅ " + t._("Code {code} created.").format(code=made.code)
        elif action in ("off", "on") and len(words) == 2:
            if not await promos.switch(words[1], action == "on"):
                text = "❌ " + t._("There is no such code.")
                await show(update, context, text, home_menu(context))
                return
            notice = "✅ " + (
                t._("Code switched on.") if action == "on" else t._("Code switched off.")
            )
        else:
            await show(update, context, usage_text(t), home_menu(context))
            return
    codes = await promos.listing()
    currency = context.state.currency.code
    lines = [t._("<b>Promo codes</b>")]
    lines += [promo_line(t, promo, currency) for promo in codes] or [t._("None yet.")]
    text = "\n".join(lines) + "\n\n" + usage_text(t)
    await show(update, context, notice + "\n\n" + text if notice else text, home_menu(context))


def register(application: Application, admin_ids: frozenset[int], wallets: bool) -> None:  # type: ignore[type-arg]
    """Shop mode only: codes give money off wallet payments."""
    if not wallets:
        return
    admins = filters.User(user_id=admin_ids, allow_empty=False)
    application.add_handler(CommandHandler("promo", promo_command, filters=admins))
