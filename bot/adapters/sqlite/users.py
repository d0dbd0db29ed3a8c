"""Users: their language, notifications, whether they block the bot."""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from bot.adapters.sqlite.session import Session, in_lists
from bot.core.ports import Clock
from bot.core.records import UserRecord


class UserRepo:
    """Users, with their rows kept in memory: every update touches its user, and the database
    is written only when something changed or `last_seen` is a minute old."""

    TOUCH_EVERY = 60.0

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._rows: dict[int, tuple[UserRecord, float]] = {}

    async def touch(self, user_id: int, telegram_language: str | None = None) -> UserRecord:
        """Record that the user wrote to the bot (which also means they no longer block it),
        and the language of their Telegram."""
        now = self._clock()
        cached = self._rows.get(user_id)
        if (
            cached is not None
            and not cached[0].blocked
            and cached[0].telegram_language == telegram_language
            and now - cached[1] < self.TOUCH_EVERY
        ):
            return cached[0]
        await self._session.execute(
            "INSERT INTO users (user_id, first_seen, last_seen, telegram_language)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
            " last_seen = excluded.last_seen, blocked = 0,"
            " telegram_language = excluded.telegram_language",
            (user_id, now, now, telegram_language),
        )
        row = await self._load(user_id)
        assert row is not None
        self._rows[user_id] = (row, now)
        return row

    async def get(self, user_id: int) -> UserRecord | None:
        cached = self._rows.get(user_id)
        return cached[0] if cached is not None else await self._load(user_id)

    async def _load(self, user_id: int) -> UserRecord | None:
        row = await self._session.fetchone("SELECT * FROM users WHERE user_id = ?", (user_id,))
        return _user(row) if row else None

    async def _changed(self, user_id: int) -> None:
        row = await self._load(user_id)
        if row is not None and user_id in self._rows:
            self._rows[user_id] = (row, self._rows[user_id][1])

    async def get_many(self, user_ids: Iterable[int]) -> dict[int, UserRecord]:
        ids = list(set(user_ids))
        result: dict[int, UserRecord] = {}
        for part, marks in in_lists(ids):
            rows = await self._session.fetchall(
                f"SELECT * FROM users WHERE user_id IN ({marks})", part
            )
            result.update((row["user_id"], _user(row)) for row in rows)
        return result

    async def set_language(self, user_id: int, language: str) -> None:
        await self._session.execute(
            "UPDATE users SET language = ? WHERE user_id = ?", (language, user_id)
        )
        await self._changed(user_id)

    async def set_notifications(self, user_id: int, enabled: bool) -> None:
        await self._session.execute(
            "UPDATE users SET notifications = ? WHERE user_id = ?", (int(enabled), user_id)
        )
        await self._changed(user_id)

    async def mark_blocked(self, user_id: int) -> None:
        await self._session.execute("UPDATE users SET blocked = 1 WHERE user_id = ?", (user_id,))
        await self._changed(user_id)

    async def count(self) -> int:
        row = await self._session.fetchone("SELECT COUNT(*) AS n FROM users")
        return int(row["n"]) if row else 0


def _user(row: aiosqlite.Row) -> UserRecord:
    return UserRecord(
        user_id=row["user_id"],
        language=row["language"],
        telegram_language=row["telegram_language"],
        notifications=bool(row["notifications"]),
        blocked=bool(row["blocked"]),
    )
