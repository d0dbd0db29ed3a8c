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

    async def open_paid(
        self, user_id: int, amount: Decimal, method: str, state: DepositState
    ) -> Deposit:
        """A new top-up paid through a gateway (`AWAITING_PAYMENT`), or a gateway-free QRIS
        one waiting for the customer's word that they paid (`AWAITING_PROOF`, the user's
        earlier one waiting for a proof dropped)."""
        if state is DepositState.AWAITING_PROOF:
            await self._session.execute(
                "DELETE FROM deposits WHERE user_id = ? AND state = ?",
                (user_id, DepositState.AWAITING_PROOF.value),
            )
        cursor = await self._session.execute(
            "INSERT INTO deposits (user_id, amount, state, created_at, method)"
            " VALUES (?, ?, ?, ?, ?)",
            (user_id, str(amount), state.value, self._clock(), method),
        )
        deposit = await self.get(int(cursor.lastrowid or 0))
        assert deposit is not None
        return deposit

    async def settle(self, deposit_id: int, state: DepositState) -> bool:
        """A deposit paid through a gateway credited (`APPROVED`) or closed unpaid (`CLOSED`),
        once: False when it was not awaiting its payment."""
        cursor = await self._session.execute(
            "UPDATE deposits SET state = ?, decided_at = ? WHERE id = ? AND state IN (?, ?)",
            (
                state.value,
                self._clock(),
                deposit_id,
                DepositState.AWAITING_PAYMENT.value,
                DepositState.CLOSED.value,
            ),
        )
        return cursor.rowcount == 1

    async def open_amounts(self, method: str, since: float) -> set[Decimal]:
        """The amounts of this method's top-ups still open (not decided), made since then."""
        rows = await self._session.fetchall(
            "SELECT amount FROM deposits WHERE method = ? AND created_at >= ?"
            " AND state IN (?, ?, ?)",
            (
                method,
                since,
                DepositState.AWAITING_PROOF.value,
                DepositState.PENDING.value,
                DepositState.AWAITING_PAYMENT.value,
            ),
        )
        return {Decimal(row["amount"]) for row in rows}

    async def drop_awaiting(self, user_id: int) -> bool:
        """The user's top-up waiting for its proof dropped (they canceled it); False if
        none was waiting (one proven waits for an admin, and stays)."""
        cursor = await self._session.execute(
            "DELETE FROM deposits WHERE user_id = ? AND state = ?",
            (user_id, DepositState.AWAITING_PROOF.value),
        )
        return bool(cursor.rowcount)

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
        method=row["method"],
    )
