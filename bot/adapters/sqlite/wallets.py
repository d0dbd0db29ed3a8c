"""Wallets: the ledger (append-only: signed exact decimals as text) and each wallet's total,
written together. Whether an entry may be written is the core's to decide."""

from __future__ import annotations

from decimal import Decimal

import aiosqlite

from bot.adapters.sqlite.session import Session
from bot.core.ports import Clock
from bot.core.records import EntryKind, LedgerEntry, Wallet


class WalletRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def get(self, user_id: int) -> Wallet:
        row = await self._session.fetchone(
            "SELECT balance, credit_limit FROM wallets WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return Wallet(user_id, Decimal(0), Decimal(0))
        return Wallet(user_id, Decimal(row["balance"]), Decimal(row["credit_limit"]))

    async def post(
        self,
        user_id: int,
        amount: Decimal,
        kind: EntryKind,
        *,
        order_id: int | None = None,
        deposit_id: int | None = None,
        admin_id: int | None = None,
        note: str = "",
    ) -> Decimal:
        """One ledger entry, and the wallet's total moved by it. Returns the new balance."""
        balance = (await self.get(user_id)).balance + amount
        await self._session.execute(
            "INSERT INTO ledger (user_id, amount, kind, order_id, deposit_id, admin_id, note,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (user_id, str(amount), kind.value, order_id, deposit_id, admin_id, note, self._clock()),
        )
        await self._session.execute(
            "INSERT INTO wallets (user_id, balance) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET balance = excluded.balance",
            (user_id, str(balance)),
        )
        return balance

    async def set_limit(self, user_id: int, limit: Decimal) -> None:
        await self._session.execute(
            "INSERT INTO wallets (user_id, credit_limit) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET credit_limit = excluded.credit_limit",
            (user_id, str(limit)),
        )

    async def entries(self, user_id: int, offset: int, limit: int) -> tuple[list[LedgerEntry], int]:
        """The wallet's entries, newest first, a page at a time; and how many there are."""
        rows = await self._session.fetchall(
            "SELECT ledger.*, orders.panel_order_id FROM ledger"
            " LEFT JOIN orders ON orders.id = ledger.order_id"
            " WHERE ledger.user_id = ? ORDER BY ledger.id DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        count = await self._session.fetchone(
            "SELECT COUNT(*) AS n FROM ledger WHERE user_id = ?", (user_id,)
        )
        return [_entry(row) for row in rows], int(count["n"]) if count else 0

    async def since(self, moment: float) -> list[LedgerEntry]:
        rows = await self._session.fetchall(
            "SELECT ledger.*, NULL AS panel_order_id FROM ledger WHERE created_at >= ? ORDER BY id",
            (moment,),
        )
        return [_entry(row) for row in rows]

    async def all(self) -> list[Wallet]:
        rows = await self._session.fetchall("SELECT user_id, balance, credit_limit FROM wallets")
        return [
            Wallet(row["user_id"], Decimal(row["balance"]), Decimal(row["credit_limit"]))
            for row in rows
        ]

    async def mismatches(self) -> dict[int, tuple[Decimal, Decimal]]:
        """Wallets whose total differs from the sum of their entries: user -> (kept, sum).
        Summed here as exact decimals (SQL would sum the text as floats)."""
        sums: dict[int, Decimal] = {}
        for row in await self._session.fetchall("SELECT user_id, amount FROM ledger"):
            sums[row["user_id"]] = sums.get(row["user_id"], Decimal(0)) + Decimal(row["amount"])
        kept = {wallet.user_id: wallet.balance for wallet in await self.all()}
        return {
            user: (kept.get(user, Decimal(0)), sums.get(user, Decimal(0)))
            for user in set(sums) | set(kept)
            if kept.get(user, Decimal(0)) != sums.get(user, Decimal(0))
        }


def _entry(row: aiosqlite.Row) -> LedgerEntry:
    return LedgerEntry(
        id=row["id"],
        user_id=row["user_id"],
        amount=Decimal(row["amount"]),
        kind=EntryKind(row["kind"]),
        order_id=row["order_id"],
        deposit_id=row["deposit_id"],
        admin_id=row["admin_id"],
        note=row["note"],
        created_at=row["created_at"],
        panel_order_id=row["panel_order_id"],
    )
