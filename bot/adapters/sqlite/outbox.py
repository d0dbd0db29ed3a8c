"""The outbox: notices written with what they announce, sent later, removed once sent."""

from __future__ import annotations

from collections.abc import Iterable

from bot.adapters.sqlite.session import Session, in_lists
from bot.core.notices import Notice, decode, encode
from bot.core.ports import Clock
from bot.core.records import OutboxItem


class OutboxRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def add(self, notices: Iterable[Notice]) -> None:
        now = self._clock()
        await self._session.executemany(
            "INSERT INTO outbox (user_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
            [(notice.to, *encode(notice), now) for notice in notices],
        )

    async def pending(self, limit: int) -> list[OutboxItem]:
        """The oldest notices waiting; one this version cannot read is removed (logged)."""
        rows = await self._session.fetchall(
            "SELECT id, user_id, kind, payload FROM outbox ORDER BY id LIMIT ?", (limit,)
        )
        items, unreadable = [], []
        for row in rows:
            notice = decode(row["user_id"], row["kind"], row["payload"])
            if notice is None:
                unreadable.append(row["id"])
            else:
                items.append(OutboxItem(row["id"], notice))
        if unreadable:
            await self.remove(unreadable)
        return items

    async def remove(self, ids: list[int]) -> None:
        for part, marks in in_lists(ids):
            await self._session.execute(f"DELETE FROM outbox WHERE id IN ({marks})", part)

    async def count(self) -> int:
        row = await self._session.fetchone("SELECT COUNT(*) AS n FROM outbox")
        return int(row["n"]) if row else 0
