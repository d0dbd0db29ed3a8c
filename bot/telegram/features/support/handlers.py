"""Support tickets: the Support button and /support, a ticket about an order from its card, the
customer's messages (text or a photo, routed here by the gate while a message is awaited);
the admins' card (reply by replying to it, or with its Reply button; Close), /tickets."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.core.support import Posted, TicketRefusal
from bot.telegram import callback as cb
from bot.telegram.context import Awaiting, BotContext, Expecting
from bot.telegram.features.support.screens import (
    posted_text,
    support_keyboard,
    support_prompt,
    ticket_card_keyboard,
    ticket_of,
    ticket_text,
    tickets_keyboard,
    tickets_text,
)
from bot.telegram.render.keyboards import markup, menu_button
from bot.telegram.replies import answer_query, button_args, expired, home_menu, show, too_fast


async def support(update: Update, context: BotContext) -> None:
    """The Support button, /support, and a card's "ask about it" (`SUPPORT_ORDER`)."""
    args = button_args(cb.SUPPORT_ORDER, update)
    about = int(args[0]) if args else None
    ticket = await context.state.support.open_ticket(context.actor.user_id)
    context.data.awaiting = Awaiting(Expecting.SUPPORT_MESSAGE, about)
    keyboard = support_keyboard(context.t, ticket if about is None else None)
    await show(update, context, support_prompt(context.t, ticket, about), keyboard)


def _content(message: Message) -> tuple[str, str, str] | None:
    """(kind, body, caption) of a text or a photo."""
    if message.photo:
        return "photo", message.photo[-1].file_id, message.caption or ""
    if message.text:
        return "text", message.text, ""
    return None


async def customer_message(update: Update, context: BotContext, order: int | None) -> None:
    """A message after Support: opens a ticket, or adds to the open one (the admins' cards go
    through the outbox, now)."""
    t = context.t
    message = update.effective_message
    user = update.effective_user
    content = _content(message) if message is not None else None
    if content is None or user is None:
        return
    if await too_fast(update, context):
        context.data.awaiting = Awaiting(Expecting.SUPPORT_MESSAGE, order)
        return
    posted = await context.state.support.write(
        context.actor, user.full_name, *content, order_id=order
    )
    if not isinstance(posted, Posted):
        await expired(update, context)
        return
    context.state.tracker.deliver_soon(context.bot)
    context.data.awaiting = Awaiting(Expecting.SUPPORT_MESSAGE)  # more goes to the same ticket
    await show(
        update,
        context,
        posted_text(t, posted.ticket, posted.opened),
        support_keyboard(t, posted.ticket),
        new_message=True,
    )


# -- the admins' side -------------------------------------------------------------------------


async def admin_reply(update: Update, context: BotContext, ticket_id: int) -> None:
    """An admin's answer (a reply to a card, or after its Reply button): to the customer,
    through the outbox."""
    t = context.t
    message = update.effective_message
    content = _content(message) if message is not None else None
    if content is None:
        return
    done = await context.state.support.reply(context.actor, ticket_id, *content)
    if done is TicketRefusal.CLOSED:
        text = t._("Ticket #{id} is closed.").format(id=ticket_id)
        await show(update, context, text, home_menu(context))
        return
    if isinstance(done, TicketRefusal):
        text = t._("There is no ticket #{id}.").format(id=ticket_id)
        await show(update, context, text, home_menu(context))
        return
    context.state.tracker.deliver_soon(context.bot)
    await show(
        update,
        context,
        t._("✅ Sent to the customer of ticket #{id}.").format(id=ticket_id),
        ticket_card_keyboard(t, ticket_id),
        new_message=True,
    )


def _replied_ticket(message: Message | None) -> int | None:
    """The ticket named by the bot's message this one replies to, if any."""
    replied = message.reply_to_message if message is not None else None
    if replied is None or replied.from_user is None or not replied.from_user.is_bot:
        return None
    return ticket_of(replied.text or replied.caption)


class _RepliesToTicket(filters.MessageFilter):
    """A reply to one of the bot's ticket cards (anything else goes on to the other
    handlers)."""

    def filter(self, message: Message) -> bool:
        return _replied_ticket(message) is not None


async def replied_to_card(update: Update, context: BotContext) -> None:
    """An admin's reply to a card of the bot naming a ticket."""
    ticket_id = _replied_ticket(update.effective_message)
    if ticket_id is not None:
        await admin_reply(update, context, ticket_id)


async def reply_button(update: Update, context: BotContext) -> None:
    args = button_args(cb.TICKET_REPLY, update)
    if args is None:
        await expired(update, context)
        return
    t = context.t
    await answer_query(update, context)
    context.data.awaiting = Awaiting(Expecting.TICKET_REPLY, int(args[0]))
    text = t._("Send your answer to ticket #{id} (text or a photo).").format(id=args[0])
    await show(update, context, text, markup([[menu_button(t)]]), new_message=True)


async def close(update: Update, context: BotContext) -> None:
    """Close: an admin's (the customer told) or the customer's own."""
    args = button_args(cb.TICKET_CLOSE, update)
    if args is None:
        await expired(update, context)
        return
    t = context.t
    done = await context.state.support.close(context.actor, int(args[0]))
    if done is TicketRefusal.NOT_FOUND:
        await expired(update, context)
        return
    context.state.tracker.deliver_soon(context.bot)
    text = (
        t._("Ticket #{id} is closed.").format(id=args[0])
        if done is TicketRefusal.CLOSED
        else t._("✅ Ticket #{id} closed.").format(id=args[0])
    )
    await show(update, context, text, home_menu(context), new_message=True)


async def tickets(update: Update, context: BotContext) -> None:
    """/tickets: the open ones, oldest first."""
    found, count = await context.state.support.open_ones(context.actor)
    await show(
        update, context, tickets_text(context.t, found, count), tickets_keyboard(context.t, found)
    )


async def open_ticket(update: Update, context: BotContext) -> None:
    args = button_args(cb.TICKET_OPEN, update)
    found = await context.state.support.ticket(context.actor, int(args[0])) if args else None
    if found is None:
        await expired(update, context)
        return
    ticket, messages = found
    await show(
        update,
        context,
        ticket_text(context.t, ticket, messages),
        ticket_card_keyboard(context.t, ticket.id),
        new_message=True,
    )


def register(application: Application, admin_ids: frozenset[int]) -> None:  # type: ignore[type-arg]
    admins = filters.User(user_id=admin_ids, allow_empty=False)
    application.add_handler(CommandHandler("support", support))
    application.add_handler(CallbackQueryHandler(support, pattern=cb.SUPPORT.matches))
    application.add_handler(CallbackQueryHandler(support, pattern=cb.SUPPORT_ORDER.matches))
    application.add_handler(CallbackQueryHandler(close, pattern=cb.TICKET_CLOSE.matches))
    application.add_handler(CommandHandler("tickets", tickets, filters=admins))
    for button, callback in ((cb.TICKET_REPLY, reply_button), (cb.TICKET_OPEN, open_ticket)):
        application.add_handler(CallbackQueryHandler(callback, pattern=button.matches))
    application.add_handler(
        MessageHandler(
            admins
            & _RepliesToTicket()
            & filters.ChatType.PRIVATE
            & (filters.TEXT | filters.PHOTO)
            & ~filters.COMMAND,
            replied_to_card,
        ),
    )
