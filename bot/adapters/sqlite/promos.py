"""Promo codes and their uses (one per order or top-up; a top-up's held until it is decided)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import aiosqlite

from bot.adapters.sqlite.session import Session
from bot.core.ports import Clock, StorageFailed
from bot.core.records import PromoCode, PromoKind

SELECT = (
    "SELECT promo_codes.*, (SELECT COUNT(*) FROM promo_uses WHERE promo_id = promo_codes.id)"
    " AS uses FROM promo_codes"
)


def _dec(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def _promo(row: aiosqlite.Row) -> PromoCode:
    return PromoCode(
        id=row["id"],
        code=row["code"],
        kind=PromoKind(row["kind"]),
        percent=_dec(row["percent"]),
        amount=_dec(row["amount"]),
        minimum=Decimal(row["minimum"]),
        expires_at=row["expires_at"],
        total_limit=row["total_limit"],
        per_user=row["per_user"],
        created_by=row["created_by"],
        active=bool(row["active"]),
        uses=int(row["uses"]),
    )


class PromoRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def create(self, promo: PromoCode) -> PromoCode | None:
        """The new code; None when a code of that name exists."""
        try:
            await self._session.execute(
                "INSERT INTO promo_codes (code, kind, percent, amount, minimum, expires_at,"
                " total_limit, per_user, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    promo.code,
                    promo.kind.value,
                    None if promo.percent is None else str(promo.percent),
                    None if promo.amount is None else str(promo.amount),
                    str(promo.minimum),
                    promo.expires_at,
                    promo.total_limit,
                    promo.per_user,
                    promo.created_by,
                    self._clock(),
                ),
            )
        except (sqlite3.IntegrityError, StorageFailed) as exc:
            if "UNIQUE" in str(exc):
                return None
            raise
        return await self.by_code(promo.code)

    async def by_code(self, code: str) -> PromoCode | None:
        row = await self._session.fetchone(SELECT + " WHERE code = ?", (code,))
        return _promo(row) if row else None

    async def listing(self) -> list[PromoCode]:
        rows = await self._session.fetchall(SELECT + " ORDER BY active DESC, id DESC LIMIT 50")
        return [_promo(row) for row in rows]

    async def set_active(self, code: str, active: bool) -> bool:
        cursor = await self._session.execute(
            "UPDATE promo_codes SET active = ? WHERE code = ?", (int(active), code)
        )
        return cursor.rowcount == 1

    async def uses_by(self, promo_id: int, user_id: int) -> int:
        row = await self._session.fetchone(
            "SELECT COUNT(*) AS n FROM promo_uses WHERE promo_id = ? AND user_id = ?",
            (promo_id, user_id),
        )
        return int(row["n"]) if row else 0

    async def use(
        self,
        promo_id: int,
        user_id: int,
        amount: Decimal,
        *,
        order_id: int | None = None,
        deposit_id: int | None = None,
    ) -> None:
        await self._session.execute(
            "INSERT INTO promo_uses (promo_id, user_id, amount, order_id, deposit_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (promo_id, user_id, str(amount), order_id, deposit_id, self._clock()),
        )

    async def held_for_deposit(self, deposit_id: int) -> tuple[PromoCode, Decimal] | None:
        row = await self._session.fetchone(
            "SELECT promo_id, amount FROM promo_uses WHERE deposit_id = ?", (deposit_id,)
        )
        if row is None:
            return None
        promo = await self._session.fetchone(SELECT + " WHERE id = ?", (row["promo_id"],))
        assert promo is not None
        return _promo(promo), Decimal(row["amount"])

    async def release_deposit(self, deposit_id: int) -> None:
        await self._session.execute("DELETE FROM promo_uses WHERE deposit_id = ?", (deposit_id,))

    async def release_order(self, order_id: int) -> None:
        await self._session.execute("DELETE FROM promo_uses WHERE order_id = ?", (order_id,))

    async def discount_of(self, order_id: int) -> Decimal:
        row = await self._session.fetchone(
            "SELECT amount FROM promo_uses WHERE order_id = ?", (order_id,)
        )
        return Decimal(row["amount"]) if row else Decimal(0)
