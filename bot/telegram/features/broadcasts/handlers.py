"""Broadcasts, the admins' side: /broadcast, the message (written or forwarded, routed here by
the gate), the audience, the preview with its count, Send (the job sends it)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.core.records import Audience
from bot.telegram import callback as cb
from bot.telegram.context import Awaiting, BotContext, Expecting
from bot.telegram.features.broadcasts.screens import (
    audience_keyboard,
    audience_text,
    compose_prompt,
    preview_keyboard,
    preview_text,
    progress_text,
    send_broadcast,
)
from bot.telegram.render.keyboards import markup, menu_button
from bot.telegram.replies import answer_query, button_args, expired, home_menu, show


async def broadcast_command(update: Update, context: BotContext) -> None:
    t = context.t
    context.data.awaiting = Awaiting(Expecting.BROADCAST_MESSAGE)
    await show(update, context, compose_prompt(t), markup([[menu_button(t)]]))


async def composed(update: Update, context: BotContext) -> None:
    """The message to broadcast (text or a photo, forwarded or not): kept as a draft, and the
    audience asked."""
    message = update.effective_message
    if message is None:
        return
    if message.photo:
        draft = await context.state.broadcasts.draft(
            context.actor, "photo", message.caption_html or "", message.photo[-1].file_id
        )
    else:
        draft = await context.state.broadcasts.draft(
            context.actor, "text", message.text_html or "", None
        )
    t = context.t
    if draft is None:
        context.data.awaiting = Awaiting(Expecting.BROADCAST_MESSAGE)
        await show(update, context, compose_prompt(t), markup([[menu_button(t)]]), new_message=True)
        return
    languages = context.state.i18n.languages
    await show(
        update,
        context,
        audience_text(t),
        audience_keyboard(t, draft.id, sorted(languages)),
        new_message=True,
    )


async def audience_chosen(update: Update, context: BotContext) -> None:
    args = button_args(cb.BROADCAST_AUDIENCE, update)
    audience = Audience.parse(str(args[1]).replace("-", ":", 1)) if args else None
    broadcasts = context.state.broadcasts
    draft = await broadcasts.get(context.actor, int(args[0])) if args else None
    count = (
        await broadcasts.preview(context.actor, draft.id, audience)
        if draft is not None and audience is not None
        else None
    )
    if draft is None or count is None:
        await expired(update, context)
        return
    await answer_query(update, context)
    chat = update.effective_chat
    assert chat is not None
    await send_broadcast(context.bot, chat.id, draft)  # the preview: as its recipients see it
    t = context.t
    await show(
        update,
        context,
        preview_text(t, count),
        preview_keyboard(t, draft.id, count),
        new_message=True,
    )


async def send(update: Update, context: BotContext) -> None:
    args = button_args(cb.BROADCAST_SEND, update)
    query = update.callback_query
    if args is None or query is None or query.message is None:
        await expired(update, context)
        return
    message = query.message
    started = await context.state.broadcasts.start(
        context.actor, int(args[0]), message.chat.id, message.message_id
    )
    if started is None:
        await answer_query(update, context, context.t._("This broadcast was sent already."))
        return
    tally = await context.state.broadcasts.tally(started.id)
    await show(update, context, progress_text(context.t, tally))
    context.state.broadcast_job.start(context.bot, started)


async def cancel(update: Update, context: BotContext) -> None:
    args = button_args(cb.BROADCAST_CANCEL, update)
    if args is None or not await context.state.broadcasts.cancel(context.actor, int(args[0])):
        await expired(update, context)
        return
    t = context.t
    await show(update, context, t._("Broadcast canceled: nothing was sent."), home_menu(context))


def register(application: Application, admin_ids: frozenset[int]) -> None:  # type: ignore[type-arg]
    admins = filters.User(user_id=admin_ids, allow_empty=False)
    application.add_handler(CommandHandler("broadcast", broadcast_command, filters=admins))
    for button, callback in (
        (cb.BROADCAST_AUDIENCE, audience_chosen),
        (cb.BROADCAST_SEND, send),
        (cb.BROADCAST_CANCEL, cancel),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=button.matches))
