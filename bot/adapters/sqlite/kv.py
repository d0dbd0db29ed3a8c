"""Small facts the bot keeps between runs: which alerts were sent, the panel's currency."""

from __future__ import annotations

from bot.adapters.sqlite.session import Session


class KeyValueRepo:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def get(self, key: str) -> str | None:
        row = await self._session.fetchone("SELECT value FROM kv WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set(self, key: str, value: str) -> None:
        await self._session.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def delete(self, key: str) -> None:
        await self._session.execute("DELETE FROM kv WHERE key = ?", (key,))
