"""Broadcasts: the admin's message and audience, and one row per recipient (what was sent to
whom), so that a broadcast goes on after a restart without sending anyone a message twice."""

from __future__ import annotations

from collections.abc import Mapping

import aiosqlite

from bot.adapters.sqlite.session import Session, in_lists
from bot.core.broadcasts import decode_buttons, encode_buttons
from bot.core.ports import Clock
from bot.core.records import Audience, Broadcast, BroadcastState, Outcome, RecipientState, Tally

ORDERS = tuple(o.value for o in Outcome if o.is_order)


def _broadcast(row: aiosqlite.Row) -> Broadcast:
    return Broadcast(
        id=row["id"],
        admin_id=row["admin_id"],
        kind=row["kind"],
        body=row["body"],
        photo=row["photo"],
        buttons=decode_buttons(row["buttons"]),
        audience=Audience.parse(row["audience"]) if row["audience"] else None,
        state=BroadcastState(row["state"]),
        chat_id=row["chat_id"],
        message_id=row["message_id"],
    )


class BroadcastRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(
        self, admin_id: int, kind: str, body: str, photo: str | None, buttons: list[tuple[str, str]]
    ) -> Broadcast:
        now = self._clock()
        cursor = await self._session.execute(
            "INSERT INTO broadcasts (admin_id, kind, body, photo, buttons, state, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (admin_id, kind, body, photo, encode_buttons(buttons), BroadcastState.DRAFT, now, now),
        )
        found = await self.get(int(cursor.lastrowid or 0))
        assert found is not None
        return found

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self._session.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return _broadcast(row) if row else None

    async def set_audience(self, broadcast_id: int, audience: str) -> None:
        await self._session.execute(
            "UPDATE broadcasts SET audience = ?, updated_at = ? WHERE id = ? AND state = ?",
            (audience, self._clock(), broadcast_id, BroadcastState.DRAFT),
        )

    async def audience(
        self, kind: str, value: str, since: float, default_language: str
    ) -> list[tuple[int, bool]]:
        """(user, blocked) of everyone in the audience who did not turn notifications off."""
        base = "SELECT user_id, blocked FROM users WHERE notifications = 1"
        params: tuple[object, ...] = ()
        if kind == "wallet":
            base += " AND user_id IN (SELECT user_id FROM wallets)"
        elif kind == "days":
            marks = ",".join("?" * len(ORDERS))
            base += (
                " AND user_id IN (SELECT user_id FROM orders WHERE created_at >= ?"
                f" AND outcome IN ({marks}))"
            )
            params = (since, *ORDERS)
        elif kind == "lang":
            base += " AND COALESCE(language, substr(telegram_language, 1, 2), ?) = ?"
            params = (default_language, value)
        rows = await self._session.tuples(base + " ORDER BY user_id", params)
        return [(int(user), bool(blocked)) for user, blocked in rows]

    async def start(
        self, broadcast_id: int, recipients: list[tuple[int, bool]], chat_id: int, message_id: int
    ) -> bool:
        cursor = await self._session.execute(
            "UPDATE broadcasts SET state = ?, chat_id = ?, message_id = ?, updated_at = ?"
            " WHERE id = ? AND state = ?",
            (
                BroadcastState.RUNNING,
                chat_id,
                message_id,
                self._clock(),
                broadcast_id,
                BroadcastState.DRAFT,
            ),
        )
        if cursor.rowcount != 1:
            return False
        await self._session.executemany(
            "INSERT OR IGNORE INTO broadcast_recipients (broadcast_id, user_id, state)"
            " VALUES (?, ?, ?)",
            [
                (
                    broadcast_id,
                    user,
                    RecipientState.BLOCKED if blocked else RecipientState.PENDING,
                )
                for user, blocked in recipients
            ],
        )
        return True

    async def cancel(self, broadcast_id: int) -> bool:
        cursor = await self._session.execute(
            "UPDATE broadcasts SET state = ? WHERE id = ? AND state = ?",
            (BroadcastState.CANCELED, broadcast_id, BroadcastState.DRAFT),
        )
        return cursor.rowcount == 1

    async def running(self) -> list[Broadcast]:
        rows = await self._session.fetchall(
            "SELECT * FROM broadcasts WHERE state = ? ORDER BY id", (BroadcastState.RUNNING,)
        )
        return [_broadcast(row) for row in rows]

    async def take(self, broadcast_id: int, limit: int) -> list[int]:
        rows = await self._session.tuples(
            "SELECT user_id FROM broadcast_recipients WHERE broadcast_id = ? AND state = ?"
            " ORDER BY user_id LIMIT ?",
            (broadcast_id, RecipientState.PENDING, limit),
        )
        return [int(row[0]) for row in rows]

    async def record(self, broadcast_id: int, results: Mapping[int, RecipientState]) -> None:
        by_state: dict[RecipientState, list[int]] = {}
        for user, state in results.items():
            by_state.setdefault(state, []).append(user)
        statements = []
        for state, users in by_state.items():
            for part, marks in in_lists(users):
                statements.append(
                    (
                        "UPDATE broadcast_recipients SET state = ? WHERE broadcast_id = ?"
                        f" AND user_id IN ({marks})",
                        [(state.value, broadcast_id, *part)],
                    )
                )
        for sql, rows in statements:
            await self._session.executemany(sql, rows)

    async def tally(self, broadcast_id: int) -> Tally:
        rows = await self._session.tuples(
            "SELECT state, COUNT(*) FROM broadcast_recipients WHERE broadcast_id = ?"
            " GROUP BY state",
            (broadcast_id,),
        )
        counts = {str(state): int(n) for state, n in rows}
        waiting = counts.get(RecipientState.PENDING, 0) + counts.get(RecipientState.SENDING, 0)
        return Tally(
            total=sum(counts.values()),
            pending=waiting,
            sent=counts.get(RecipientState.SENT, 0),
            blocked=counts.get(RecipientState.BLOCKED, 0),
            failed=counts.get(RecipientState.FAILED, 0),
        )

    async def finish(self, broadcast_id: int) -> bool:
        cursor = await self._session.execute(
            "UPDATE broadcasts SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
            (BroadcastState.DONE, self._clock(), broadcast_id, BroadcastState.RUNNING),
        )
        return cursor.rowcount == 1

    async def give_up_sending(self, broadcast_id: int) -> int:
        cursor = await self._session.execute(
            "UPDATE broadcast_recipients SET state = ? WHERE broadcast_id = ? AND state = ?",
            (RecipientState.FAILED, broadcast_id, RecipientState.SENDING),
        )
        return cursor.rowcount
