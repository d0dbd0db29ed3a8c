"""Support tickets without Telegram: a customer's message opens a ticket (or adds to their open
one), every admin gets its card; an admin's reply reaches the customer; either side closes
it. Each message and the notices that carry it to the other side are written in one
transaction (the outbox): a message that fails to reach the other side now is sent later,
never lost."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core.actor import Actor
from bot.core.notices import TicketCard, TicketClosed, TicketReply
from bot.core.ports import Store
from bot.core.records import Ticket, TicketMessage, TicketState, visible

MAX_TEXT = 3000
MAX_NAME = 64
LAST_ORDERS = 5


class TicketRefusal(StrEnum):
    NOT_FOUND = "not_found"
    """No such ticket, or not theirs."""
    CLOSED = "closed"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Posted:
    ticket: Ticket
    opened: bool
    """The message opened this ticket."""


class Support:
    def __init__(self, store: Store, admin_ids: frozenset[int]) -> None:
        self._store = store
        self._admins = sorted(admin_ids)

    async def write(
        self,
        actor: Actor,
        name: str,
        kind: str,
        body: str,
        caption: str = "",
        *,
        order_id: int | None = None,
        new: bool = False,
    ) -> Posted | TicketRefusal:
        """A customer's message: added to their open ticket, or (none open, `new`, or about
        an order) a new ticket; every admin gets its card. `order_id`: the bot's row id of
        one of their orders."""
        body, caption = visible(body).strip()[:MAX_TEXT], visible(caption).strip()[:MAX_TEXT]
        if not body:
            return TicketRefusal.EMPTY
        order = None
        if order_id is not None:
            order = await self._store.orders.get(order_id)
            if order is None or not actor.may_see(order):
                return TicketRefusal.NOT_FOUND
        name = visible(name).strip()[:MAX_NAME]
        current = await self._store.tickets.open_of(actor.user_id)
        opening = current is None or new or order is not None
        recent = []
        if opening:
            listed = (await self._store.orders.listing(actor.user_id))[:LAST_ORDERS]
            rows = await self._store.orders.by_ids([row.id for row in listed])
            recent = [
                [o.panel_order_id or o.id, o.service_name, o.status or o.outcome.value]
                for o in rows
            ]
        async with self._store.transaction() as tx:
            if opening:
                ticket = await tx.tickets.open(actor.user_id, order_id, name)
            else:
                assert current is not None
                ticket = current
            await tx.tickets.add_message(ticket.id, actor.user_id, False, kind, body, caption)
            await tx.outbox.add(
                TicketCard(
                    admin,
                    ticket=ticket.id,
                    user=actor.user_id,
                    name=name,
                    first=opening,
                    order=(order.panel_order_id or order.id) if order is not None else None,
                    orders=recent,
                    message_kind=kind,
                    body=body,
                    caption=caption,
                )
                for admin in self._admins
                if admin != actor.user_id
            )
        return Posted(ticket, opening)

    async def open_ticket(self, user_id: int) -> Ticket | None:
        return await self._store.tickets.open_of(user_id)

    async def reply(
        self, actor: Actor, ticket_id: int, kind: str, body: str, caption: str = ""
    ) -> Ticket | TicketRefusal:
        """An admin's reply, sent to the customer (through the outbox)."""
        if not actor.is_admin:
            return TicketRefusal.NOT_FOUND
        body, caption = visible(body).strip()[:MAX_TEXT], visible(caption).strip()[:MAX_TEXT]
        if not body:
            return TicketRefusal.EMPTY
        ticket = await self._store.tickets.get(ticket_id)
        if ticket is None:
            return TicketRefusal.NOT_FOUND
        if ticket.state is TicketState.CLOSED:
            return TicketRefusal.CLOSED
        async with self._store.transaction() as tx:
            await tx.tickets.add_message(ticket.id, actor.user_id, True, kind, body, caption)
            await tx.outbox.add(
                [
                    TicketReply(
                        ticket.user_id,
                        ticket=ticket.id,
                        message_kind=kind,
                        body=body,
                        caption=caption,
                    )
                ]
            )
        return ticket

    async def close(self, actor: Actor, ticket_id: int) -> Ticket | TicketRefusal:
        """Closed by an admin (the customer told) or by its customer; once."""
        ticket = await self._store.tickets.get(ticket_id)
        if ticket is None or not (actor.is_admin or ticket.user_id == actor.user_id):
            return TicketRefusal.NOT_FOUND
        async with self._store.transaction() as tx:
            if not await tx.tickets.set_state(ticket.id, TicketState.CLOSED, actor.user_id):
                return TicketRefusal.CLOSED
            if actor.user_id != ticket.user_id:
                await tx.outbox.add([TicketClosed(ticket.user_id, ticket=ticket.id)])
        return ticket

    async def ticket(
        self, actor: Actor, ticket_id: int
    ) -> tuple[Ticket, list[TicketMessage]] | None:
        """A ticket and its messages, for an admin or its customer."""
        ticket = await self._store.tickets.get(ticket_id)
        if ticket is None or not (actor.is_admin or ticket.user_id == actor.user_id):
            return None
        return ticket, await self._store.tickets.messages(ticket_id)

    async def open_ones(self, actor: Actor, limit: int = 20) -> tuple[list[Ticket], int]:
        """Open tickets, oldest first (admins only)."""
        if not actor.is_admin:
            return [], 0
        return await self._store.tickets.open_ones(limit)
