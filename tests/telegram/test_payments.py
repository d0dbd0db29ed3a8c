"""Automatic top-ups through the bot: Tripay and Midtrans against their fakes on 127.0.0.1
(create, callback valid / replayed / forged / of another amount / late, polling, expiry, a
gateway down), Telegram Stars through the recording Bot API (invoice, pre-checkout, success
delivered twice, an admin's refund), and the gateway-free QRIS an admin approves."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import (
    Chat,
    Message,
    PreCheckoutQuery,
    SuccessfulPayment,
    Update,
    User,
)

from bot.core.payments import PaymentMethod
from bot.core.topups import FAST_FOR, GRACE
from bot.telegram import callback as cb
from tests.adapters.payments.fake_http import ERROR_PAGE
from tests.adapters.payments.fake_midtrans import SERVER_KEY, FakeMidtrans
from tests.adapters.payments.fake_tripay import (
    API_KEY,
    MERCHANT_CODE,
    PRIVATE_KEY,
    FakeTripay,
    refusal,
    sign,
)
from tests.adapters.payments.test_qris import STATIC
from tests.harness import ADMIN, OTHER, USER, Call, Harness

SHOP = {
    "wallets": "on",
    "deposit_instructions": "Transfer to BCA 123456",
    "deposit_min": "10000",
    "payments_port": "0",
}


def tripay_settings(fake: FakeTripay, **more: str) -> dict[str, str]:
    return {
        **SHOP,
        "payments": "tripay,stars,manual",
        "stars_rate": "100",
        "tripay_url": fake.url,
        "tripay_api_key": API_KEY,
        "tripay_private_key": PRIVATE_KEY,
        "tripay_merchant_code": MERCHANT_CODE,
        **more,
    }


async def wallet_of(bot: Harness, user: int = USER) -> Decimal:
    return (await bot.state.shop.wallet(user)).balance


async def choose(bot: Harness, amount: int = 50_000) -> Call:
    """The customer asks for a top-up of `amount`; the ways to pay it."""
    await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
    return await bot.say(USER, str(amount))


async def post(bot: Harness, gateway: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """A callback to the bot's own payments server, over HTTP."""
    server = bot.parts.payments_server
    assert server is not None
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{server.url}/payments/{gateway}", content=body, headers=headers
        )
    await bot.state.tracker.delivered()
    return response


def alerts(bot: Harness) -> list[Call]:
    return [c for c in bot.request.sent(ADMIN) if "⚠️ Payments" in c.text]


def ledger(tmp_path: Path) -> list[tuple[str, str, int | None]]:
    conn = sqlite3.connect(tmp_path / "bot.db")
    rows = conn.execute("SELECT amount, kind, deposit_id FROM ledger ORDER BY id").fetchall()
    conn.close()
    return rows


async def open_tripay(bot: Harness, tripay: FakeTripay, amount: int = 50_000) -> tuple[Call, str]:
    choices = await choose(bot, amount)
    assert [text for text, _ in choices.buttons] == [
        "QRIS (Tripay)",
        "⭐ Telegram Stars",
        "🧾 Bank transfer (receipt)",
        "🏠 Menu",
    ]
    shown = await bot.tap(USER, choices.button("QRIS (Tripay)"))
    (reference,) = tripay.transactions
    return shown, reference


async def test_tripay_qris_is_shown_and_a_callback_credits_once(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        shown, reference = await open_tripay(bot, tripay)
        assert shown.method == "sendPhoto"
        assert "Pay exactly <b>IDR50,000</b>" in shown.text and "UTC" in shown.text
        assert shown.button("🔄 Check") == cb.PAY_CHECK(1)
        created = tripay.requests[0].json()
        assert created["merchant_ref"] == "DEP-1" and created["amount"] == 50_000
        assert "callback_url" not in created  # no public URL: the bot polls
        tripay.pay(reference)
        body, headers = tripay.callback(reference)
        first = await post(bot, "tripay", body, headers)
        assert first.json() == {"success": True}
        replay = await post(bot, "tripay", body, headers)
        assert replay.json() == {"success": True}
        assert await wallet_of(bot) == Decimal(50_000)
        assert sum("was credited" in c.text for c in bot.request.sent(USER)) == 1
        # a poll after the callback, and the customer's Check: nothing more
        bot.clock.advance(30)
        await bot.state.payments_job.run(bot.app.bot)
        checked = await bot.tap(USER, cb.PAY_CHECK(1))
        assert "is paid and credited" in checked.text
        await bot.tap(OTHER, cb.PAY_CHECK(1))  # not theirs
        assert "expired" in bot.last(OTHER).text
        assert await wallet_of(bot) == Decimal(50_000)
        assert not alerts(bot)
    assert ledger(tmp_path) == [("50000", "deposit", 1)]


async def test_a_restart_between_callback_and_replay_credits_once(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        _, reference = await open_tripay(bot, tripay)
        tripay.pay(reference)
        body, headers = tripay.callback(reference)
        await post(bot, "tripay", body, headers)
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:  # the restart
        assert (await post(bot, "tripay", body, headers)).json() == {"success": True}
        bot.clock.advance(30)
        await bot.state.payments_job.run(bot.app.bot)
        assert await wallet_of(bot) == Decimal(50_000)
    assert ledger(tmp_path) == [("50000", "deposit", 1)]


async def test_forged_unknown_and_wrong_amount_callbacks_credit_nothing_and_alert_once(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        _, reference = await open_tripay(bot, tripay)
        tripay.pay(reference)
        body, headers = tripay.callback(reference)
        forged = {**headers, "X-Callback-Signature": sign(body, "another-key")}
        for _ in range(3):
            answer = await post(bot, "tripay", body, forged)
            assert answer.json() == {"success": False}
        tampered = body.replace(b'"status":"PAID"', b'"status":"PAID" ')
        assert (await post(bot, "tripay", tampered, headers)).json() == {"success": False}
        assert len(alerts(bot)) == 1 and "wrong signature" in alerts(bot)[0].text
        # signed with the right key, of another amount: refused, told once
        cheap, cheap_headers = tripay.callback(reference, total_amount=5_000)
        await post(bot, "tripay", cheap, cheap_headers)
        await post(bot, "tripay", cheap, cheap_headers)
        assert len(alerts(bot)) == 2 and "another amount" in alerts(bot)[-1].text
        # a reference the bot never gave
        fields = json.loads(body) | {"reference": "DEV-T999", "merchant_ref": "DEP-777"}
        stranger = json.dumps(fields, separators=(",", ":")).encode()
        unknown_headers = {**headers, "X-Callback-Signature": sign(stranger)}
        assert (await post(bot, "tripay", stranger, unknown_headers)).json() == {"success": False}
        assert len(alerts(bot)) == 3 and "never opened" in alerts(bot)[-1].text
        assert await wallet_of(bot) == Decimal(0)
        # the real one still credits
        await post(bot, "tripay", body, headers)
        assert await wallet_of(bot) == Decimal(50_000)


async def test_the_payments_server_refuses_big_bodies_unread_and_answers_healthz(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        server = bot.parts.payments_server
        assert server is not None
        async with httpx.AsyncClient() as http:
            health = await http.get(f"{server.url}/healthz")
            big = await http.post(f"{server.url}/payments/tripay", content=b"x" * 70_000)
            other = await http.post(f"{server.url}/payments/midtrans", content=b"{}")
        assert health.status_code == 200 and health.text == "ok"
        assert big.status_code == 413
        assert other.status_code == 404  # not enabled
        assert not alerts(bot)


async def test_without_callbacks_the_bot_polls_then_expires_and_tells(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        _, first = await open_tripay(bot, tripay)
        job = bot.state.payments_job
        bot.clock.advance(5)
        assert await job.run(bot.app.bot) == 0  # not due yet
        polled = len(tripay.requests)
        bot.clock.advance(6)
        assert await job.run(bot.app.bot) == 0
        assert len(tripay.requests) == polled + 1  # asked after 10 s
        tripay.pay(first)
        bot.clock.advance(10)
        assert await job.run(bot.app.bot) == 1
        await bot.state.tracker.delivered()
        assert "was credited" in bot.last(USER).text
        # a second top-up nobody pays: asked every minute after 10 minutes, then closed
        await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
        await bot.tap(USER, (await bot.say(USER, "20000")).button("QRIS (Tripay)"))
        bot.clock.advance(FAST_FOR + 1)
        await job.run(bot.app.bot)
        asked = len(tripay.requests)
        bot.clock.advance(30)
        await job.run(bot.app.bot)
        assert len(tripay.requests) == asked  # a minute apart now
        bot.clock.advance(31)
        await job.run(bot.app.bot)
        assert len(tripay.requests) == asked + 1
        bot.clock.advance(3600 + GRACE)
        assert await job.run(bot.app.bot) == 1
        await bot.state.tracker.delivered()
        assert "not paid in time" in bot.last(USER).text
        assert bot.last(USER).button("➕") == cb.TOP_UP()
        assert await wallet_of(bot) == Decimal(50_000)


async def test_a_gateway_that_is_down_leaves_nothing_open_and_offers_the_others(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        choices = await choose(bot)
        tripay.fail_next(ERROR_PAGE)
        down = await bot.tap(USER, choices.button("QRIS (Tripay)"))
        assert "cannot take this payment right now" in down.text
        assert "Nothing was charged" in down.text
        assert [text for text, _ in down.buttons] == [
            "⭐ Telegram Stars",
            "🧾 Bank transfer (receipt)",
            "🏠 Menu",
        ]
        payment = await bot.store.payments.of_deposit(1)
        assert payment is not None and payment.state == "failed"
        deposit = await bot.store.deposits.get(1)
        assert deposit is not None and deposit.state == "closed"
        bot.clock.advance(7200)
        assert await bot.state.payments_job.run(bot.app.bot) == 0  # nothing to close
        # a refusal: in the gateway's own words
        tripay.fail_next(refusal("Merchant is not active"))
        refused = await bot.tap(USER, choices.button("QRIS (Tripay)"))
        assert "(Merchant is not active)" in refused.text
        assert "Nothing was charged" in refused.text


def pre_checkout_update(bot: Harness, payload: str, total: int, currency: str = "XTR") -> Update:
    query = PreCheckoutQuery(
        id="pcq1",
        from_user=User(USER, "U2", False, language_code="en"),
        currency=currency,
        total_amount=total,
        invoice_payload=payload,
    )
    query.set_bot(bot.app.bot)
    update = Update(update_id=9001, pre_checkout_query=query)
    update.set_bot(bot.app.bot)
    return update


def paid_update(bot: Harness, payload: str, total: int, charge: str) -> Update:
    message = Message(
        message_id=7001,
        date=datetime.now(UTC),
        chat=Chat(id=USER, type=Chat.PRIVATE),
        from_user=User(USER, "U2", False, language_code="en"),
        successful_payment=SuccessfulPayment(
            currency="XTR",
            total_amount=total,
            invoice_payload=payload,
            telegram_payment_charge_id=charge,
            provider_payment_charge_id="",
        ),
    )
    message.set_bot(bot.app.bot)
    update = Update(update_id=9002, message=message)
    update.set_bot(bot.app.bot)
    return update


def answers_of(bot: Harness, method: str) -> list[dict[str, Any]]:
    return [c.params for c in bot.request.calls if c.method == method]


async def test_stars_invoice_pre_checkout_credit_once_and_refund(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        choices = await choose(bot, 25_000)
        await bot.tap(USER, choices.button("⭐"))
        (invoice,) = answers_of(bot, "sendInvoice")
        assert invoice["currency"] == "XTR" and invoice["payload"] == "DEP-1"
        assert not invoice.get("provider_token")  # Stars: no provider
        prices = invoice["prices"]
        prices = json.loads(prices) if isinstance(prices, str) else prices
        assert [p["amount"] for p in prices] == [250]  # 25,000 at 100 a Star
        await bot.process(pre_checkout_update(bot, "DEP-1", 249))  # another amount
        await bot.process(pre_checkout_update(bot, "DEP-1", 250))
        await bot.process(pre_checkout_update(bot, "DEP-2", 250))  # no such top-up
        checks = answers_of(bot, "answerPreCheckoutQuery")
        assert [c["ok"] for c in checks] == [False, True, False]
        assert "closed or changed" in checks[0]["error_message"]
        await bot.process(paid_update(bot, "DEP-1", 250, "stxCHARGE1"))
        await bot.process(paid_update(bot, "DEP-1", 250, "stxCHARGE1"))  # delivered twice
        assert await wallet_of(bot) == Decimal(25_000)
        assert sum("was credited" in c.text for c in bot.request.sent(USER)) == 1
        # an admin refunds: Telegram asked, the wallet debited in the same step
        bot.request.fail_with["refundStarPayment"] = [
            (400, {"ok": False, "error_code": 400, "description": "Bad Request: CHARGE_NOT_FOUND"})
        ]
        refused = await bot.say(ADMIN, "/refundstars 1")
        assert "Telegram refused the refund" in refused.text
        assert await wallet_of(bot) == Decimal(25_000)
        done = await bot.say(ADMIN, "/refundstars 1")
        assert "250 Stars of top-up #1 given back" in done.text
        (refund,) = answers_of(bot, "refundStarPayment")
        assert refund["telegram_payment_charge_id"] == "stxCHARGE1"
        assert int(refund["user_id"]) == USER
        assert "were given back" in bot.last(USER).text
        again = await bot.say(ADMIN, "/refundstars 1")
        assert "refunded already" in again.text
        assert await wallet_of(bot) == Decimal(0)
        assert len(answers_of(bot, "refundStarPayment")) == 1
        await bot.say(USER, "/refundstars 1")  # not an admin: an unknown command
        assert len(answers_of(bot, "refundStarPayment")) == 1
    assert ledger(tmp_path) == [("25000", "deposit", 1), ("-25000", "adjustment", 1)]


async def test_a_spent_stars_top_up_is_not_refunded_and_an_expired_one_is_refused(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        await bot.tap(USER, (await choose(bot, 10_000)).button("⭐"))
        await bot.process(paid_update(bot, "DEP-1", 100, "stx1"))
        await bot.say(ADMIN, f"/debit {USER} 5000 spent")
        spent = await bot.say(ADMIN, "/refundstars 1")
        assert "it was spent" in spent.text
        assert answers_of(bot, "refundStarPayment") == []
        await bot.tap(USER, (await choose(bot, 10_000)).button("⭐"))
        bot.clock.advance(3601)
        await bot.process(pre_checkout_update(bot, "DEP-2", 100))
        assert answers_of(bot, "answerPreCheckoutQuery")[-1]["ok"] is False
        assert await bot.state.payments_job.run(bot.app.bot) == 1
        await bot.state.tracker.delivered()
        assert "not paid in time" in bot.last(USER).text


async def test_midtrans_notification_is_confirmed_before_crediting_once(
    tmp_path: Path, midtrans: FakeMidtrans
) -> None:
    settings = {
        **SHOP,
        "payments": "midtrans,manual",
        "midtrans_url": midtrans.url,
        "midtrans_server_key": SERVER_KEY,
    }
    async with Harness(tmp_path, **settings) as bot:
        choices = await choose(bot, 30_000)
        shown = await bot.tap(USER, choices.button("QRIS (Midtrans)"))
        assert shown.method == "sendPhoto" and "Pay exactly <b>IDR30,000</b>" in shown.text
        # a notification that says settled while Midtrans says pending: nothing
        early = midtrans.notification("DEP-1", transaction_status="settlement", status_code="200")
        assert (await post(bot, "midtrans", early, {})).status_code == 200
        assert await wallet_of(bot) == Decimal(0)
        midtrans.set_status("DEP-1", "settlement")
        body = midtrans.notification("DEP-1")
        assert (await post(bot, "midtrans", body, {})).status_code == 200
        assert (await post(bot, "midtrans", body, {})).status_code == 200
        forged = body.replace(b'"30000.00"', b'"300000.00"')
        assert (await post(bot, "midtrans", forged, {})).status_code == 400
        assert await wallet_of(bot) == Decimal(30_000)
        assert sum("was credited" in c.text for c in bot.request.sent(USER)) == 1
        assert len(alerts(bot)) == 1


async def test_a_static_qris_asks_a_unique_amount_an_admin_approves(tmp_path: Path) -> None:
    settings = {**SHOP, "payments": "qris", "qris_static": STATIC}
    async with Harness(tmp_path, **settings) as bot:
        shown = await choose(bot, 40_000)  # the only way: straight to its QR
        assert shown.method == "sendPhoto"
        deposit = await bot.store.deposits.get(1)
        assert deposit is not None and deposit.method == "qris"
        to_pay = deposit.amount
        assert Decimal(40_001) <= to_pay <= Decimal(40_999)
        assert f"pay exactly <b>IDR{to_pay:,}</b>" in shown.text
        await bot.tap(USER, shown.button("✅ I have paid"))
        card = bot.request.sent(ADMIN)[-1]
        assert f"exactly <b>IDR{to_pay:,}</b> received" in card.text
        await bot.tap(ADMIN, card.button("✅"))
        await bot.tap(ADMIN, card.button("✅"))
        assert await wallet_of(bot) == to_pay
        # another customer's open top-up of the same amount gets another suffix
        await bot.tap(OTHER, (await bot.say(OTHER, "/balance")).button("➕"))
        await bot.say(OTHER, "40000")
        await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
        await bot.say(USER, "40000")
        amounts = {(await bot.store.deposits.get(n)).amount for n in (2, 3)}  # type: ignore[union-attr]
        assert len(amounts) == 2


def test_a_missing_key_is_one_line_at_start(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from bot.config import describe_errors
    from tests.harness import make_settings

    with pytest.raises(ValidationError) as refused:
        make_settings(tmp_path, wallets="on", payments="stars,tripay", stars_rate="10")
    said = describe_errors(refused.value)
    assert said == (
        "Configuration error: PAYMENTS has tripay, which needs TRIPAY_API_KEY; it is missing."
    )
    with pytest.raises(ValidationError) as refused:
        make_settings(tmp_path, payments="stars", stars_rate="10")
    assert "needs WALLETS=on" in describe_errors(refused.value)
    with pytest.raises(ValidationError) as refused:
        make_settings(tmp_path, wallets="on", payments="paypal")
    assert "PAYMENTS is not valid" in describe_errors(refused.value)
    settings = make_settings(tmp_path, wallets="on", payments="Stars, manual", stars_rate="10")
    assert settings.payments == (PaymentMethod.STARS, PaymentMethod.MANUAL)
    assert "SecretStr" in repr(
        make_settings(
            tmp_path,
            wallets="on",
            payments="midtrans",
            midtrans_server_key="SB-Mid-server-secret-value",
        ).midtrans_server_key
    )


async def test_a_virtual_account_channel_shows_its_pay_code_without_a_qr(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay, tripay_methods="QRIS,BRIVA")) as bot:
        choices = await choose(bot)
        shown = await bot.tap(USER, choices.button("BRIVA (Tripay)"))
        assert shown.method == "sendMessage"
        assert "Pay code: <code>" in shown.text and "Pay exactly" in shown.text
        assert "Login ke internet banking" in shown.text  # Tripay's own steps, as plain text
        assert tripay.requests[0].json()["method"] == "BRIVA"
        forged = cb.PAY_WITH("tripay", "OVO", 50_000)  # a channel the operator does not list
        await bot.tap(USER, forged)
        assert "expired" in bot.last(USER).text
        assert len(tripay.requests) == 1


async def test_midtrans_unreachable_at_a_notification_is_asked_again_later_then_expires(
    tmp_path: Path, midtrans: FakeMidtrans
) -> None:
    settings = {
        **SHOP,
        "payments": "midtrans",
        "midtrans_url": midtrans.url,
        "midtrans_server_key": SERVER_KEY,
    }
    async with Harness(tmp_path, **settings) as bot:
        await choose(bot, 30_000)  # the only way: straight to its QR
        midtrans.set_status("DEP-1", "settlement")
        body = midtrans.notification("DEP-1")
        midtrans.fail_next(ERROR_PAGE)  # the status read again fails
        assert (await post(bot, "midtrans", body, {})).status_code == 400  # sent again later
        assert await wallet_of(bot) == Decimal(0)
        bot.clock.advance(10)
        assert await bot.state.payments_job.run(bot.app.bot) == 1  # the poll finds it paid
        assert await wallet_of(bot) == Decimal(30_000)
        assert (await post(bot, "midtrans", body, {})).status_code == 200  # the retry: nothing
        assert await wallet_of(bot) == Decimal(30_000)
        # a second one nobody pays: Midtrans expires it, the customer is told
        await choose(bot, 30_000)
        midtrans.set_status("DEP-2", "expire")
        bot.clock.advance(10)
        assert await bot.state.payments_job.run(bot.app.bot) == 1
        await bot.state.tracker.delivered()
        assert "not paid in time" in bot.last(USER).text
        assert await wallet_of(bot) == Decimal(30_000)


async def test_with_a_public_url_the_gateway_is_told_where_to_call_and_asked_only_at_expiry(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    public = tripay_settings(tripay, payments_public_url="https://bot.example.com/")
    async with Harness(tmp_path, **public) as bot:
        _, reference = await open_tripay(bot, tripay)
        created = tripay.requests[0].json()
        assert created["callback_url"] == "https://bot.example.com/payments/tripay"
        payment = await bot.store.payments.of_deposit(1)
        assert payment is not None and payment.next_poll_at == payment.expires_at + GRACE
        bot.clock.advance(FAST_FOR)
        await bot.state.payments_job.run(bot.app.bot)
        assert len(tripay.requests) == 1  # not asked: its callback tells
        tripay.pay(reference)  # the callback was lost: found at the expiry
        bot.clock.advance(3600 + GRACE)
        assert await bot.state.payments_job.run(bot.app.bot) == 1
        assert await wallet_of(bot) == Decimal(50_000)


async def test_wallets_not_in_rupiah_are_offered_no_rupiah_method(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay, payments="tripay")) as bot:
        bot.state.currency.code = "USD"
        told = await choose(bot, 20_000)
        assert "No way to pay a top-up is available right now" in told.text
        assert tripay.requests == []


async def test_a_long_list_of_steps_still_fits_a_photo_s_caption(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    from tests.adapters.payments import fake_tripay

    steps = [{"title": "Langkah", "steps": ["Buka aplikasi bank Anda " * 8] * 12}]
    original = fake_tripay.QRIS_STEPS
    fake_tripay.QRIS_STEPS = steps
    try:
        async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
            shown, _ = await open_tripay(bot, tripay)
            assert shown.method == "sendPhoto" and len(shown.text) <= 1024
            assert "Pay exactly" in shown.text and "tap Check" in shown.text
    finally:
        fake_tripay.QRIS_STEPS = original


async def test_a_double_tap_shows_the_same_payment_again_not_a_second_one(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        choices = await choose(bot)
        first = await bot.tap(USER, choices.button("QRIS (Tripay)"))
        bot.clock.advance(2)
        again = await bot.tap(USER, choices.button("QRIS (Tripay)"))
        assert len(tripay.transactions) == 1
        assert first.button("🔄 Check") == again.button("🔄 Check") == cb.PAY_CHECK(1)
        other = await choose(bot, 60_000)  # another amount: another payment
        await bot.tap(USER, other.button("QRIS (Tripay)"))
        assert len(tripay.transactions) == 2
        stars = await choose(bot, 25_000)
        bot.clock.advance(2)
        await bot.tap(USER, stars.button("⭐"))
        bot.clock.advance(2)
        await bot.tap(USER, stars.button("⭐"))
        invoices = answers_of(bot, "sendInvoice")
        assert [i["payload"] for i in invoices] == ["DEP-3", "DEP-3"]
