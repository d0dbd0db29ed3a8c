"""Automatic top-ups' callbacks: Tripay's callbacks sent over HTTP to the bot's own payments
server (the signature checked on the raw bytes, the payment found, the wallet credited and the
customer's notice written in one transaction, the answer sent back), in-process with the
recording Bot API. Two figures: one callback's wall time (p99), and a burst of 1,000 callbacks
of which 100 are replays and 100 forged, with exactly 800 credits."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx

from bench.menu import LeanRequest
from bot.adapters.payments.tripay import sign
from bot.core.payments import Invoice, PaymentMethod, PaymentState
from bot.core.records import DepositState
from tests.harness import Harness

PRIVATE_KEY = "bench-private-key-0123456789"
SINGLE = 300
BURST, REPLAYS, FORGED = 1000, 100, 100
CONCURRENCY = 10
TARGET_P99_MS = 20.0
TARGET_BURST_S = 10.0
AMOUNT = Decimal(50_000)
CUSTOMERS = 50


def settings(fake_url: str) -> dict[str, str]:
    return {
        "wallets": "on",
        "payments": "tripay",
        "tripay_url": fake_url,
        "tripay_api_key": "bench-api-key",
        "tripay_private_key": PRIVATE_KEY,
        "tripay_merchant_code": "T0001",
        "payments_port": "0",
        "allowed_ids": ",".join(str(100 + n) for n in range(CUSTOMERS)),
    }


async def open_payments(bot: Harness, count: int, start: int) -> list[str]:
    """`count` open Tripay payments, as `TopUps.start` leaves them; their references."""
    references = []
    now = bot.clock()
    for n in range(start, start + count):
        user = 100 + n % CUSTOMERS
        async with bot.store.transaction() as tx:
            deposit = await tx.deposits.open_paid(
                user, AMOUNT, PaymentMethod.TRIPAY.value, DepositState.AWAITING_PAYMENT
            )
            payment = await tx.payments.add(
                deposit_id=deposit.id,
                user_id=user,
                method=PaymentMethod.TRIPAY,
                channel="QRIS",
                state=PaymentState.CREATING,
                amount=AMOUNT,
                currency="IDR",
                to_pay=AMOUNT,
                expires_at=now + 3600,
            )
            reference = f"DEV-T0001{deposit.id:011d}"
            invoice = Invoice(
                PaymentMethod.TRIPAY,
                reference,
                f"DEP-{deposit.id}",
                AMOUNT,
                "IDR",
                "SANDBOX MODE",
                None,
                now + 3600,
            )
            await tx.payments.opened(payment.id, invoice, now + 3600)
        references.append(reference)
    return references


def callback(reference: str, *, forged: bool = False) -> tuple[bytes, dict[str, str]]:
    """Tripay's callback of a paid QRIS transaction, as its guide shows it."""
    fields = {
        "reference": reference,
        "merchant_ref": "DEP-" + str(int(reference[-11:])),
        "payment_method": "QRIS by ShopeePay",
        "payment_method_code": "QRIS",
        "total_amount": int(AMOUNT),
        "fee_merchant": 1450,
        "fee_customer": 0,
        "total_fee": 1450,
        "amount_received": int(AMOUNT) - 1450,
        "is_closed_payment": 1,
        "status": "PAID",
        "paid_at": 1_700_000_000,
        "note": None,
    }
    body = json.dumps(fields, separators=(",", ":")).encode()
    key = "not-the-key" if forged else PRIVATE_KEY
    return body, {"X-Callback-Signature": sign(key, body), "X-Callback-Event": "payment_status"}


async def credits(bot: Harness) -> int:
    rows = await bot.store.wallets.since(0)
    return sum(1 for entry in rows if entry.kind == "deposit")


async def measure() -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as folder:
        async with Harness(
            Path(folder), request=LeanRequest(), **settings("http://127.0.0.1:9")
        ) as bot:
            server = bot.parts.payments_server
            assert server is not None
            url = f"{server.url}/payments/tripay"
            async with httpx.AsyncClient() as http:

                async def send(body: bytes, headers: dict[str, str]) -> None:
                    answer = await http.post(url, content=body, headers=headers)
                    assert answer.status_code == 200

                single = await open_payments(bot, SINGLE, 0)
                took = []
                for reference in single:
                    body, headers = callback(reference)
                    started = time.perf_counter()
                    await send(body, headers)
                    took.append(time.perf_counter() - started)
                took.sort()
                p99 = took[int(len(took) * 0.99) - 1] * 1000
                assert await credits(bot) == SINGLE

                fresh = await open_payments(bot, BURST - REPLAYS - FORGED, SINGLE)
                bodies = [callback(reference) for reference in fresh]
                bodies += [callback(reference) for reference in fresh[:REPLAYS]]
                bodies += [callback(reference, forged=True) for reference in fresh[-FORGED:]]
                queue = list(reversed(bodies))

                async def worker() -> None:
                    while queue:
                        await send(*queue.pop())

                started = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
                burst = time.perf_counter() - started
                await bot.state.tracker.delivered()
                credited = await credits(bot) - SINGLE
        return p99, burst, credited


def run() -> list[tuple[str, str, str, bool]]:
    p99, burst, credited = asyncio.run(measure())
    expected = BURST - REPLAYS - FORGED
    return [
        (
            "payments: a Tripay callback over HTTP, verified and credited (p99)",
            f"< {TARGET_P99_MS:g} ms",
            f"{p99:.2f} ms",
            p99 < TARGET_P99_MS,
        ),
        (
            f"payments: {BURST} callbacks ({REPLAYS} replays, {FORGED} forged): time, credits",
            f"< {TARGET_BURST_S:g} s, {expected}",
            f"{burst:.2f} s, {credited}",
            burst < TARGET_BURST_S and credited == expected,
        ),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
