"""What python-telegram-bot keeps of each user between updates (their data and the order
conversation's state), so a restart loses neither. A save round's writes (PTB offers every
active user's at once, one coroutine each) go to the database in one transaction."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.adapters.sqlite.db import Database

_UPSERT_USER = (
    "INSERT INTO ptb_user_data (user_id, data) VALUES (?, ?)"
    " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data"
)
_DROP_USER = "DELETE FROM ptb_user_data WHERE user_id = ?"
_UPSERT_STATE = (
    "INSERT INTO ptb_conversations (name, key, state) VALUES (?, ?, ?)"
    " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state"
)
_DROP_STATE = "DELETE FROM ptb_conversations WHERE name = ? AND key = ?"


class SessionRepo:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self._written: asyncio.Future[None] | None = None

    async def user_data(self) -> dict[int, str]:
        """Every user's data, as the JSON text it was saved as."""
        rows = await self._db.fetchall("SELECT user_id, data FROM ptb_user_data")
        return {row["user_id"]: row["data"] for row in rows}

    async def conversations(self, name: str) -> dict[tuple[Any, ...], Any]:
        rows = await self._db.fetchall(
            "SELECT key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(row["key"])): json.loads(row["state"]) for row in rows}

    async def save_user_data(self, user_id: int, data: str) -> None:
        await self._write(_UPSERT_USER, (user_id, data))

    async def drop_user_data(self, user_id: int) -> None:
        await self._write(_DROP_USER, (user_id,))

    async def save_conversation(self, name: str, key: tuple[Any, ...], state: Any) -> None:
        encoded = json.dumps(list(key))
        if state is None:
            await self._write(_DROP_STATE, (name, encoded))
        else:
            await self._write(_UPSERT_STATE, (name, encoded, json.dumps(state)))

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """Writes offered in the same turn of the event loop go in one transaction; each
        caller returns when it is stored (or raises what the transaction raised)."""
        self._pending.setdefault(sql, []).append(params)
        if self._written is None:
            self._written = asyncio.ensure_future(self._write_pending())
        await asyncio.shield(self._written)

    async def _write_pending(self) -> None:
        await asyncio.sleep(0)  # the rest of the round joins in
        pending, self._pending, self._written = self._pending, {}, None
        await self._db.execute_many(pending.items())
