"""Mass orders: stored at the preview, started once, finished; the lines not sent and why."""

from __future__ import annotations

import json
from decimal import Decimal

import aiosqlite

from bot.adapters.sqlite.session import Session
from bot.core.ports import Clock
from bot.core.records import BatchLine, BatchState, MassBatch, RejectedLine, Skipped


class MassBatchRepo:
    """Mass orders: stored at the preview, started once, finished."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def add(
        self, key: str, user_id: int, lines: list[BatchLine], rejected: list[RejectedLine]
    ) -> None:
        """A new batch waiting for Confirm, with the lines its preview refused; the user's
        earlier waiting one is dropped."""
        now = self._clock()
        encoded = json.dumps(
            [
                [line.number, line.service_id, dict(line.fields), _text(line.price)]
                for line in lines
            ],
            ensure_ascii=False,
        )
        refused = json.dumps(
            [[r.number, r.link, r.service_id, r.problem, r.other, r.quantity] for r in rejected],
            ensure_ascii=False,
        )
        # (a user's updates run one at a time: the two statements are not raced by them)
        await self._session.execute(
            "DELETE FROM mass_batches WHERE user_id = ? AND state = ?",
            (user_id, BatchState.PREVIEW.value),
        )
        await self._session.execute(
            "INSERT INTO mass_batches"
            " (key, user_id, lines, rejected, state, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, user_id, encoded, refused, BatchState.PREVIEW.value, now, now),
        )

    async def start(
        self, key: str, user_id: int, chat_id: int, message_id: int
    ) -> MassBatch | None:
        """The batch, now running (its progress in that message); None unless it was this
        user's and waiting for Confirm: it starts once."""
        cursor = await self._session.execute(
            "UPDATE mass_batches SET state = ?, chat_id = ?, message_id = ?, updated_at = ?"
            " WHERE key = ? AND user_id = ? AND state = ?",
            (
                BatchState.RUNNING.value,
                chat_id,
                message_id,
                self._clock(),
                key,
                user_id,
                BatchState.PREVIEW.value,
            ),
        )
        return await self.get(key, user_id) if cursor.rowcount == 1 else None

    async def drop(self, key: str, user_id: int) -> bool:
        """A batch waiting for Confirm, dropped; False when it was not waiting."""
        cursor = await self._session.execute(
            "DELETE FROM mass_batches WHERE key = ? AND user_id = ? AND state = ?",
            (key, user_id, BatchState.PREVIEW.value),
        )
        return cursor.rowcount == 1

    async def skip(self, key: str, number: int, reason: Skipped) -> None:
        """A line of the running batch not sent, and why (for its report)."""
        await self._session.execute(
            "UPDATE mass_batches SET skipped = json_set(skipped, ?, ?), updated_at = ?"
            " WHERE key = ?",
            (f'$."{number}"', reason.value, self._clock(), key),
        )

    async def finish(self, key: str) -> None:
        await self._session.execute(
            "UPDATE mass_batches SET state = ?, updated_at = ? WHERE key = ?",
            (BatchState.DONE.value, self._clock(), key),
        )

    async def get(self, key: str, user_id: int) -> MassBatch | None:
        row = await self._session.fetchone(
            "SELECT * FROM mass_batches WHERE key = ? AND user_id = ?", (key, user_id)
        )
        return _batch(row) if row else None

    async def running(self) -> list[MassBatch]:
        rows = await self._session.fetchall(
            "SELECT * FROM mass_batches WHERE state = ? ORDER BY created_at",
            (BatchState.RUNNING.value,),
        )
        return [_batch(row) for row in rows]


def _batch(row: aiosqlite.Row) -> MassBatch:
    return MassBatch(
        key=row["key"],
        user_id=row["user_id"],
        state=BatchState(row["state"]),
        lines=tuple(_batch_line(*line) for line in json.loads(row["lines"])),
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        skipped={int(n): Skipped(r) for n, r in json.loads(row["skipped"]).items()},
        rejected=tuple(RejectedLine(*line) for line in json.loads(row["rejected"])),
    )


def _text(amount: Decimal | None) -> str | None:
    return str(amount) if amount is not None else None


def _batch_line(
    number: int, service_id: int, fields: dict[str, str], price: str | None = None
) -> BatchLine:
    return BatchLine(number, service_id, fields, Decimal(price) if price else None)
