"""Money moving, inside the caller's transaction: a ledger entry with its wallet's total, an
order's refund, and the notices that tell of them. Every write of money goes through here, in
the same transaction as what causes it (an order's intent, its refusal, a status, an
approval)."""

from __future__ import annotations

import json
from decimal import Decimal

import aiosqlite

from bot.core.api import OrderState
from bot.core.money import InsufficientFunds, currency_unit, refund_due
from bot.core.records import EntryKind, Notice


async def add_notices(conn: aiosqlite.Connection, notices: list[Notice], now: float) -> None:
    """Notices to the outbox, inside the caller's transaction (with what they announce)."""
    await conn.executemany(
        "INSERT INTO outbox (user_id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        [(n.user_id, n.kind, json.dumps(n.payload, ensure_ascii=False), now) for n in notices],
    )


async def wallet_balance(conn: aiosqlite.Connection, user_id: int) -> Decimal:
    rows = list(
        await conn.execute_fetchall("SELECT balance FROM wallets WHERE user_id = ?", (user_id,))
    )
    return Decimal(rows[0][0]) if rows else Decimal(0)


async def post(
    conn: aiosqlite.Connection,
    user_id: int,
    amount: Decimal,
    kind: EntryKind,
    now: float,
    *,
    order_id: int | None = None,
    deposit_id: int | None = None,
    admin_id: int | None = None,
    note: str = "",
) -> Decimal:
    """One ledger entry and the wallet's total, inside the caller's transaction. Money taken
    may not bring the wallet below its credit limit (`InsufficientFunds`). Returns the new
    balance."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT balance, credit_limit FROM wallets WHERE user_id = ?", (user_id,)
        )
    )
    balance, limit = (Decimal(rows[0][0]), Decimal(rows[0][1])) if rows else (Decimal(0),) * 2
    new = balance + amount
    if amount < 0 and new < -limit:
        raise InsufficientFunds(-limit - new)
    await conn.execute(
        "INSERT INTO ledger (user_id, amount, kind, order_id, deposit_id, admin_id, note,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, str(amount), kind.value, order_id, deposit_id, admin_id, note, now),
    )
    await conn.execute(
        "INSERT INTO wallets (user_id, balance) VALUES (?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET balance = excluded.balance",
        (user_id, str(new)),
    )
    return new


async def refund(
    conn: aiosqlite.Connection, order_id: int, state: OrderState, remains: int | None, now: float
) -> Decimal:
    """What an order paid from a wallet is owed in this state, given back (once: what came
    back already is subtracted, and written in the same transaction); 0 when nothing is
    owed."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT user_id, paid, refunded, quantity, currency FROM orders WHERE id = ?",
            (order_id,),
        )
    )
    if not rows or rows[0]["paid"] is None:
        return Decimal(0)
    row = rows[0]
    refunded = Decimal(row["refunded"])
    owed = refund_due(
        Decimal(row["paid"]),
        refunded,
        row["quantity"],
        state,
        remains,
        currency_unit(row["currency"]),
    )
    if owed <= 0:
        return Decimal(0)
    await conn.execute(
        "UPDATE orders SET refunded = ? WHERE id = ?", (str(refunded + owed), order_id)
    )
    await post(conn, row["user_id"], owed, EntryKind.REFUND, now, order_id=order_id)
    return owed
