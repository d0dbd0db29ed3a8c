"""Midtrans's Core API QRIS against a fake that answers with its documentation's bodies."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.payments.midtrans import MidtransGateway
from bot.core.payments import (
    BadCallback,
    GatewayRefused,
    GatewayUnavailable,
    PaymentMethod,
    PaymentRequest,
    PaymentState,
    matches,
)
from tests.adapters.payments.fake_http import ERROR_PAGE, HTML_PAGE, NO_ANSWER, Reply
from tests.adapters.payments.fake_midtrans import (
    INVALID,
    QR_STRING,
    RECOVERING,
    SERVER_KEY,
    FakeMidtrans,
    signature_key,
)

NOW = 1_750_000_000.0
REQUEST = PaymentRequest(
    deposit_id=12,
    user_id=1001,
    amount=Decimal("50000"),
    currency="IDR",
    customer_name="Budi",
    expires_in=600,
)
SIGNED = ("order_id", "status_code", "gross_amount", "signature_key")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeMidtrans]:
    fake = FakeMidtrans().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server: FakeMidtrans) -> FakeMidtrans:
    server.reset()
    return server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def gateway(fake: FakeMidtrans, http: httpx.AsyncClient, **options: object) -> MidtransGateway:
    settings_ = {
        "server_key": SERVER_KEY,
        "http": http,
        "url": fake.url,
        "timeout": 0.3,
        "clock": lambda: NOW,
        **options,
    }
    return MidtransGateway(**settings_)  # type: ignore[arg-type]


# -- create and status ------------------------------------------------------------------------


async def test_a_qris_charge_is_created_and_shown(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    midtrans = gateway(fake, http, callback_url="https://bot.example/payments/midtrans")
    invoice = await midtrans.create(REQUEST)

    sent = fake.requests[-1]
    body = sent.json()
    basic = base64.b64encode(f"{SERVER_KEY}:".encode()).decode()
    assert sent.headers["authorization"] == f"Basic {basic}"
    assert sent.headers["x-override-notification"] == "https://bot.example/payments/midtrans"
    assert body["payment_type"] == "qris" and body["qris"] == {"acquirer": "gopay"}
    assert body["transaction_details"] == {"order_id": "DEP-12", "gross_amount": 50000}
    assert body["custom_expiry"] == {"expiry_duration": 10, "unit": "minute"}

    charge = fake.charges["DEP-12"]
    assert invoice.method is PaymentMethod.MIDTRANS
    assert (invoice.reference, invoice.merchant_ref) == (charge.transaction_id, "DEP-12")
    assert invoice.amount == Decimal(50000) and invoice.currency == "IDR"
    assert invoice.qr_string == QR_STRING
    assert invoice.qr_url == f"https://api.midtrans.com/v2/qris/{charge.transaction_id}/qr-code"
    assert invoice.expires_at == NOW + 600


async def test_polling_follows_the_charge(fake: FakeMidtrans, http: httpx.AsyncClient) -> None:
    midtrans = gateway(fake, http)
    invoice = await midtrans.create(REQUEST)
    assert (await midtrans.status(invoice.reference)).state is PaymentState.PENDING

    fake.set_status("DEP-12", "settlement")
    news = await midtrans.status(invoice.reference)
    assert (news.state, news.reference, news.merchant_ref) == (
        PaymentState.PAID,
        invoice.reference,
        "DEP-12",
    )
    assert news.amount == Decimal("50000.00") and matches(news, REQUEST.amount, "IDR")
    assert fake.requests[-1].path == f"/v2/{invoice.reference}/status"

    fake.set_status("DEP-12", "expire")  # answered with status code 407: still a transaction
    assert (await midtrans.status(invoice.reference)).state is PaymentState.EXPIRED


async def test_an_unknown_transaction_is_refused_though_at_http_200(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    with pytest.raises(GatewayRefused) as refused:
        await gateway(fake, http).status("no-such-order")
    assert refused.value.words == "Transaction doesn't exist."


async def test_a_second_charge_for_a_deposit_is_refused(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    await gateway(fake, http).create(REQUEST)
    with pytest.raises(GatewayRefused, match="conflict with the current state"):
        await gateway(fake, http).create(REQUEST)


async def test_refusals_are_told_in_midtrans_words(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    with pytest.raises(GatewayRefused) as refused:
        await gateway(fake, http, server_key="SB-Mid-server-wrong-key-000").create(REQUEST)
    assert refused.value.words == (
        "Transaction cannot be authorized with the current client/server key."
    )

    fake.fail_next(Reply.of(INVALID, 400))
    with pytest.raises(GatewayRefused) as invalid:
        await gateway(fake, http).create(REQUEST)
    assert invalid.value.words == (
        "One or more parameters in the payload is invalid: "
        "transaction_details.gross_amount is not equal to the sum of item_details"
    )

    denied = {"status_code": "202", "status_message": "QRIS transaction is denied"}
    fake.fail_next(Reply.of({**denied, "transaction_status": "deny"}))
    with pytest.raises(GatewayRefused, match="QRIS transaction is denied"):
        await gateway(fake, http).create(REQUEST)


async def test_secrets_stay_out_of_words_and_reprs(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    basic = base64.b64encode(f"{SERVER_KEY}:".encode()).decode()
    said = {"status_code": "401", "status_message": f"Unknown key {SERVER_KEY} ({basic})"}
    fake.fail_next(Reply.of(said, 401))
    midtrans = gateway(fake, http)
    with pytest.raises(GatewayRefused) as refused:
        await midtrans.create(REQUEST)
    assert refused.value.words == "Unknown key ********** (**********)"
    assert SERVER_KEY not in repr(midtrans)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (ERROR_PAGE, "Midtrans answered HTTP 502"),
        (Reply.of(RECOVERING, 500), "Midtrans answered HTTP 500"),
        (Reply.of(RECOVERING), "Midtrans answered status 500"),
        (HTML_PAGE, "Midtrans answered an HTML page, not JSON (HTTP 200)"),
        (NO_ANSWER, "Midtrans did not answer within 0.3 s"),
        (Reply.of(["not", "an", "object"]), "not an object"),
        (Reply.of({"transaction_status": "pending"}), "without a status code"),
    ],
)
async def test_a_gateway_without_a_usable_answer_is_unavailable(
    fake: FakeMidtrans, http: httpx.AsyncClient, fault: Reply | None, reason: str
) -> None:
    fake.fail_next(fault)
    with pytest.raises(GatewayUnavailable) as unavailable:
        await gateway(fake, http).create(REQUEST)
    assert reason in unavailable.value.reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"order_id": "DEP-13"}, "another deposit or amount"),
        ({"gross_amount": "5000.00"}, "another deposit or amount"),
        ({"currency": "USD"}, "another deposit or amount"),
        ({"gross_amount": 50000.0}, "without a readable gross_amount"),
        ({"transaction_id": ""}, "without a readable transaction_id"),
        ({"transaction_status": None}, "without a readable transaction_status"),
    ],
)
async def test_a_hostile_charge_answer_shows_nothing(
    fake: FakeMidtrans, http: httpx.AsyncClient, change: dict[str, object], reason: str
) -> None:
    await gateway(fake, http).create(REQUEST)
    answer = fake.charge_answer(fake.charges["DEP-12"])
    fake.reset()
    fake.fail_next(Reply.of({**answer, **change}))
    with pytest.raises(GatewayUnavailable, match=reason):
        await gateway(fake, http).create(REQUEST)


async def test_a_status_of_another_transaction_is_not_believed(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    midtrans = gateway(fake, http)
    invoice = await midtrans.create(REQUEST)
    await midtrans.create(PaymentRequest(13, 1001, Decimal(9000), "IDR", "Budi", 600))
    fake.set_status("DEP-13", "settlement")
    fake.fail_next(Reply.of(fake.status_answer(fake.charges["DEP-13"])))
    with pytest.raises(GatewayUnavailable, match="another transaction"):
        await midtrans.status(invoice.reference)


# -- notifications ----------------------------------------------------------------------------


async def settled(fake: FakeMidtrans, http: httpx.AsyncClient) -> bytes:
    await gateway(fake, http).create(REQUEST)
    fake.set_status("DEP-12", "settlement")
    return fake.notification("DEP-12")


async def test_a_valid_notification_is_read_then_confirmed(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    midtrans = gateway(fake, http)
    news = midtrans.read_callback(await settled(fake, http), {})
    assert news.state is PaymentState.PAID and news.merchant_ref == "DEP-12"
    confirmed = await midtrans.confirm(news)
    assert confirmed == news
    assert fake.requests[-1].path == "/v2/DEP-12/status"
    assert matches(confirmed, REQUEST.amount, "IDR")


async def test_a_replayed_notification_says_the_same(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    body = await settled(fake, http)
    midtrans = gateway(fake, http)
    assert midtrans.read_callback(body, {}) == midtrans.read_callback(body, {})


async def test_a_forged_signature_is_refused(fake: FakeMidtrans, http: httpx.AsyncClient) -> None:
    fields = json.loads(await settled(fake, http))
    for forged in ["0" * 128, "", signature_key("DEP-12", "200", "50000.00")[:-1] + "x"]:
        body = json.dumps({**fields, "signature_key": forged}).encode()
        with pytest.raises(BadCallback):
            gateway(fake, http).read_callback(body, {})


async def test_a_signed_field_changed_after_signing_is_refused(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    fields = json.loads(await settled(fake, http))
    midtrans = gateway(fake, http)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(SIGNED), st.data())
    def check(name: str, data: st.DataObject) -> None:
        value = fields[name]
        at = data.draw(st.integers(0, len(value) - 1))
        # the signature is hex, read in either case: "E" for "e" is the same signature
        same = str.lower if name == "signature_key" else str
        other = data.draw(st.characters(codec="ascii").filter(lambda c: same(c) != same(value[at])))
        body = json.dumps({**fields, name: value[:at] + other + value[at + 1 :]}).encode()
        with pytest.raises(BadCallback):
            midtrans.read_callback(body, {})

    check()


async def test_a_pending_notification_made_to_say_settled_is_refused(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    """The signature does not cover the transaction status, the status code it covers does."""
    await gateway(fake, http).create(REQUEST)
    pending = json.loads(fake.notification("DEP-12"))
    assert pending["status_code"] == "201"
    body = json.dumps({**pending, "transaction_status": "settlement"}).encode()
    with pytest.raises(BadCallback, match="settled under status code '201'"):
        gateway(fake, http).read_callback(body, {})


async def test_what_the_signature_does_not_cover_is_settled_by_confirm(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    """A notification signed for a settlement that Midtrans does not have (its transaction id,
    its currency unsigned): confirm asks Midtrans by order id, and its answer wins."""
    await gateway(fake, http).create(REQUEST)
    charge = fake.charges["DEP-12"]
    body = fake.notification(
        "DEP-12", transaction_status="settlement", status_code="200", transaction_id="other"
    )
    midtrans = gateway(fake, http)
    news = midtrans.read_callback(body, {})
    assert news.state is PaymentState.PAID and news.reference == "other"
    confirmed = await midtrans.confirm(news)
    assert confirmed.state is PaymentState.PENDING and confirmed.reference == charge.transaction_id

    in_dollars = midtrans.read_callback(fake.notification("DEP-12", currency="USD"), {})
    assert not matches(in_dollars, REQUEST.amount, "IDR")


async def test_a_signed_notification_of_another_amount_credits_nothing(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    await gateway(fake, http).create(REQUEST)
    fake.set_status("DEP-12", "settlement")
    news = gateway(fake, http).read_callback(
        fake.notification("DEP-12", gross_amount="10000.00"), {}
    )
    assert news.state is PaymentState.PAID and not matches(news, REQUEST.amount, "IDR")


async def test_late_and_unsure_notifications_are_read_as_they_say(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    await gateway(fake, http).create(REQUEST)
    midtrans = gateway(fake, http)
    fake.set_status("DEP-12", "expire")
    assert midtrans.read_callback(fake.notification("DEP-12"), {}).state is PaymentState.EXPIRED
    fake.set_status("DEP-12", "settlement", fraud_status="challenge")
    assert midtrans.read_callback(fake.notification("DEP-12"), {}).state is PaymentState.PENDING
    fake.set_status("DEP-12", "settlement", fraud_status="deny")
    assert midtrans.read_callback(fake.notification("DEP-12"), {}).state is PaymentState.FAILED
    fake.set_status("DEP-12", "deny")
    assert midtrans.read_callback(fake.notification("DEP-12"), {}).state is PaymentState.FAILED


async def test_unreadable_notifications_are_refused(
    fake: FakeMidtrans, http: httpx.AsyncClient
) -> None:
    fields = json.loads(await settled(fake, http))
    midtrans = gateway(fake, http)
    for body in [b"", b"[1]", b"{", b"x" * 70_000, json.dumps({"order_id": 1}).encode()]:
        with pytest.raises(BadCallback):
            midtrans.read_callback(body, {})
    unknown = {**fields, "transaction_status": "teleported"}
    with pytest.raises(BadCallback, match="transaction_status"):
        midtrans.read_callback(json.dumps(unknown).encode(), {})


def test_notifications_are_answered_as_midtrans_expects() -> None:
    midtrans = MidtransGateway(server_key="SB-Mid-server-k", http=httpx.AsyncClient())
    assert midtrans.callback_answer(True) == (200, b"OK", "text/plain")
    assert midtrans.callback_answer(False)[0] == 400
