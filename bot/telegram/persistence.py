"""python-telegram-bot persistence on the bot's SQLite database.

User data (the order being filled in) and conversation states survive a restart. Chat data,
bot data and callback data are not used by this bot and are not stored.

PTB offers a save round's writes all at once, one coroutine per user and conversation: they
are written together, in one transaction (`_Batch`), not one commit each.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.adapters.sqlite.db import Database
from bot.adapters.sqlite.repositories import Store
from bot.telegram.context import AppState, UserData
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

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


class _Batch:
    """Writes offered in the same turn of the event loop, written in one transaction; each
    caller returns when it is stored (or raises what the transaction raised)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self._written: asyncio.Future[None] | None = None

    async def write(self, sql: str, params: tuple[Any, ...]) -> None:
        self._pending.setdefault(sql, []).append(params)
        if self._written is None:
            self._written = asyncio.ensure_future(self._write_pending())
        await asyncio.shield(self._written)

    async def _write_pending(self) -> None:
        await asyncio.sleep(0)  # the rest of the round joins in
        pending, self._pending, self._written = self._pending, {}, None
        await self._db.execute_many(pending.items())


class SqlitePersistence(BasePersistence[UserData, dict[Any, Any], AppState]):
    def __init__(self, store: Store, update_interval: float = 2.0) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._store = store
        self._batch = _Batch(store.db)
        self._written: dict[int, str] = {}
        """user id -> the user data last stored: PTB offers every active user's data at each
        save, changed or not, and an unchanged one is not written again."""

    @property
    def _db(self) -> Database:
        return self._store.db

    async def get_user_data(self) -> dict[int, UserData]:
        await self._store.open()  # the application loads persistence before post_init
        rows = await self._db.fetchall("SELECT user_id, data FROM ptb_user_data")
        self._written = {row["user_id"]: row["data"] for row in rows}
        return {row["user_id"]: UserData.from_json(json.loads(row["data"])) for row in rows}

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        encoded = json.dumps(data.to_json(), ensure_ascii=False)
        if self._written.get(user_id) == encoded:
            return
        await self._batch.write(_UPSERT_USER, (user_id, encoded))
        self._written[user_id] = encoded

    async def drop_user_data(self, user_id: int) -> None:
        await self._batch.write(_DROP_USER, (user_id,))
        self._written.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        await self._store.open()
        rows = await self._db.fetchall(
            "SELECT key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(row["key"])): json.loads(row["state"]) for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        encoded_key = json.dumps(list(key))
        if new_state is None:
            await self._batch.write(_DROP_STATE, (name, encoded_key))
        else:
            await self._batch.write(_UPSERT_STATE, (name, encoded_key, json.dumps(new_state)))

    # Not stored: chat data, bot data (rebuilt by build_application) and callback data.

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def get_bot_data(self) -> AppState:
        raise NotImplementedError("bot data is not persisted")

    async def update_bot_data(self, data: AppState) -> None:
        return None

    async def refresh_bot_data(self, bot_data: AppState) -> None:
        return None

    async def get_callback_data(self) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def flush(self) -> None:
        return None
