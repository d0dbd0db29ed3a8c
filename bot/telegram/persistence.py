"""python-telegram-bot persistence on the bot's store (its `Sessions`).

User data (the order being filled in) and conversation states survive a restart. Chat data,
bot data and callback data are not used by this bot and are not stored. PTB offers a save
round's writes all at once; the store writes them together.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.core.ports import Sessions
from bot.telegram.context import Services, UserData


class StorePersistence(BasePersistence[UserData, dict[Any, Any], Services]):
    def __init__(
        self,
        sessions: Sessions,
        opened: Callable[[], Awaitable[None]],
        update_interval: float = 2.0,
    ) -> None:
        """`opened`: opens the store (PTB loads persistence before post_init)."""
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = sessions
        self._opened = opened
        self._written: dict[int, str] = {}
        """user id -> the user data last stored: PTB offers every active user's data at each
        save, changed or not, and an unchanged one is not written again."""

    async def get_user_data(self) -> dict[int, UserData]:
        await self._opened()
        self._written = await self._sessions.user_data()
        return {
            user_id: UserData.from_json(json.loads(data)) for user_id, data in self._written.items()
        }

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        encoded = json.dumps(data.to_json(), ensure_ascii=False)
        if self._written.get(user_id) == encoded:
            return
        await self._sessions.save_user_data(user_id, encoded)
        self._written[user_id] = encoded

    async def drop_user_data(self, user_id: int) -> None:
        await self._sessions.drop_user_data(user_id)
        self._written.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        await self._opened()
        return await self._sessions.conversations(name)

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self._sessions.save_conversation(name, tuple(key), new_state)

    # Not stored: chat data, bot data (rebuilt by build_application) and callback data.

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def get_bot_data(self) -> Services:
        raise NotImplementedError("bot data is not persisted")

    async def update_bot_data(self, data: Services) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Services) -> None:
        return None

    async def get_callback_data(self) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def flush(self) -> None:
        return None
