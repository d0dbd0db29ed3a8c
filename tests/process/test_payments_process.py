"""End to end through the real process: a customer tops up with each method (Tripay, Midtrans,
Telegram Stars, the gateway-free QRIS, the manual receipt) against the gateways' fakes and the
fake Bot API over HTTP on 127.0.0.1, then orders with the money; the ledger, the wallet and
/stats agree."""

from __future__ import annotations

import socket
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bot.adapters.sandbox.panel import SandboxPanel, SandboxServer
from bot.telegram import callback as cb
from tests.adapters.payments.fake_midtrans import SERVER_KEY, FakeMidtrans
from tests.adapters.payments.fake_tripay import API_KEY, MERCHANT_CODE, PRIVATE_KEY, FakeTripay
from tests.adapters.payments.test_qris import STATIC
from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, TOKEN, USER
from tests.process.bot_process import buttons_of, start_bot, wait_for
from tests.telegram.walks import LINK, money_block


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_each_method_tops_up_and_the_money_orders_and_adds_up(tmp_path: Path) -> None:
    telegram = FakeTelegram(TOKEN).start()
    sandbox = SandboxPanel(step_seconds=3600.0)
    server = SandboxServer(sandbox).start()
    tripay, midtrans = FakeTripay().start(), FakeMidtrans().start()
    port = free_port()
    env = {
        "PANEL_URL": server.url,
        "PANEL_KEY": "sandbox",
        "WALLETS": "on",
        "DEPOSIT_INSTRUCTIONS": "Transfer to BCA 123456",
        "PAYMENTS": "tripay,midtrans,stars,qris,manual",
        "STARS_RATE": "100",
        "TRIPAY_URL": tripay.url,
        "TRIPAY_API_KEY": API_KEY,
        "TRIPAY_PRIVATE_KEY": PRIVATE_KEY,
        "TRIPAY_MERCHANT_CODE": MERCHANT_CODE,
        "MIDTRANS_URL": midtrans.url,
        "MIDTRANS_SERVER_KEY": SERVER_KEY,
        "QRIS_STATIC": STATIC,
        "PAYMENTS_PORT": str(port),
    }
    bot = start_bot(tmp_path, telegram, **env)
    callbacks = f"http://127.0.0.1:{port}/payments"

    def last(chat: int, containing: str, after: int = 0) -> dict[str, Any]:
        def found() -> list[dict[str, Any]]:
            return [m for m in telegram.shown(chat)[after:] if containing in str(m["text"])]

        wait_for(found)
        return found()[-1]

    def button(message: dict[str, Any], starting: str) -> str:
        return next(data for text, data in buttons_of(message) if text.startswith(starting))

    def choose(amount: int, way: str) -> dict[str, Any]:
        seen = len(telegram.shown(USER))
        telegram.push_tap(USER, cb.TOP_UP())
        last(USER, "How much?", seen)
        telegram.push_text(USER, str(amount))
        ways = last(USER, "How do you pay?", seen)
        exact = [data for text, data in buttons_of(ways) if text == way]
        telegram.push_tap(USER, exact[0] if exact else button(ways, way))
        return {"seen": seen}

    def credited(count: int) -> None:
        wait_for(
            lambda: sum("was credited" in str(m["text"]) for m in telegram.shown(USER)) == count
        )

    try:
        telegram.push_text(USER, "/balance")
        last(USER, "Wallet")
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200)
        # Tripay: the QR, then its callback (twice)
        seen = choose(50_000, "QRIS (Tripay)")["seen"]
        last(USER, "Pay exactly", seen)
        (reference,) = tripay.transactions
        tripay.pay(reference)
        body, headers = tripay.callback(reference)
        for _ in range(2):
            assert httpx.post(f"{callbacks}/tripay", content=body, headers=headers).json() == {
                "success": True
            }
        credited(1)
        # Midtrans: its QR, then its notification, confirmed
        seen = choose(30_000, "QRIS (Midtrans)")["seen"]
        last(USER, "Pay exactly", seen)
        midtrans.set_status("DEP-2", "settlement")
        note = midtrans.notification("DEP-2")
        assert httpx.post(f"{callbacks}/midtrans", content=note).status_code == 200
        credited(2)
        # Stars: the invoice, the pre-checkout, the payment delivered twice
        seen = choose(25_000, "⭐")["seen"]
        invoice = last(USER, "Wallet top-up", seen)
        assert invoice["method"] == "sendInvoice" and invoice["currency"] == "XTR"
        telegram.push_pre_checkout(USER, "DEP-3", 250)
        wait_for(lambda: "answerPreCheckoutQuery" in telegram.methods())
        telegram.push_stars_paid(USER, "DEP-3", 250, "stxE2E")
        telegram.push_stars_paid(USER, "DEP-3", 250, "stxE2E")
        credited(3)
        # the gateway-free QRIS: the exact amount, "I have paid", an admin approves
        seen = choose(20_000, "QRIS")["seen"]
        qr = last(USER, "pay exactly", seen)
        telegram.push_tap(USER, button(qr, "✅ I have paid"))
        card = last(ADMIN, "approve only if your bank app shows exactly")
        telegram.push_tap(ADMIN, button(card, "✅"))
        credited(4)
        # the manual receipt
        seen = choose(10_000, "🧾")["seen"]
        last(USER, "BCA 123456", seen)
        telegram.push_text(USER, "ref 42")
        card = last(ADMIN, "Proof: ref 42")
        telegram.push_tap(ADMIN, button(card, "✅"))
        credited(5)
        # an order paid with the money
        seen = len(telegram.shown(USER))
        telegram.push_tap(USER, cb.START_ORDER(1))
        last(USER, "Send the link", seen)
        telegram.push_text(USER, LINK)
        last(USER, "Send the quantity", seen)
        telegram.push_text(USER, "1000")
        telegram.push_tap(USER, button(last(USER, "Check your order", seen), "✅"))
        assert "Paid: IDR15,000" in str(last(USER, "Order placed", seen)["text"])
        telegram.push_text(ADMIN, "/stats")
        stats = str(last(ADMIN, "<b>Money</b>")["text"])
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        server.stop()
        telegram.stop()
        tripay.stop()
        midtrans.stop()
    conn = sqlite3.connect(tmp_path / "bot.db")
    entries = [
        (Decimal(a), kind)
        for a, kind in conn.execute("SELECT amount, kind FROM ledger WHERE user_id = 2")
    ]
    (kept,) = conn.execute("SELECT balance FROM wallets WHERE user_id = 2").fetchone()
    (qris_amount,) = conn.execute("SELECT amount FROM deposits WHERE id = 4").fetchone()
    conn.close()
    deposits = sorted(a for a, kind in entries if kind == "deposit")
    assert deposits == sorted(Decimal(n) for n in (50_000, 30_000, 25_000, qris_amount, 10_000))
    assert sum(a for a, _ in entries) == Decimal(kept) == sum(deposits) - 15_000
    block = money_block(stats, "Today")
    assert block["Top-ups"] == f"IDR{sum(deposits):,}"
    assert block["Sales"] == "IDR15,000"


def test_a_method_without_its_settings_stops_the_start_with_one_line(tmp_path: Path) -> None:
    telegram = FakeTelegram(TOKEN).start()
    try:
        for env, said in (
            (
                {"WALLETS": "on", "PAYMENTS": "tripay"},
                "Configuration error: PAYMENTS has tripay, which needs TRIPAY_API_KEY; it is "
                "missing.",
            ),
            (
                {"WALLETS": "on", "PAYMENTS": "qris", "QRIS_STATIC": STATIC[:-1] + "0"},
                "Configuration error: QRIS_STATIC is not a QRIS: its checksum is",
            ),
        ):
            bot = start_bot(tmp_path, telegram, **env)
            output, _ = bot.communicate(timeout=30)
            assert bot.returncode == 2
            lines = output.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(said), output
    finally:
        telegram.stop()


def test_with_webhooks_the_callbacks_share_the_webhook_server(tmp_path: Path) -> None:
    telegram = FakeTelegram(TOKEN).start()
    tripay = FakeTripay().start()
    port, own_port = free_port(), free_port()
    env = {
        "WEBHOOK_URL": "https://bot.example.test/hook",
        "WEBHOOK_PORT": str(port),
        "WALLETS": "on",
        "PAYMENTS": "tripay",
        "TRIPAY_URL": tripay.url,
        "TRIPAY_API_KEY": API_KEY,
        "TRIPAY_PRIVATE_KEY": PRIVATE_KEY,
        "TRIPAY_MERCHANT_CODE": MERCHANT_CODE,
        "PAYMENTS_PORT": str(own_port),
    }
    bot = start_bot(tmp_path, telegram, **env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: "setWebhook" in telegram.methods())

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/healthz").text == "ok"
            except httpx.HTTPError:
                return False

        wait_for(healthy)
        body = b'{"reference":"DEV-T1","merchant_ref":"DEP-1","status":"PAID"}'
        forged = {"X-Callback-Signature": "0" * 64, "X-Callback-Event": "payment_status"}
        answer = httpx.post(f"{base}/payments/tripay", content=body, headers=forged)
        assert answer.status_code == 200 and answer.json() == {"success": False}
        big = httpx.post(f"{base}/payments/tripay", content=b"x" * 70_000)
        assert big.status_code == 413
        assert httpx.post(f"{base}/payments/midtrans", content=b"{}").status_code == 404
        wait_for(lambda: any("wrong signature" in m["text"] for m in telegram.shown(ADMIN)))
        try:  # no second server of its own
            httpx.get(f"http://127.0.0.1:{own_port}/healthz")
            raise AssertionError("the payments server runs beside the webhook's")
        except httpx.ConnectError:
            pass
    finally:
        bot.terminate()
        output, _ = bot.communicate(timeout=30)
        telegram.stop()
        tripay.stop()
    assert bot.returncode == 0, output
    assert PRIVATE_KEY not in output and API_KEY not in output
