"""Midtrans Core API: a QRIS charge, its status, its HTTP notification.

Built on Midtrans's documentation (docs.midtrans.com, as mirrored in the public repository
naelrudd/midtrans-docs-llm-agents): the QRIS charge request and its answer
(reference/qris.md, with `qr_string` as docs/gopay-qris-pos-integration shows it), the status
answers and "Transaction doesn't exist." (reference/get-transaction-status.md), the
notification bodies, their `signature_key` and the status definitions
(docs/https-notification-webhooks.md), the 4xx codes (reference/code-4xx.md).

The signature covers `order_id`, `status_code` and `gross_amount` only, not the transaction
status: so a notification says PAID only under status code 200, and is believed only once
`confirm` has read the status again from Midtrans, as its documentation asks.
"""

from __future__ import annotations

import base64
import hashlib
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from bot.adapters.payments import wire
from bot.adapters.payments.wire import Unreadable
from bot.core.payments import (
    BadCallback,
    GatewayRefused,
    GatewayUnavailable,
    Invoice,
    PaymentMethod,
    PaymentNews,
    PaymentRequest,
    PaymentState,
)

SANDBOX_URL = "https://api.sandbox.midtrans.com"
PRODUCTION_URL = "https://api.midtrans.com"
NAME = "Midtrans"
CURRENCY = "IDR"
"""Midtrans's QRIS is in rupiah only ("Currently only IDR is supported")."""
ITEM_NAME = "Wallet top-up"
JAKARTA = timezone(timedelta(hours=7))
"""The time zone of Midtrans's times ("Time Zone: GMT+7")."""
PAID_CODE = "200"
STATES = {
    "settlement": PaymentState.PAID,
    "capture": PaymentState.PAID,
    "pending": PaymentState.PENDING,
    "authorize": PaymentState.PENDING,
    "expire": PaymentState.EXPIRED,
    "cancel": PaymentState.FAILED,
    "deny": PaymentState.FAILED,
    "failure": PaymentState.FAILED,
    "refund": PaymentState.REFUNDED,
    "partial_refund": PaymentState.REFUNDED,
}
"""The documentation's transaction statuses ("Status Definition")."""


def basic_authorization(server_key: str) -> str:
    """The Basic authorization: the server key as the user name, no password (a secret as
    much as the key itself)."""
    return base64.b64encode(f"{server_key}:".encode()).decode()


def signature_key(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """SHA512(order_id + status_code + gross_amount + ServerKey) in hex."""
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()).hexdigest()


class MidtransGateway:
    """One Midtrans merchant's Core API, QRIS charges only. The `http` client is the caller's
    to close."""

    method = PaymentMethod.MIDTRANS

    def __init__(
        self,
        *,
        server_key: SecretStr | str,
        http: httpx.AsyncClient,
        url: str = SANDBOX_URL,
        acquirer: str = "gopay",
        callback_url: str | None = None,
        timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url.rstrip("/")
        self.acquirer = acquirer
        self._server_key = (
            server_key if isinstance(server_key, SecretStr) else SecretStr(server_key)
        )
        self._http = http
        self._callback_url = callback_url
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"MidtransGateway(url={self.url!r}, server_key=**********)"

    # -- calls --------------------------------------------------------------------------------

    async def create(self, request: PaymentRequest) -> Invoice:
        """`POST /v2/charge` with `payment_type: qris`, expiring with the deposit."""
        if request.currency != CURRENCY or request.amount != request.amount.to_integral_value():
            raise ValueError("Midtrans takes whole rupiah (IDR)")
        amount = int(request.amount)
        ref = request.merchant_ref
        body = {
            "payment_type": "qris",
            "transaction_details": {"order_id": ref, "gross_amount": amount},
            "item_details": [{"id": ref, "price": amount, "quantity": 1, "name": ITEM_NAME}],
            "customer_details": {"first_name": wire.customer_name(request)},
            "qris": {"acquirer": self.acquirer},
            "custom_expiry": {
                "expiry_duration": max(1, math.ceil(request.expires_in / 60)),
                "unit": "minute",
            },
        }
        headers = {"X-Override-Notification": self._callback_url} if self._callback_url else {}
        payload = await self._call("POST", "/v2/charge", json=body, headers=headers)
        status = payload.get("transaction_status")
        if isinstance(status, str) and status != "pending":  # denied at once
            raise GatewayRefused(NAME, self._words(payload) or f"the charge is {status[:20]}")
        with wire.reading("Midtrans answered a charge"):
            news = _news(payload)
            invoice = Invoice(
                method=self.method,
                reference=news.reference,
                merchant_ref=news.merchant_ref,
                amount=news.amount,
                currency=news.currency,
                qr_string=wire.optional_text(payload, "qr_string"),
                pay_url=None,
                expires_at=_expiry(payload) or self._clock() + request.expires_in,
                qr_url=_action(payload, "generate-qr-code"),
            )
        asked = (ref, request.amount, CURRENCY)
        if (invoice.merchant_ref, invoice.amount, invoice.currency) != asked:
            raise GatewayUnavailable("Midtrans answered a charge of another deposit or amount")
        return invoice

    async def status(self, reference: str) -> PaymentNews:
        """`GET /v2/{reference}/status`, by Midtrans's transaction id (or the order id)."""
        return await self._status(reference)

    async def confirm(self, news: PaymentNews) -> PaymentNews:
        """The status read again from Midtrans for a notification's order, as Midtrans asks
        before crediting: what it answers is what to believe, whatever the notification
        said. By the order id, which the signature covers (the transaction id is not)."""
        fresh = await self._status(news.merchant_ref)
        if fresh.merchant_ref != news.merchant_ref:
            raise GatewayUnavailable("Midtrans answered about another order")
        return fresh

    def read_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentNews:
        """A notification, its `signature_key` checked before anything it says is believed; PAID
        only under the status code 200 that the signature covers. `confirm` it before
        crediting."""
        fields = wire.callback_fields(body)
        with wire.reading("a notification", BadCallback):
            order_id, status_code, gross = (
                wire.text(fields, name) for name in ("order_id", "status_code", "gross_amount")
            )
            given = wire.text(fields, "signature_key")
        expected = signature_key(order_id, status_code, gross, self._server_key.get_secret_value())
        if not wire.same_signature(expected, given):
            raise BadCallback("the signature_key is not the notification's")
        with wire.reading("a notification", BadCallback):
            news = _news(fields)
        if news.state is PaymentState.PAID and status_code != PAID_CODE:
            raise BadCallback(f"a payment said settled under status code {status_code[:8]!r}")
        return news

    def callback_answer(self, ok: bool) -> tuple[int, bytes, str]:
        """HTTP 200 takes a notification; a 400 has Midtrans send it twice more."""
        return (200, b"OK", "text/plain") if ok else (400, b"refused", "text/plain")

    # -- the wire -----------------------------------------------------------------------------

    async def _status(self, order_or_transaction: str) -> PaymentNews:
        path = f"/v2/{quote(order_or_transaction, safe='')}/status"
        payload = await self._call("GET", path)
        with wire.reading("Midtrans answered a status"):
            news = _news(payload)
        if order_or_transaction not in (news.reference, news.merchant_ref):
            raise GatewayUnavailable("Midtrans answered about another transaction")
        return news

    async def _call(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The JSON object of an answer. Midtrans says no with a `status_code` of 4xx in the
        body, at HTTP 200 or 4xx: `GatewayRefused` in its `status_message`, unless the body
        is a transaction (an expired one answers 407), which the caller reads."""
        response = await wire.send(
            self._http,
            NAME,
            method,
            self.url + path,
            within=self._timeout,
            headers={
                "Accept": "application/json",
                "Authorization": f"Basic {self._basic()}",
                **(headers or {}),
            },
            **kwargs,
        )
        payload = wire.answer_json(NAME, response)
        if not isinstance(payload, dict):
            raise GatewayUnavailable(f"Midtrans answered something that is not an object ({path})")
        code = payload.get("status_code")
        if not isinstance(code, str) or not (code.isascii() and code.isdigit()):
            if response.status_code >= 400:
                raise GatewayRefused(NAME, self._words(payload) or f"HTTP {response.status_code}")
            raise GatewayUnavailable(f"Midtrans answered without a status code ({path})")
        if code.startswith("5"):
            raise GatewayUnavailable(f"Midtrans answered status {code}")
        if code.startswith("4") and "transaction_status" not in payload:
            raise GatewayRefused(NAME, self._words(payload) or f"status {code}")
        return payload

    def _basic(self) -> str:
        return basic_authorization(self._server_key.get_secret_value())

    def _words(self, payload: Mapping[str, Any]) -> str | None:
        """Midtrans's `status_message` (a text, sometimes a list) and its first
        `validation_messages`, cleaned: "One or more parameters in the payload is invalid:
        transaction_details.gross_amount is not equal to the sum of item_details"."""
        secrets = [self._server_key.get_secret_value(), self._basic()]
        message = wire.words(payload.get("status_message"), secrets)
        details = payload.get("validation_messages")
        detail = wire.words(details[0], secrets) if isinstance(details, list) and details else None
        if message and detail:
            return wire.words(f"{message.removesuffix('.')}: {detail}", secrets)
        return message or detail


def _news(fields: Mapping[str, Any]) -> PaymentNews:
    """What a transaction (a charge, a status, a notification) says. PAID needs settlement or
    capture, and a fraud status of accept when there is one; challenge stays pending."""
    status = wire.text(fields, "transaction_status")
    if status not in STATES:
        raise Unreadable(f"transaction_status (Midtrans said {status[:20]!r})")
    state = STATES[status]
    fraud = wire.optional_text(fields, "fraud_status")
    if state is PaymentState.PAID and fraud not in (None, "accept"):
        state = PaymentState.FAILED if fraud == "deny" else PaymentState.PENDING
    return PaymentNews(
        reference=wire.text(fields, "transaction_id"),
        merchant_ref=wire.text(fields, "order_id"),
        state=state,
        amount=wire.amount(fields, "gross_amount"),
        currency=wire.optional_text(fields, "currency") or CURRENCY,
    )


def _action(fields: Mapping[str, Any], name: str) -> str | None:
    """The URL of one of a charge's `actions` (`generate-qr-code`: the QR as a PNG)."""
    actions = fields.get("actions")
    for action in actions if isinstance(actions, list) else ():
        if isinstance(action, dict) and action.get("name") == name:
            return wire.link(action, "url")
    return None


def _expiry(fields: Mapping[str, Any]) -> float | None:
    """`expiry_time` ("2023-11-20 07:40:03", GMT+7) as a Unix time, when there is one."""
    value = fields.get("expiry_time")
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=JAKARTA).timestamp()
    except ValueError:
        return None
