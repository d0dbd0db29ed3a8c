"""Wallet settlement, inside a unit of work: money taken for an order (never below the wallet's
credit limit), money given back for what the panel did not deliver (once), an admin's credit
or debit. Every move of money goes through here, in the transaction of what causes it."""

from __future__ import annotations

from decimal import Decimal

from bot.core.api import OrderState
from bot.core.money import InsufficientFunds, currency_unit, refund_due
from bot.core.ports import Transaction
from bot.core.records import EntryKind, Order
from bot.core.referrals import reshare


async def take(
    tx: Transaction,
    user_id: int,
    amount: Decimal,
    kind: EntryKind,
    *,
    order_id: int | None = None,
    deposit_id: int | None = None,
    admin_id: int | None = None,
    note: str = "",
) -> Decimal:
    """Take `amount` (positive) from the wallet; `InsufficientFunds` (nothing written) when
    it would go below its credit limit. Returns the new balance."""
    wallet = await tx.wallets.get(user_id)
    missing = wallet.short_of(amount)
    if missing:
        raise InsufficientFunds(missing)
    return await tx.wallets.post(
        user_id,
        -amount,
        kind,
        order_id=order_id,
        deposit_id=deposit_id,
        admin_id=admin_id,
        note=note,
    )


def settle(order: Order, state: OrderState, remains: int | None) -> Decimal:
    """What an order paid from a wallet is still owed back in this state (0: nothing): all of
    it for Canceled, Refunded, Fail and Error, the share not delivered for Partial, never
    more than was paid, never twice."""
    if order.paid is None:
        return Decimal(0)
    unit = currency_unit(order.currency)
    return refund_due(order.paid, order.refunded, order.quantity, state, remains, unit)


async def give_back(
    tx: Transaction, order: Order, state: OrderState, remains: int | None
) -> Decimal:
    """Give back what the order is owed in this state, and keep it with the order (so it is
    never given twice); its referrer's share follows. Returns the amount (0: none)."""
    owed = settle(order, state, remains)
    if owed:
        await tx.orders.add_refunded(order.id, owed)
        await tx.wallets.post(order.user_id, owed, EntryKind.REFUND, order_id=order.id)
    if order.paid is not None:
        await reshare(tx, order.id)
    return owed
