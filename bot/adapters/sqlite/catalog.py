"""What the catalog keeps: the panel's service list (the bot starts from it), each user's
favourite services, and the markup rules of shop mode."""

from __future__ import annotations

import json
from decimal import Decimal

from bot.adapters.sqlite.session import Session
from bot.core.api import Service
from bot.core.ports import Clock


class ServiceCacheRepo:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def load(self) -> tuple[float, str] | None:
        """When the list was fetched, and the list as JSON text."""
        row = await self._session.fetchone(
            "SELECT fetched_at, payload FROM service_cache WHERE id = 1"
        )
        if row is None:
            return None
        return row["fetched_at"], row["payload"]

    async def save(self, fetched_at: float, services: list[Service]) -> None:
        payload = json.dumps(
            [s.model_dump(mode="json", by_alias=True) for s in services], ensure_ascii=False
        )
        await self._session.execute(
            "INSERT INTO service_cache (id, fetched_at, payload) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET fetched_at = excluded.fetched_at,"
            " payload = excluded.payload",
            (fetched_at, payload),
        )


class FavouriteRepo:
    """The services each user starred. Menus ask for them often and only `toggle` changes
    them: each user's list is kept once read."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._lists: dict[int, list[int]] = {}

    async def of(self, user_id: int) -> list[int]:
        """The user's favourite service ids, the latest starred first."""
        if user_id not in self._lists:
            rows = await self._session.fetchall(
                "SELECT service_id FROM favourites WHERE user_id = ? ORDER BY added_at DESC",
                (user_id,),
            )
            self._lists[user_id] = [row["service_id"] for row in rows]
        return list(self._lists[user_id])

    async def toggle(self, user_id: int, service_id: int) -> bool:
        """Star or unstar; whether the service is a favourite now. (A user's updates run one
        at a time: the two statements are not raced by the same user.)"""
        starred = await self._session.execute(
            "INSERT INTO favourites (user_id, service_id, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (user_id, service_id, self._clock()),
        )
        if not starred.rowcount:
            await self._session.execute(
                "DELETE FROM favourites WHERE user_id = ? AND service_id = ?",
                (user_id, service_id),
            )
        self._lists.pop(user_id, None)  # read again, in the database's order
        return bool(starred.rowcount)


class MarkupRepo:
    """Markup rules by scope ('all', 'category', 'service'), read once and kept."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._rules: dict[tuple[str, str], Decimal] | None = None

    async def rules(self) -> dict[tuple[str, str], Decimal]:
        if self._rules is None:
            rows = await self._session.fetchall("SELECT scope, key, percent FROM markups")
            self._rules = {(r["scope"], r["key"]): Decimal(r["percent"]) for r in rows}
        return self._rules

    async def set(self, scope: str, key: str, percent: Decimal | None) -> None:
        """A rule set, or removed (None)."""
        if percent is None:
            await self._session.execute(
                "DELETE FROM markups WHERE scope = ? AND key = ?", (scope, key)
            )
        else:
            await self._session.execute(
                "INSERT INTO markups (scope, key, percent) VALUES (?, ?, ?)"
                " ON CONFLICT (scope, key) DO UPDATE SET percent = excluded.percent",
                (scope, key, str(percent)),
            )
        self._rules = None
