"""Payments of deposits at a gateway: one a deposit, unique by the gateway's reference; a
state moves only from the states named (so two deliveries of one news move it once)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import aiosqlite

from bot.adapters.sqlite.session import Session
from bot.core.payments import Invoice, PaymentMethod, PaymentState, StoredPayment
from bot.core.ports import Clock


class PaymentRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def add(
        self,
        *,
        deposit_id: int,
        user_id: int,
        method: PaymentMethod,
        channel: str | None,
        state: PaymentState,
        amount: Decimal,
        currency: str,
        to_pay: Decimal,
        expires_at: float,
        next_poll_at: float | None = None,
    ) -> StoredPayment:
        now = self._clock()
        cursor = await self._session.execute(
            "INSERT INTO payments (deposit_id, user_id, method, channel, state, amount, currency,"
            " to_pay, expires_at, next_poll_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                deposit_id,
                user_id,
                method.value,
                channel,
                state.value,
                str(amount),
                currency,
                str(to_pay),
                expires_at,
                next_poll_at,
                now,
                now,
            ),
        )
        payment = await self.get(int(cursor.lastrowid or 0))
        assert payment is not None
        return payment

    async def opened(self, payment_id: int, invoice: Invoice, next_poll_at: float) -> bool:
        """The gateway opened it: what to show, and when to ask it next. False when it was
        not being created (a second answer, say)."""
        cursor = await self._session.execute(
            "UPDATE payments SET state = ?, reference = ?, to_pay = ?, qr_string = ?,"
            " pay_url = ?, pay_code = ?, expires_at = ?, next_poll_at = ?, updated_at = ?"
            " WHERE id = ? AND state = ?",
            (
                PaymentState.PENDING.value,
                invoice.reference,
                str(invoice.to_pay),
                invoice.qr_string,
                invoice.pay_url or invoice.qr_url,
                invoice.pay_code,
                invoice.expires_at,
                next_poll_at,
                self._clock(),
                payment_id,
                PaymentState.CREATING.value,
            ),
        )
        return cursor.rowcount == 1

    async def get(self, payment_id: int) -> StoredPayment | None:
        row = await self._session.fetchone("SELECT * FROM payments WHERE id = ?", (payment_id,))
        return _payment(row) if row else None

    async def of_deposit(self, deposit_id: int) -> StoredPayment | None:
        row = await self._session.fetchone(
            "SELECT * FROM payments WHERE deposit_id = ?", (deposit_id,)
        )
        return _payment(row) if row else None

    async def by_reference(self, method: PaymentMethod, reference: str) -> StoredPayment | None:
        row = await self._session.fetchone(
            "SELECT * FROM payments WHERE method = ? AND reference = ?", (method.value, reference)
        )
        return _payment(row) if row else None

    async def open_of(self, user_id: int, method: PaymentMethod) -> list[StoredPayment]:
        """The user's payments of this method that wait to be paid, newest first."""
        rows = await self._session.fetchall(
            "SELECT * FROM payments WHERE user_id = ? AND method = ? AND state = ?"
            " ORDER BY id DESC LIMIT 20",
            (user_id, method.value, PaymentState.PENDING.value),
        )
        return [_payment(row) for row in rows]

    async def set_reference(self, payment_id: int, reference: str) -> bool:
        """A reference learnt at payment (Telegram's charge id); False when it has one."""
        cursor = await self._session.execute(
            "UPDATE payments SET reference = ?, updated_at = ? WHERE id = ? AND reference IS NULL",
            (reference, self._clock(), payment_id),
        )
        return cursor.rowcount == 1

    async def move(
        self, payment_id: int, state: PaymentState, from_states: Iterable[PaymentState]
    ) -> bool:
        """A new state, only from one of `from_states`: False (nothing changed) otherwise."""
        states = [s.value for s in from_states]
        marks = ", ".join("?" for _ in states)
        cursor = await self._session.execute(
            f"UPDATE payments SET state = ?, next_poll_at = NULL, updated_at = ?"
            f" WHERE id = ? AND state IN ({marks})",
            (state.value, self._clock(), payment_id, *states),
        )
        return cursor.rowcount == 1

    async def due(self, now: float, limit: int) -> list[StoredPayment]:
        """Open payments to ask about (or expire) now, the longest waiting first."""
        rows = await self._session.fetchall(
            "SELECT * FROM payments WHERE state IN (?, ?) AND next_poll_at <= ?"
            " ORDER BY next_poll_at LIMIT ?",
            (PaymentState.PENDING.value, PaymentState.CREATING.value, now, limit),
        )
        return [_payment(row) for row in rows]

    async def reschedule(self, payment_id: int, next_poll_at: float) -> None:
        await self._session.execute(
            "UPDATE payments SET next_poll_at = ? WHERE id = ? AND state IN (?, ?)",
            (
                next_poll_at,
                payment_id,
                PaymentState.PENDING.value,
                PaymentState.CREATING.value,
            ),
        )


def _payment(row: aiosqlite.Row) -> StoredPayment:
    return StoredPayment(
        id=row["id"],
        deposit_id=row["deposit_id"],
        user_id=row["user_id"],
        method=PaymentMethod(row["method"]),
        channel=row["channel"],
        reference=row["reference"],
        state=PaymentState(row["state"]),
        amount=Decimal(row["amount"]),
        currency=row["currency"],
        to_pay=Decimal(row["to_pay"]),
        qr_string=row["qr_string"],
        pay_url=row["pay_url"],
        pay_code=row["pay_code"],
        expires_at=row["expires_at"],
        next_poll_at=row["next_poll_at"],
        created_at=row["created_at"],
    )
