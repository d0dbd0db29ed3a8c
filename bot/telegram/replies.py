"""What every feature answers with: a reply in place, the "expired" reply, "too fast", and
reading a command's arguments."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.render.keyboards import main_menu

log = logging.getLogger(__name__)


async def answer_query(update: Update, context: BotContext, text: str | None = None) -> None:
    """Stop the tapped button's spinner, once per update (Telegram refuses a second answer).
    Best effort: a query too old to answer is no reason to fail the reply itself."""
    query = update.callback_query
    if query is None or context.query_answered:
        return
    context.query_answered = True
    try:
        await query.answer(text)
    except BadRequest as exc:
        log.debug("callback query not answered: %s", exc)


async def show(
    update: Update,
    context: BotContext,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    new_message: bool = False,
) -> Message | None:
    """Answer in place: edit the message of a tapped button, else send a new message."""
    query = update.callback_query
    if query is not None and not new_message:
        try:
            # Both at once: the user waits for one round trip to Telegram, not two.
            _, result = await asyncio.gather(
                answer_query(update, context),
                query.edit_message_text(text, reply_markup=reply_markup),
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return None
            if "message to edit not found" not in str(exc).lower() and (
                "can't be edited" not in str(exc).lower()
            ):
                raise
        else:
            return result if isinstance(result, Message) else None
    chat = update.effective_chat
    if chat is None:
        return None
    if query is not None and new_message:
        await answer_query(update, context)
    return await context.bot.send_message(chat.id, text, reply_markup=reply_markup)


def home_menu(context: BotContext) -> InlineKeyboardMarkup:
    """The main menu, offering to continue the order this user left half-filled."""
    user_data = context.user_data
    return main_menu(context.t, draft=user_data.draft if user_data is not None else None)


async def expired(update: Update, context: BotContext) -> None:
    """A button this bot no longer knows (old, stale or forged): say so, offer the menu."""
    t = context.t
    await answer_query(update, context, t._("This menu has expired."))
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(
            chat.id,
            t._("This menu has expired. Here is a fresh one."),
            reply_markup=home_menu(context),
        )


async def too_fast(update: Update, context: BotContext) -> bool:
    """True (and the user told when to try again) if this user's panel actions are over their
    limit; admins are never limited."""
    actor = context.actor
    if actor.is_admin:
        return False
    wait = context.state.limits.wait(actor.user_id)
    if wait <= 0:
        return False
    t = context.t
    text = t._("You are going too fast. Try again in {seconds} s.").format(
        seconds=t.number(max(1, math.ceil(wait)))
    )
    await show(update, context, text, home_menu(context), new_message=True)
    return True


def command_arguments(update: Update) -> str:
    """What follows the command, whatever separates them (space or new line)."""
    text = update.effective_message.text if update.effective_message else None
    parts = (text or "").split(None, 1)
    return parts[1] if len(parts) > 1 else ""


def button_args(button: cb.Button, update: Update) -> tuple[Any, ...] | None:
    """The arguments of the tapped button, if it is one of this kind (else None)."""
    query = update.callback_query
    return button.parse(query.data if query else None)


MAX_USER_ID = 2**53
"""Telegram's user ids fit in 52 bits; a longer number is a typo, not a user."""


def user_id_of(token: str) -> int | None:
    """A Telegram user id as an admin types it, or None."""
    if not (token.isascii() and token.isdigit() and len(token) <= 16):
        return None
    user_id = int(token)
    return user_id if 0 < user_id < MAX_USER_ID else None
