"""Tripay's closed payments (QRIS first, virtual accounts as the operator lists them).

Built on Tripay's developer guide (https://tripay.co.id/developer, as copied in the public
repository Alucard0x1/Tripay-API-Docs, tripay_developer.md): the endpoints, the request fields,
the signatures, the callback's headers and its expected answer are the guide's. Where the guide
shows a virtual account only, the QRIS answer is the one Tripay's sandbox gave a public client
(a `QRISC` transaction: `"qr_string": "SANDBOX MODE"`, an `amount` that includes `fee_customer`).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx
from pydantic import SecretStr

from bot.adapters.payments import wire
from bot.adapters.payments.wire import Unreadable
from bot.core.payments import (
    MAX_CALLBACK_BYTES,
    BadCallback,
    GatewayRefused,
    GatewayUnavailable,
    Invoice,
    PaymentMethod,
    PaymentNews,
    PaymentRequest,
    PaymentState,
)

SANDBOX_URL = "https://tripay.co.id/api-sandbox"
PRODUCTION_URL = "https://tripay.co.id/api"
NAME = "Tripay"
CURRENCY = "IDR"
"""Tripay takes rupiah only."""
CALLBACK_EVENT = "payment_status"
ITEM_NAME = "Wallet top-up"
DEFAULT_EMAIL = "customer@example.com"
"""Tripay requires a customer email and the bot knows none: an address at the domain reserved
for examples, no one's mailbox, unless the operator gives one."""
STATES = {
    "UNPAID": PaymentState.PENDING,
    "PAID": PaymentState.PAID,
    "EXPIRED": PaymentState.EXPIRED,
    "FAILED": PaymentState.FAILED,
    "REFUND": PaymentState.REFUNDED,
}
"""The guide's statuses: the callback's list (PAID, FAILED, EXPIRED, REFUND) and UNPAID,
which the transaction answers carry while nothing is paid."""
_TAG = re.compile(r"<[^>]*>")


def sign(private_key: str, message: bytes) -> str:
    """HMAC-SHA256 in hex, as every Tripay signature is."""
    return hmac.new(private_key.encode(), message, hashlib.sha256).hexdigest()


class TripayGateway:
    """One Tripay merchant. `channels` are the Tripay method codes the operator offers (the
    first is the default); the `http` client is the caller's to close."""

    method = PaymentMethod.TRIPAY

    def __init__(
        self,
        *,
        api_key: SecretStr | str,
        private_key: SecretStr | str,
        merchant_code: str,
        http: httpx.AsyncClient,
        url: str = SANDBOX_URL,
        channels: tuple[str, ...] = ("QRIS",),
        callback_url: str | None = None,
        customer_email: str = DEFAULT_EMAIL,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not channels:
            raise ValueError("Tripay needs at least one channel")
        self.url = url.rstrip("/")
        self.merchant_code = merchant_code
        self.channels = channels
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._private_key = (
            private_key if isinstance(private_key, SecretStr) else SecretStr(private_key)
        )
        self._http = http
        self._callback_url = callback_url
        self._customer_email = customer_email
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"TripayGateway(url={self.url!r}, merchant_code={self.merchant_code!r}, "
            "api_key=**********, private_key=**********)"
        )

    # -- calls --------------------------------------------------------------------------------

    async def create(self, request: PaymentRequest) -> Invoice:
        """`POST /transaction/create`, signed HMAC-SHA256(private key, merchant code + merchant
        ref + amount) as the guide's "Buat Signature" says."""
        channel = request.channel or self.channels[0]
        if channel not in self.channels:
            raise ValueError(f"Tripay channel {channel!r} is not offered")
        if request.currency != CURRENCY or request.amount != request.amount.to_integral_value():
            raise ValueError("Tripay takes whole rupiah (IDR)")
        amount = int(request.amount)
        ref = request.merchant_ref
        body: dict[str, Any] = {
            "method": channel,
            "merchant_ref": ref,
            "amount": amount,
            "customer_name": wire.customer_name(request),
            "customer_email": self._customer_email,
            "order_items": [{"sku": ref, "name": ITEM_NAME, "price": amount, "quantity": 1}],
            "expired_time": int(self._clock() + request.expires_in),
            "signature": self._sign(f"{self.merchant_code}{ref}{amount}".encode()),
        }
        if self._callback_url:
            body["callback_url"] = self._callback_url
        data = await self._call("POST", "/transaction/create", json=body)
        with wire.reading("Tripay answered a transaction"):
            invoice = self._invoice(data, request)
        if invoice.merchant_ref != ref or invoice.amount != request.amount:
            raise GatewayUnavailable("Tripay answered a transaction of another deposit or amount")
        return invoice

    async def status(self, reference: str) -> PaymentNews:
        """`GET /transaction/detail?reference=`: the transaction as Tripay has it now."""
        data = await self._call("GET", "/transaction/detail", params={"reference": reference})
        with wire.reading("Tripay answered a transaction"):
            news = _news(data, amount_field="amount")
        if news.reference != reference:
            raise GatewayUnavailable("Tripay answered about another transaction")
        return news

    def read_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentNews:
        """A callback: `X-Callback-Signature` must be HMAC-SHA256(private key, the raw body)
        before a byte of it is read, and `X-Callback-Event` must be `payment_status`."""
        if len(body) > MAX_CALLBACK_BYTES:
            raise BadCallback(f"a body of {len(body)} bytes, more than {MAX_CALLBACK_BYTES}")
        if not wire.same_signature(self._sign(body), wire.header(headers, "X-Callback-Signature")):
            raise BadCallback("the X-Callback-Signature is not the body's")
        event = wire.header(headers, "X-Callback-Event")
        if event != CALLBACK_EVENT:
            raise BadCallback(f"not a payment status (event {event[:40]!r})")
        with wire.reading("a callback", BadCallback):
            return _news(wire.callback_fields(body), amount_field="total_amount")

    def callback_answer(self, ok: bool) -> tuple[int, bytes, str]:
        """The guide's expected answer; anything else, Tripay sends the callback again (every
        2 minutes, 3 times at most)."""
        return 200, json.dumps({"success": ok}).encode(), "application/json"

    # -- the wire -----------------------------------------------------------------------------

    def _sign(self, message: bytes) -> str:
        return sign(self._private_key.get_secret_value(), message)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The `data` of an answer `{"success": true, "data": {…}}`; the guide's refusal
        `{"success": false, "message": …}` (at 200 or 4xx) is `GatewayRefused`."""
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}
        response = await wire.send(
            self._http,
            NAME,
            method,
            self.url + path,
            within=self._timeout,
            headers=headers,
            **kwargs,
        )
        payload = wire.answer_json(NAME, response)
        if isinstance(payload, dict) and payload.get("success") is True:
            if isinstance(payload.get("data"), dict):
                return dict(payload["data"])
            raise GatewayUnavailable(f"Tripay answered success without data ({path})")
        secrets = (self._api_key.get_secret_value(), self._private_key.get_secret_value())
        message = payload.get("message") if isinstance(payload, dict) else None
        said = wire.words(message, secrets)
        if said is None and response.status_code < 400:
            raise GatewayUnavailable(f"Tripay answered neither success nor a refusal ({path})")
        raise GatewayRefused(NAME, said or f"HTTP {response.status_code}")

    def _invoice(self, data: Mapping[str, Any], request: PaymentRequest) -> Invoice:
        """A created transaction; its `amount` counts the customer's fee in, taken out here."""
        fee = _customer_fee(data)
        expires_at = wire.unix_time(data, "expired_time")
        return Invoice(
            method=self.method,
            reference=wire.text(data, "reference"),
            merchant_ref=wire.text(data, "merchant_ref"),
            amount=wire.amount(data, "amount") - fee,
            currency=CURRENCY,
            qr_string=wire.optional_text(data, "qr_string"),
            pay_url=wire.link(data, "pay_url") or wire.link(data, "checkout_url"),
            expires_at=expires_at or self._clock() + request.expires_in,
            instructions=_steps(data.get("instructions")),
            qr_url=wire.link(data, "qr_url"),
            pay_code=wire.code(data, "pay_code"),
            surcharge=fee,
        )


def _news(fields: Mapping[str, Any], *, amount_field: str) -> PaymentNews:
    """What a transaction answer (`amount`) or a callback (`total_amount`) says; both count
    the customer's fee in, which is taken out so the amount is the deposit's."""
    status = wire.text(fields, "status")
    if status not in STATES:
        raise Unreadable(f"status (Tripay said {status[:20]!r})")
    fee = _customer_fee(fields)
    return PaymentNews(
        reference=wire.text(fields, "reference"),
        merchant_ref=wire.text(fields, "merchant_ref"),
        state=STATES[status],
        amount=wire.amount(fields, amount_field) - fee,
        currency=CURRENCY,
    )


def _customer_fee(fields: Mapping[str, Any]) -> Decimal:
    """`fee_customer`: the fee the customer pays on top (0 when the merchant pays it)."""
    return wire.amount(fields, "fee_customer") if "fee_customer" in fields else Decimal(0)


def _steps(instructions: Any) -> tuple[str, ...]:
    """The guide's `instructions` (titles, each with its steps) as plain lines: its HTML tags
    dropped, its entities read."""
    lines: list[str] = []
    for block in instructions if isinstance(instructions, list) else ():
        if not isinstance(block, dict):
            continue
        for line in [block.get("title"), *(block.get("steps") or [])]:
            if isinstance(line, str) and (plain := html.unescape(_TAG.sub("", line)).strip()):
                lines.append(plain[: wire.MAX_TEXT])
    return tuple(lines)
