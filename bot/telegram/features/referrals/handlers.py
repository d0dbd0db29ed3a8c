"""Referrals: /referrals (the link with a copy button, the count, the earnings); the link's
`/start ref_<code>` is read by /start (`link_from_start`)."""

from __future__ import annotations

from telegram import CopyTextButton, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.core.referrals import START_PREFIX, Linked
from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.features.referrals.screens import referral_link, referrals_text, welcome_referred
from bot.telegram.render.keyboards import Button, markup, menu_button
from bot.telegram.replies import home_menu, show


async def referrals(update: Update, context: BotContext) -> None:
    t = context.t
    program = context.state.referrals
    if not program.on or not context.actor.pays_from_wallet:
        await show(update, context, t._("There is no referral program here."), home_menu(context))
        return
    summary = await program.summary(context.actor.user_id)
    link = referral_link(context.bot.username, summary.code)
    text = referrals_text(t, summary, link, program.percent, context.state.currency.code)
    copy = Button(t._("📋 Copy the link"), copy_text=CopyTextButton(link))
    await show(update, context, text, markup([[copy], [menu_button(t)]]))


async def link_from_start(update: Update, context: BotContext) -> str:
    """The start parameter of a referral link: the user linked to who brought them (once);
    a line to welcome them, or nothing."""
    args = context.args or []
    if not args or not args[0].startswith(START_PREFIX) or not context.actor.pays_from_wallet:
        return ""
    linked = await context.state.referrals.link(context.actor.user_id, args[0])
    return welcome_referred(context.t) if isinstance(linked, Linked) else ""


def register(application: Application, wallets: bool) -> None:  # type: ignore[type-arg]
    if not wallets:
        return
    application.add_handler(CommandHandler("referrals", referrals))
    application.add_handler(CallbackQueryHandler(referrals, pattern=cb.REFERRALS.matches))
