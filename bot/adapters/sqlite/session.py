"""Where a repository's statements go: straight to the database, each write committed at once,
or into the transaction of a unit of work. One repository class serves both."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import aiosqlite

from bot.adapters.sqlite.db import Database

IN_CHUNK = 500
"""Ids per `IN (...)` list: well below SQLite's limit on parameters."""


def in_lists(ids: Sequence[Any]) -> Iterator[tuple[list[Any], str]]:
    """The ids `IN_CHUNK` at a time, each part with its `?,?,...` placeholders."""
    for start in range(0, len(ids), IN_CHUNK):
        part = list(ids[start : start + IN_CHUNK])
        yield part, ",".join("?" * len(part))


class Session:
    """Statements on the shared connection, each write committed at once (under the
    database's write lock: never inside another coroutine's transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Cursor:
        return await self.db.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        await self.db.execute_many([(sql, [tuple(row) for row in rows])])

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return await self.db.fetchall(sql, params)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        return await self.db.fetchone(sql, params)

    async def tuples(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples: much cheaper when there are many."""
        return await self.db.tuples(sql, params)


class InTransaction(Session):
    """Statements inside a unit of work's transaction (which holds the write lock)."""

    def __init__(self, db: Database, conn: aiosqlite.Connection) -> None:
        super().__init__(db)
        self._conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Cursor:
        return await self._conn.execute(sql, tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        await self._conn.executemany(sql, [tuple(row) for row in rows])

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self._conn.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None
