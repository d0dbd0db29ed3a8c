"""Top-ups: asked (an amount), proven (a photo or a text), then approved or rejected once."""

from __future__ import annotations

from decimal import Decimal

import aiosqlite

from bot.adapters.sqlite.session import Session
from bot.core.ports import Clock
from bot.core.records import Deposit, DepositState


class DepositRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def open(self, user_id: int, amount: Decimal) -> Deposit:
        """A new top-up waiting for its proof; the user's earlier one waiting is dropped."""
        await self._session.execute(
            "DELETE FROM deposits WHERE user_id = ? AND state = ?",
            (user_id, DepositState.AWAITING_PROOF.value),
        )
        cursor = await self._session.execute(
            "INSERT INTO deposits (user_id, amount, state, created_at) VALUES (?, ?, ?, ?)",
            (user_id, str(amount), DepositState.AWAITING_PROOF.value, self._clock()),
        )
        deposit = await self.get(int(cursor.lastrowid or 0))
        assert deposit is not None
        return deposit

    async def awaiting_proof(self, user_id: int) -> Deposit | None:
        row = await self._session.fetchone(
            "SELECT * FROM deposits WHERE user_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
            (user_id, DepositState.AWAITING_PROOF.value),
        )
        return _deposit(row) if row else None

    async def prove(self, deposit_id: int, kind: str, proof: str, name: str) -> bool:
        """The proof arrived: the deposit waits for an admin. False if it was not waiting
        for a proof."""
        cursor = await self._session.execute(
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
        return cursor.rowcount == 1

    async def decide(self, deposit_id: int, state: DepositState, admin_id: int) -> bool:
        """A pending deposit approved or rejected; False when it was decided already."""
        cursor = await self._session.execute(
            "UPDATE deposits SET state = ?, decided_by = ?, decided_at = ?"
            " WHERE id = ? AND state = ?",
            (state.value, admin_id, self._clock(), deposit_id, DepositState.PENDING.value),
        )
        return cursor.rowcount == 1

    async def get(self, deposit_id: int) -> Deposit | None:
        row = await self._session.fetchone("SELECT * FROM deposits WHERE id = ?", (deposit_id,))
        return _deposit(row) if row else None

    async def pending_of(self, user_id: int) -> Deposit | None:
        """The user's top-up waiting for an admin, if any."""
        row = await self._session.fetchone(
            "SELECT * FROM deposits WHERE user_id = ? AND state = ? ORDER BY id LIMIT 1",
            (user_id, DepositState.PENDING.value),
        )
        return _deposit(row) if row else None

    async def pending(self, limit: int) -> tuple[list[Deposit], int]:
        """Top-ups waiting for an admin, oldest first, and how many there are."""
        rows = await self._session.fetchall(
            "SELECT * FROM deposits WHERE state = ? ORDER BY id LIMIT ?",
            (DepositState.PENDING.value, limit),
        )
        count = await self._session.fetchone(
            "SELECT COUNT(*) AS n FROM deposits WHERE state = ?", (DepositState.PENDING.value,)
        )
        return [_deposit(row) for row in rows], int(count["n"]) if count else 0


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
