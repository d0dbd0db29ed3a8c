"""The users the bot knows: seen at each update, their language and notifications, whether
they block the bot."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.ports import Store
from bot.core.records import UserRecord


class Accounts:
    def __init__(self, store: Store) -> None:
        self._users = store.users

    async def seen(self, user_id: int, telegram_language: str | None) -> UserRecord:
        """The user wrote (so they no longer block the bot), in this Telegram language."""
        return await self._users.touch(user_id, telegram_language)

    async def get(self, user_id: int) -> UserRecord | None:
        return await self._users.get(user_id)

    async def get_many(self, user_ids: Iterable[int]) -> dict[int, UserRecord]:
        return await self._users.get_many(user_ids)

    async def set_language(self, user_id: int, language: str) -> None:
        await self._users.set_language(user_id, language)

    async def set_notifications(self, user_id: int, enabled: bool) -> None:
        await self._users.set_notifications(user_id, enabled)

    async def blocked(self, user_id: int) -> None:
        await self._users.mark_blocked(user_id)
