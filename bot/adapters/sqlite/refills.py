"""Refills the bot follows: granted by the panel, then polled until final."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aiosqlite

from bot.adapters.sqlite.session import Session, in_lists
from bot.core.api import RefillState
from bot.core.ports import Clock
from bot.core.records import Refill


class RefillRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def add(self, panel_refill_id: int, panel_order_id: int, user_id: int) -> None:
        now = self._clock()
        await self._session.execute(
            "INSERT INTO refills (panel_refill_id, panel_order_id, user_id, status, created_at,"
            " updated_at) VALUES (?, ?, ?, 'Pending', ?, ?) ON CONFLICT DO NOTHING",
            (panel_refill_id, panel_order_id, user_id, now, now),
        )

    async def get_many(self, refill_ids: Iterable[int]) -> dict[int, Refill]:
        result: dict[int, Refill] = {}
        for part, marks in in_lists(list(set(refill_ids))):
            rows = await self._session.fetchall(
                f"SELECT * FROM refills WHERE panel_refill_id IN ({marks})", part
            )
            result.update((row["panel_refill_id"], _refill(row)) for row in rows)
        return result

    async def latest_for(self, panel_order_id: int) -> Refill | None:
        """The order's most recent refill, if it had any."""
        row = await self._session.fetchone(
            "SELECT * FROM refills WHERE panel_order_id = ? ORDER BY rowid DESC LIMIT 1",
            (panel_order_id,),
        )
        return _refill(row) if row else None

    async def active(self) -> list[Refill]:
        rows = await self._session.fetchall("SELECT * FROM refills WHERE final = 0")
        return [_refill(row) for row in rows]

    async def store_statuses(self, statuses: Mapping[int, str]) -> None:
        now = self._clock()
        await self._session.executemany(
            "UPDATE refills SET status = ?, final = ?, updated_at = ? WHERE panel_refill_id = ?",
            [
                (status, int(RefillState.parse(status).is_final), now, refill_id)
                for refill_id, status in statuses.items()
            ],
        )


def _refill(row: aiosqlite.Row) -> Refill:
    return Refill(
        panel_refill_id=row["panel_refill_id"],
        panel_order_id=row["panel_order_id"],
        user_id=row["user_id"],
        status=row["status"],
        final=bool(row["final"]),
    )
