"""Tripay's closed payments against a fake that answers with the developer guide's bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.adapters.payments import tripay as adapter
from bot.adapters.payments.tripay import TripayGateway
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
from tests.adapters.payments.fake_tripay import (
    API_KEY,
    BRIVA_PAY_CODE,
    MERCHANT_CODE,
    PRIVATE_KEY,
    SANDBOX_QR,
    FakeTripay,
    refusal,
    sign,
)

NOW = 1_750_000_000.0
REQUEST = PaymentRequest(
    deposit_id=7,
    user_id=1001,
    amount=Decimal("50000"),
    currency="IDR",
    customer_name="Budi  Santoso",
    expires_in=900,
)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTripay]:
    fake = FakeTripay().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server: FakeTripay) -> FakeTripay:
    server.reset()
    return server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def gateway(fake: FakeTripay, http: httpx.AsyncClient, **options: object) -> TripayGateway:
    settings_ = {
        "api_key": SecretStr(API_KEY),
        "private_key": SecretStr(PRIVATE_KEY),
        "merchant_code": MERCHANT_CODE,
        "http": http,
        "url": fake.url,
        "channels": ("QRIS", "BRIVA"),
        "timeout": 0.3,
        "clock": lambda: NOW,
        **options,
    }
    return TripayGateway(**settings_)  # type: ignore[arg-type]


def test_the_create_signature_is_the_guides_example() -> None:
    # "Buat Signature": T0001 + INV55567 + 1500000 under ytf6ooi2gmlNPfpchd94jDOk8hRWOu.
    assert adapter.sign("ytf6ooi2gmlNPfpchd94jDOk8hRWOu", b"T0001INV555671500000") == (
        "9f167eba844d1fcb369404e2bda53702e2f78f7aa12e91da6715414e65b8c86a"
    )


# -- create -----------------------------------------------------------------------------------


async def test_a_qris_transaction_is_created_signed_and_shown(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    invoice = await gateway(fake, http, callback_url="https://bot.example/payments/tripay").create(
        REQUEST
    )

    sent = fake.requests[-1]
    body = sent.json()
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert body["method"] == "QRIS" and body["merchant_ref"] == "DEP-7"
    assert body["amount"] == 50000 and body["expired_time"] == int(NOW) + 900
    assert body["signature"] == sign(f"{MERCHANT_CODE}DEP-750000".encode())
    assert body["customer_name"] == "Budi Santoso"
    assert body["callback_url"] == "https://bot.example/payments/tripay"
    assert [item["price"] for item in body["order_items"]] == [50000]

    assert invoice.method is PaymentMethod.TRIPAY
    assert invoice.reference.startswith("DEV-T") and invoice.merchant_ref == "DEP-7"
    assert invoice.amount == Decimal(50000) and invoice.to_pay == Decimal(50000)
    assert invoice.currency == "IDR"
    assert invoice.qr_string == SANDBOX_QR
    assert invoice.qr_url == f"https://tripay.co.id/qr/{invoice.reference}"
    assert invoice.pay_url == f"https://tripay.co.id/checkout/{invoice.reference}"
    assert invoice.expires_at == NOW + 900
    assert invoice.instructions[:2] == (
        "Pembayaran via QRIS",
        "Masuk ke aplikasi dompet digital Anda yang telah mendukung QRIS",
    )


async def test_the_customers_fee_is_on_top_of_the_deposit(http: httpx.AsyncClient) -> None:
    fake = FakeTripay(fee=1450, customer_pays_fee=True).start()
    try:
        invoice = await gateway(fake, http).create(REQUEST)
        news = await gateway(fake, http).status(invoice.reference)
    finally:
        fake.stop()
    assert (invoice.amount, invoice.surcharge, invoice.to_pay) == (50000, 1450, 51450)
    assert news.amount == Decimal(50000)


async def test_a_virtual_account_shows_its_number_and_the_steps_as_plain_text(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    request = PaymentRequest(8, 1001, Decimal(20000), "IDR", "Budi", 3600, channel="BRIVA")
    invoice = await gateway(fake, http).create(request)
    assert invoice.pay_code == BRIVA_PAY_CODE and invoice.qr_string is None
    assert f"Pilih rekening sumber dan masukkan Kode Bayar ({BRIVA_PAY_CODE}) lalu klik Kirim" in (
        invoice.instructions
    )


async def test_what_tripay_cannot_take_is_refused_before_asking(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    tripay = gateway(fake, http, channels=("QRIS",))
    with pytest.raises(ValueError, match="BRIVA"):
        await tripay.create(PaymentRequest(1, 1, Decimal(20000), "IDR", "B", 60, channel="BRIVA"))
    with pytest.raises(ValueError, match="whole rupiah"):
        await tripay.create(PaymentRequest(1, 1, Decimal("20000.5"), "IDR", "B", 60))
    with pytest.raises(ValueError, match="whole rupiah"):
        await tripay.create(PaymentRequest(1, 1, Decimal(20), "USD", "B", 60))
    assert fake.requests == []


# -- status -----------------------------------------------------------------------------------


async def test_polling_follows_the_transaction(fake: FakeTripay, http: httpx.AsyncClient) -> None:
    tripay = gateway(fake, http)
    invoice = await tripay.create(REQUEST)
    assert (await tripay.status(invoice.reference)).state is PaymentState.PENDING

    fake.pay(invoice.reference)
    news = await tripay.status(invoice.reference)
    assert (news.state, news.reference, news.merchant_ref) == (
        PaymentState.PAID,
        invoice.reference,
        "DEP-7",
    )
    assert matches(news, REQUEST.amount, "IDR")
    assert fake.requests[-1].query == {"reference": invoice.reference}

    for status, state in [("EXPIRED", PaymentState.EXPIRED), ("FAILED", PaymentState.FAILED)]:
        fake.set_status(invoice.reference, status)
        assert (await tripay.status(invoice.reference)).state is state
    fake.set_status(invoice.reference, "REFUND")
    assert (await tripay.status(invoice.reference)).state is PaymentState.REFUNDED


async def test_a_status_of_another_transaction_is_not_believed(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    tripay = gateway(fake, http)
    invoice = await tripay.create(REQUEST)
    other = await tripay.create(PaymentRequest(9, 1001, Decimal(9000), "IDR", "Budi", 900))
    fake.pay(other.reference)
    fake.fail_next(
        Reply.of({"success": True, "data": fake.data_of(fake.transactions[other.reference])})
    )
    with pytest.raises(GatewayUnavailable, match="another transaction"):
        await tripay.status(invoice.reference)


async def test_an_unknown_transaction_is_tripays_refusal(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    with pytest.raises(GatewayRefused) as refused:
        await gateway(fake, http).status("DEV-T000100000000099")
    assert refused.value.words == "Transaction not found"


# -- callbacks --------------------------------------------------------------------------------


async def paid_callback(fake: FakeTripay, http: httpx.AsyncClient) -> tuple[bytes, dict[str, str]]:
    invoice = await gateway(fake, http).create(REQUEST)
    fake.pay(invoice.reference)
    return fake.callback(invoice.reference)


async def test_a_valid_callback_is_read(fake: FakeTripay, http: httpx.AsyncClient) -> None:
    body, headers = await paid_callback(fake, http)
    news = gateway(fake, http).read_callback(body, headers)
    assert news.state is PaymentState.PAID and news.merchant_ref == "DEP-7"
    assert news.reference == json.loads(body)["reference"]
    assert matches(news, Decimal(50000), "IDR")
    lower = {name.lower(): value for name, value in headers.items()}
    assert gateway(fake, http).read_callback(body, lower) == news


async def test_a_replayed_callback_says_the_same(fake: FakeTripay, http: httpx.AsyncClient) -> None:
    body, headers = await paid_callback(fake, http)
    tripay = gateway(fake, http)
    assert tripay.read_callback(body, headers) == tripay.read_callback(body, headers)


async def test_a_forged_signature_is_refused(fake: FakeTripay, http: httpx.AsyncClient) -> None:
    body, headers = await paid_callback(fake, http)
    tripay = gateway(fake, http)
    for signature in [sign(body, "another-private-key"), "", "zz" * 32, "é" * 64]:
        with pytest.raises(BadCallback, match="X-Callback-Signature"):
            tripay.read_callback(body, {**headers, "X-Callback-Signature": signature})
    with pytest.raises(BadCallback, match="X-Callback-Signature"):
        tripay.read_callback(body, {"X-Callback-Event": "payment_status"})


async def test_a_body_changed_after_signing_is_refused(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    body, headers = await paid_callback(fake, http)
    changed = body.replace(b'"total_amount":50000', b'"total_amount":5000000')
    with pytest.raises(BadCallback, match="X-Callback-Signature"):
        gateway(fake, http).read_callback(changed, headers)


async def test_any_single_byte_changed_is_refused(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    body, headers = await paid_callback(fake, http)
    tripay = gateway(fake, http)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(0, len(body) - 1), st.integers(1, 255))
    def check(index: int, delta: int) -> None:
        changed = bytearray(body)
        changed[index] = (changed[index] + delta) % 256
        with pytest.raises(BadCallback):
            tripay.read_callback(bytes(changed), headers)

    check()


async def test_a_signed_callback_of_another_amount_credits_nothing(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    invoice = await gateway(fake, http).create(REQUEST)
    body, headers = fake.callback(invoice.reference, total_amount=10000, status="PAID")
    news = gateway(fake, http).read_callback(body, headers)
    assert news.state is PaymentState.PAID and news.amount == Decimal(10000)
    assert not matches(news, REQUEST.amount, "IDR")


async def test_a_late_callback_is_read_as_it_says(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    """The adapter reads; whether a payment after the deposit's expiry counts is the caller's."""
    invoice = await gateway(fake, http).create(REQUEST)
    fake.set_status(invoice.reference, "EXPIRED")
    expired = gateway(fake, http).read_callback(*fake.callback(invoice.reference))
    assert expired.state is PaymentState.EXPIRED
    later = gateway(fake, http, clock=lambda: invoice.expires_at + 3600)
    paid = later.read_callback(*fake.callback(invoice.reference, status="PAID"))
    assert paid.state is PaymentState.PAID


async def test_what_is_not_a_payment_status_is_refused(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    body, headers = await paid_callback(fake, http)
    tripay = gateway(fake, http)
    with pytest.raises(BadCallback, match="not a payment status"):
        tripay.read_callback(body, {**headers, "X-Callback-Event": "payout_status"})
    for payload in [b"[]", b"not json", b'{"reference": "x"}', b'{"status": "WON", "a": 1}']:
        with pytest.raises(BadCallback):
            tripay.read_callback(payload, {**headers, "X-Callback-Signature": sign(payload)})
    huge = b" " * 70_000
    with pytest.raises(BadCallback, match="more than 65536"):
        tripay.read_callback(huge, {**headers, "X-Callback-Signature": sign(huge)})


def test_callbacks_are_answered_as_the_guide_expects() -> None:
    tripay = TripayGateway(
        api_key="k" * 20, private_key="p" * 20, merchant_code="T1", http=httpx.AsyncClient()
    )
    assert tripay.callback_answer(True) == (200, b'{"success": true}', "application/json")
    assert tripay.callback_answer(False) == (200, b'{"success": false}', "application/json")


# -- a gateway that fails ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (ERROR_PAGE, "Tripay answered HTTP 502"),
        (Reply.of({"success": False, "message": "Server Error"}, 500), "Tripay answered HTTP 500"),
        (HTML_PAGE, "Tripay answered an HTML page, not JSON (HTTP 200)"),
        (Reply(200, b"OK"), "Tripay answered something that is not JSON (HTTP 200)"),
        (NO_ANSWER, "Tripay did not answer within 0.3 s"),
        (Reply.of({"success": True}), "Tripay answered success without data"),
        (Reply.of({"success": "yes", "data": {}}), "neither success nor a refusal"),
    ],
)
async def test_a_gateway_without_a_usable_answer_is_unavailable(
    fake: FakeTripay, http: httpx.AsyncClient, fault: Reply | None, reason: str
) -> None:
    fake.fail_next(fault)
    with pytest.raises(GatewayUnavailable) as unavailable:
        await gateway(fake, http).create(REQUEST)
    assert reason in unavailable.value.reason


async def test_a_gateway_out_of_reach_is_unavailable(http: httpx.AsyncClient) -> None:
    fake = FakeTripay().start()
    fake.stop()
    with pytest.raises(GatewayUnavailable, match="could not be reached"):
        await gateway(fake, http).status("DEV-T1")


async def test_a_refusal_is_told_in_tripays_words(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    with pytest.raises(GatewayRefused) as refused:
        await gateway(fake, http, api_key="DEV-a-wrong-api-key-0000").create(REQUEST)
    assert refused.value.words == "Invalid API Key"
    assert str(refused.value) == "Tripay refused: Invalid API Key"

    fake.fail_next(refusal("Minimum amount is Rp 10.000 for this channel"))
    with pytest.raises(GatewayRefused, match=r"Minimum amount is Rp 10\.000"):
        await gateway(fake, http).create(REQUEST)


async def test_secrets_stay_out_of_words_reprs_and_errors(
    fake: FakeTripay, http: httpx.AsyncClient
) -> None:
    fake.fail_next(refusal(f"Bad key {API_KEY} or {PRIVATE_KEY}\n" + "x" * 500, 403))
    tripay = gateway(fake, http)
    with pytest.raises(GatewayRefused) as refused:
        await tripay.create(REQUEST)
    words = refused.value.words
    assert API_KEY not in words and PRIVATE_KEY not in words and "\n" not in words
    assert words.startswith("Bad key ********** or **********") and len(words) == 200
    assert API_KEY not in repr(tripay) and PRIVATE_KEY not in repr(tripay)


async def created_data(fake: FakeTripay, http: httpx.AsyncClient) -> dict[str, object]:
    """The data of a real create answer, for a test to spoil."""
    invoice = await gateway(fake, http).create(REQUEST)
    return fake.data_of(fake.transactions[invoice.reference])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"merchant_ref": "DEP-8"}, "another deposit or amount"),
        ({"amount": 10000}, "another deposit or amount"),
        ({"amount": "50.000"}, "without a readable amount"),
        ({"amount": 50000.5}, "without a readable amount"),
        ({"reference": None}, "without a readable reference"),
        ({"qr_string": "\u0000evil"}, "without a readable qr_string"),
    ],
)
async def test_a_hostile_answer_shows_nothing(
    fake: FakeTripay, http: httpx.AsyncClient, change: dict[str, object], reason: str
) -> None:
    data = await created_data(fake, http)
    fake.fail_next(Reply.of({"success": True, "message": "", "data": {**data, **change}}))
    with pytest.raises(GatewayUnavailable, match=reason):
        await gateway(fake, http).create(REQUEST)


async def test_a_hostile_link_is_dropped(fake: FakeTripay, http: httpx.AsyncClient) -> None:
    data = await created_data(fake, http)
    hostile = {**data, "checkout_url": "javascript:alert(1)", "qr_url": 12}
    fake.fail_next(Reply.of({"success": True, "data": hostile}))
    invoice = await gateway(fake, http).create(REQUEST)
    assert invoice.pay_url is None and invoice.qr_url is None
