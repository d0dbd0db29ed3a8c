"""Support tickets and their messages, both sides'."""

from __future__ import annotations

import aiosqlite

from bot.adapters.sqlite.session import Session
from bot.core.ports import Clock
from bot.core.records import Ticket, TicketMessage, TicketState


def _ticket(row: aiosqlite.Row) -> Ticket:
    return Ticket(
        id=row["id"],
        user_id=row["user_id"],
        order_id=row["order_id"],
        state=TicketState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        name=row["name"],
    )


class TicketRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def open(self, user_id: int, order_id: int | None, name: str) -> Ticket:
        now = self._clock()
        cursor = await self._session.execute(
            "INSERT INTO tickets (user_id, order_id, state, name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, order_id, TicketState.OPEN.value, name, now, now),
        )
        ticket = await self.get(int(cursor.lastrowid or 0))
        assert ticket is not None
        return ticket

    async def get(self, ticket_id: int) -> Ticket | None:
        row = await self._session.fetchone("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return _ticket(row) if row else None

    async def open_of(self, user_id: int) -> Ticket | None:
        row = await self._session.fetchone(
            "SELECT * FROM tickets WHERE user_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
            (user_id, TicketState.OPEN.value),
        )
        return _ticket(row) if row else None

    async def add_message(
        self, ticket_id: int, author_id: int, from_admin: bool, kind: str, body: str, caption: str
    ) -> TicketMessage:
        now = self._clock()
        cursor = await self._session.execute(
            "INSERT INTO ticket_messages (ticket_id, author_id, from_admin, kind, body, caption,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, author_id, int(from_admin), kind, body, caption, now),
        )
        await self._session.execute(
            "UPDATE tickets SET updated_at = ? WHERE id = ?", (now, ticket_id)
        )
        return TicketMessage(
            int(cursor.lastrowid or 0), ticket_id, author_id, from_admin, kind, body, caption, now
        )

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        rows = await self._session.fetchall(
            "SELECT * FROM ticket_messages WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [
            TicketMessage(
                row["id"],
                row["ticket_id"],
                row["author_id"],
                bool(row["from_admin"]),
                row["kind"],
                row["body"],
                row["caption"],
                row["created_at"],
            )
            for row in rows
        ]

    async def set_state(self, ticket_id: int, state: TicketState, by: int) -> bool:
        """False (nothing changed) when it is in that state already."""
        cursor = await self._session.execute(
            "UPDATE tickets SET state = ?, closed_by = ?, updated_at = ?"
            " WHERE id = ? AND state != ?",
            (state.value, by, self._clock(), ticket_id, state.value),
        )
        return cursor.rowcount == 1

    async def open_ones(self, limit: int) -> tuple[list[Ticket], int]:
        """Open tickets, oldest first, and how many there are."""
        rows = await self._session.fetchall(
            "SELECT * FROM tickets WHERE state = ? ORDER BY id LIMIT ?",
            (TicketState.OPEN.value, limit),
        )
        count = await self._session.fetchone(
            "SELECT COUNT(*) AS n FROM tickets WHERE state = ?", (TicketState.OPEN.value,)
        )
        return [_ticket(row) for row in rows], int(count["n"]) if count else 0
