"""Shop mode's tables: wallets (the ledger and each wallet's total), top-ups, markup rules."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import aiosqlite

from bot.adapters.sqlite.db import Database
from bot.adapters.sqlite.ledger import add_notices, post, wallet_balance
from bot.core.records import Deposit, DepositState, EntryKind, LedgerEntry, Notice, Wallet

Clock = Callable[[], float]


class WalletRepo:
    """Wallets: the ledger (append-only) and each wallet's total, written together."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, user_id: int) -> Wallet:
        row = await self._db.fetchone(
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
        admin_id: int | None = None,
        note: str = "",
    ) -> Decimal:
        """An admin's credit or debit (`InsufficientFunds` when a debit would take the
        wallet below its limit). Returns the new balance."""
        async with self._db.transaction() as conn:
            return await post(
                conn, user_id, amount, kind, self._clock(), admin_id=admin_id, note=note
            )

    async def set_limit(self, user_id: int, limit: Decimal) -> bool:
        """A new credit limit; False (nothing changed) when the wallet is further below zero
        than that already: no wallet is ever below its limit."""
        async with self._db.transaction() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT balance FROM wallets WHERE user_id = ?", (user_id,)
                )
            )
            if rows and Decimal(rows[0]["balance"]) < -limit:
                return False
            await conn.execute(
                "INSERT INTO wallets (user_id, credit_limit) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET credit_limit = excluded.credit_limit",
                (user_id, str(limit)),
            )
        return True

    async def entries(self, user_id: int, offset: int, limit: int) -> tuple[list[LedgerEntry], int]:
        """The wallet's entries, newest first, a page at a time; and how many there are."""
        rows = await self._db.fetchall(
            "SELECT ledger.*, orders.panel_order_id FROM ledger"
            " LEFT JOIN orders ON orders.id = ledger.order_id"
            " WHERE ledger.user_id = ? ORDER BY ledger.id DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        count = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM ledger WHERE user_id = ?", (user_id,)
        )
        return [_entry(row) for row in rows], int(count["n"]) if count else 0

    async def all(self) -> list[Wallet]:
        rows = await self._db.fetchall("SELECT user_id, balance, credit_limit FROM wallets")
        return [
            Wallet(row["user_id"], Decimal(row["balance"]), Decimal(row["credit_limit"]))
            for row in rows
        ]

    async def since(self, moment: float) -> list[LedgerEntry]:
        rows = await self._db.fetchall(
            "SELECT ledger.*, NULL AS panel_order_id FROM ledger WHERE created_at >= ? ORDER BY id",
            (moment,),
        )
        return [_entry(row) for row in rows]

    async def mismatches(self) -> dict[int, tuple[Decimal, Decimal]]:
        """Wallets whose total differs from the sum of their entries: user -> (kept, sum).
        Summed here as exact decimals (SQL would sum the text as floats)."""
        sums: dict[int, Decimal] = {}
        for row in await self._db.fetchall("SELECT user_id, amount FROM ledger"):
            sums[row["user_id"]] = sums.get(row["user_id"], Decimal(0)) + Decimal(row["amount"])
        kept = {
            row["user_id"]: Decimal(row["balance"])
            for row in await self._db.fetchall("SELECT user_id, balance FROM wallets")
        }
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


class DepositRepo:
    """Top-ups: asked (amount), proven (a photo or a text), then approved or rejected once."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def open(self, user_id: int, amount: Decimal) -> Deposit:
        """A new top-up waiting for its proof; the user's earlier one waiting is dropped."""
        now = self._clock()
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM deposits WHERE user_id = ? AND state = ?",
                (user_id, DepositState.AWAITING_PROOF.value),
            )
            cursor = await conn.execute(
                "INSERT INTO deposits (user_id, amount, state, created_at) VALUES (?, ?, ?, ?)",
                (user_id, str(amount), DepositState.AWAITING_PROOF.value, now),
            )
            deposit_id = cursor.lastrowid
        deposit = await self.get(int(deposit_id or 0))
        assert deposit is not None
        return deposit

    async def awaiting_proof(self, user_id: int) -> Deposit | None:
        row = await self._db.fetchone(
            "SELECT * FROM deposits WHERE user_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
            (user_id, DepositState.AWAITING_PROOF.value),
        )
        return _deposit(row) if row else None

    async def prove(
        self,
        deposit_id: int,
        kind: str,
        proof: str,
        name: str,
        cards: Callable[[Deposit], list[Notice]],
    ) -> Deposit | None:
        """The proof arrived: the deposit waits for an admin, and `cards(deposit)` (the
        admins' cards) go to the outbox in the same transaction. None if it was not waiting
        for a proof."""
        now = self._clock()
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE deposits SET state = ?, proof_kind = ?, proof = ?, name = ?"
                " WHERE id = ? AND state = ?",
                (
                    DepositState.PENDING.value,
                    kind,
                    proof,
                    name,
                    deposit_id,
                    DepositState.AWAITING_PROOF.value,
                ),
            )
            if not cursor.rowcount:
                return None
            deposit = await _deposit_in(conn, deposit_id)
            await add_notices(conn, cards(deposit), now)
        return deposit

    async def decide(
        self,
        deposit_id: int,
        approve: bool,
        admin_id: int,
        told: Callable[[Deposit, Decimal], Notice],
    ) -> Deposit | None:
        """Approve (the wallet credited) or reject a pending deposit, once, and its owner
        told (`told(deposit, the wallet's balance)`), all in one transaction: None when it
        was decided already (by this admin or another)."""
        now = self._clock()
        state = DepositState.APPROVED if approve else DepositState.REJECTED
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE deposits SET state = ?, decided_by = ?, decided_at = ?"
                " WHERE id = ? AND state = ?",
                (state.value, admin_id, now, deposit_id, DepositState.PENDING.value),
            )
            if not cursor.rowcount:
                return None
            deposit = await _deposit_in(conn, deposit_id)
            if approve:
                balance = await post(
                    conn,
                    deposit.user_id,
                    deposit.amount,
                    EntryKind.DEPOSIT,
                    now,
                    deposit_id=deposit_id,
                    admin_id=admin_id,
                )
            else:
                balance = await wallet_balance(conn, deposit.user_id)
            await add_notices(conn, [told(deposit, balance)], now)
        return deposit

    async def pending_of(self, user_id: int) -> Deposit | None:
        """The user's top-up waiting for an admin, if any (one at a time)."""
        row = await self._db.fetchone(
            "SELECT * FROM deposits WHERE user_id = ? AND state = ? ORDER BY id LIMIT 1",
            (user_id, DepositState.PENDING.value),
        )
        return _deposit(row) if row else None

    async def pending(self, limit: int) -> tuple[list[Deposit], int]:
        """Top-ups waiting for an admin, oldest first, and how many there are."""
        rows = await self._db.fetchall(
            "SELECT * FROM deposits WHERE state = ? ORDER BY id LIMIT ?",
            (DepositState.PENDING.value, limit),
        )
        count = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM deposits WHERE state = ?", (DepositState.PENDING.value,)
        )
        return [_deposit(row) for row in rows], int(count["n"]) if count else 0

    async def get(self, deposit_id: int) -> Deposit | None:
        row = await self._db.fetchone("SELECT * FROM deposits WHERE id = ?", (deposit_id,))
        return _deposit(row) if row else None


async def _deposit_in(conn: aiosqlite.Connection, deposit_id: int) -> Deposit:
    rows = list(await conn.execute_fetchall("SELECT * FROM deposits WHERE id = ?", (deposit_id,)))
    return _deposit(rows[0])


def _deposit(row: aiosqlite.Row) -> Deposit:
    return Deposit(
        id=row["id"],
        user_id=row["user_id"],
        amount=Decimal(row["amount"]),
        state=DepositState(row["state"]),
        proof_kind=row["proof_kind"],
        proof=row["proof"],
        decided_by=row["decided_by"],
        created_at=row["created_at"],
        name=row["name"],
    )


class MarkupRepo:
    """Markup rules by scope ('all', 'category', 'service'), read once and kept."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._rules: dict[tuple[str, str], Decimal] | None = None

    async def rules(self) -> dict[tuple[str, str], Decimal]:
        if self._rules is None:
            rows = await self._db.fetchall("SELECT scope, key, percent FROM markups")
            self._rules = {(r["scope"], r["key"]): Decimal(r["percent"]) for r in rows}
        return self._rules

    async def set(self, scope: str, key: str, percent: Decimal | None) -> None:
        """A rule set, or removed (None)."""
        if percent is None:
            await self._db.execute("DELETE FROM markups WHERE scope = ? AND key = ?", (scope, key))
        else:
            await self._db.execute(
                "INSERT INTO markups (scope, key, percent) VALUES (?, ?, ?)"
                " ON CONFLICT (scope, key) DO UPDATE SET percent = excluded.percent",
                (scope, key, str(percent)),
            )
        self._rules = None
