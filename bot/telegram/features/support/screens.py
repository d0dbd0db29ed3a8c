"""Support tickets as each side reads them: the admins' card, the customer's replies."""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup

from bot.core.notices import TicketCard, TicketClosed, TicketReply
from bot.core.records import Ticket, TicketMessage
from bot.telegram import callback as cb
from bot.telegram.i18n import Translator
from bot.telegram.render.keyboards import Button, markup, menu_button
from bot.telegram.render.text import escape, order_state_text, shorten

TICKET_NUMBER = re.compile(r"🎫[^#\n]*#(\d{1,12})")
"""The ticket a card is about, as its first line names it (an admin replies to the card)."""
CAPTION = 800
"""A photo's caption is at most 1024 characters: the words of a message with a photo are cut
to this (the whole text stays in the ticket)."""


def ticket_of(text: str | None) -> int | None:
    found = TICKET_NUMBER.search(text or "")
    return int(found.group(1)) if found else None


def _body(t: Translator, kind: str, body: str, caption: str) -> str:
    if kind == "photo":
        return escape(shorten(caption, CAPTION)) if caption else t._("(a photo)")
    return escape(body)


def ticket_card_text(t: Translator, card: TicketCard) -> str:
    """The admins' card: the ticket's number first (replying to it answers the ticket)."""
    header = (
        t._("🎫 New ticket #{id}") if card.first else t._("🎫 Ticket #{id}: a new message")
    ).format(id=card.ticket)
    who = t._("From {name} (<code>{user}</code>)").format(
        name=escape(shorten(card.name, 64)) or "—", user=card.user
    )
    lines = [f"<b>{header}</b>", who]
    if card.order is not None:
        lines.append(t._("About order #{id}").format(id=card.order))
    if card.first and card.orders:
        lines += ["", t._("Last orders:")]
        for number, service, status in card.orders:
            lines.append(
                f"#{number} · {escape(shorten(str(service), 50))} · "
                f"{escape(order_state_text(t, str(status)))}"
            )
    lines += ["", _body(t, card.message_kind, card.body, card.caption)]
    if card.message_kind != "photo":
        lines += ["", t._("Reply to this message to answer the customer.")]
    return "\n".join(lines)


def ticket_card_keyboard(t: Translator, ticket_id: int) -> InlineKeyboardMarkup:
    return markup(
        [
            [
                Button(t._("↩️ Reply"), callback_data=cb.TICKET_REPLY(ticket_id)),
                Button(t._("✅ Close"), callback_data=cb.TICKET_CLOSE(ticket_id)),
            ]
        ]
    )


def ticket_reply_text(t: Translator, reply: TicketReply) -> str:
    return (
        "<b>"
        + t._("💬 Support, on your ticket #{id}:").format(id=reply.ticket)
        + "</b>\n\n"
        + _body(t, reply.message_kind, reply.body, reply.caption)
    )


def ticket_closed_text(t: Translator, closed: TicketClosed) -> str:
    return t._(
        "✅ Your ticket #{id} was closed. Write to 🆘 Support again whenever you need."
    ).format(id=closed.ticket)


def answer_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return markup([[Button(t._("✍️ Answer"), callback_data=cb.SUPPORT())]])


def support_prompt(t: Translator, open_ticket: Ticket | None, about: int | None) -> str:
    if about is not None:
        return t._(
            "🆘 <b>Support</b>\n\nWhat is wrong with this order? Send a message (text or a "
            "photo): it opens a ticket about it."
        )
    if open_ticket is not None:
        return t._(
            "🆘 <b>Support</b>\n\nYour ticket #{id} is open. Send a message (text or a photo) "
            "to add to it."
        ).format(id=open_ticket.id)
    return t._(
        "🆘 <b>Support</b>\n\nWhat can we help with? Send a message (text or a photo): it "
        "opens a ticket, and the answer comes here."
    )


def posted_text(t: Translator, ticket: Ticket, opened: bool) -> str:
    if opened:
        return t._(
            "✅ Ticket #{id} is open: the support team is told, and the answer comes here. "
            "Send more messages to add to it."
        ).format(id=ticket.id)
    return t._("✅ Added to ticket #{id}. Send more, or go back to the menu.").format(id=ticket.id)


def support_keyboard(t: Translator, ticket: Ticket | None) -> InlineKeyboardMarkup:
    rows = []
    if ticket is not None:
        rows.append([Button(t._("✅ Close my ticket"), callback_data=cb.TICKET_CLOSE(ticket.id))])
    rows.append([menu_button(t)])
    return markup(rows)


def tickets_text(t: Translator, tickets: list[Ticket], count: int) -> str:
    if not tickets:
        return t._("🎫 No open tickets.")
    lines = [
        "<b>"
        + t.n_(
            "🎫 {n} open ticket, oldest first", "🎫 {n} open tickets, oldest first", count
        ).format(n=t.number(count))
        + "</b>"
    ]
    for ticket in tickets:
        name = escape(shorten(ticket.name, 40)) or str(ticket.user_id)
        lines.append(f"#{ticket.id} · {name}")
    return "\n".join(lines)


def tickets_keyboard(t: Translator, tickets: list[Ticket]) -> InlineKeyboardMarkup:
    buttons = [
        Button(f"#{ticket.id}", callback_data=cb.TICKET_OPEN(ticket.id)) for ticket in tickets
    ]
    return markup([*(buttons[i : i + 4] for i in range(0, len(buttons), 4)), [menu_button(t)]])


def ticket_text(t: Translator, ticket: Ticket, messages: list[TicketMessage]) -> str:
    """A ticket for an admin: its messages, oldest first (the last ones that fit)."""
    header = t._("🎫 Ticket #{id}").format(id=ticket.id)
    who = t._("From {name} (<code>{user}</code>)").format(
        name=escape(shorten(ticket.name, 64)) or "—", user=ticket.user_id
    )
    lines = [f"<b>{header}</b>", who]
    shown: list[str] = []
    size = 0
    for message in reversed(messages):
        side = t._("Support") if message.from_admin else t._("Customer")
        line = f"<b>{side}:</b> " + _body(
            t, message.kind, shorten(message.body, 600), message.caption
        )
        size += len(line)
        if size > 3000:
            break
        shown.append(line)
    return "\n".join([*lines, "", *reversed(shown)])
