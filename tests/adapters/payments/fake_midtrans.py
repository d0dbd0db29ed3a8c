"""A fake Midtrans Core API (QRIS charges) on 127.0.0.1, answering as its documentation shows.

The bodies are the documentation's literal examples (docs.midtrans.com, as mirrored in the
public repository naelrudd/midtrans-docs-llm-agents) with this fake's ids, amounts and statuses
put in: the QRIS charge answer (reference/qris.md) with the `qr_string` of the GoPay QRIS POS
page, the status answers and "Transaction doesn't exist." (reference/get-transaction-status.md),
the QRIS notifications (reference/qris.md, docs/https-notification-webhooks.md), the 401 of the
status page, the 4xx and 5xx samples of the GoPay page; the duplicate order's 406 as a public
client's test has it. Signatures are real,
SHA512(order_id + status_code + gross_amount + server key) with the test key below.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from tests.adapters.payments.fake_http import FakeGateway, Reply, Request

SERVER_KEY = "SB-Mid-server-tEsTkEy0123456789AbCd"
MERCHANT_ID = "M099098"
QR_STRING = (
    "00020101021226620014COM.GO-JEK.WWW011993600914349052630340210G4905263030303UKE51440014"
    "ID.CO.QRIS.WWW0215AID0607336128660303UKE5204341453033605802ID5904Test6007BANDUNG61054028"
    "45409789000.0062475036c032f87c-f773-4619-aefa-675e1f06f9210703A016304A623"
)
"""The QR string of the documentation's QRIS charge answer (a dynamic QRIS of 789000.00)."""
NOTIFIED_CODES = {"pending": "201", "settlement": "200", "expire": "202", "deny": "202"}
"""The status codes of the documentation's QRIS notifications."""
STATUS_CODES = {"pending": "201", "settlement": "200", "expire": "407", "deny": "202"}
"""The status codes of the status answers (an expired transaction answers 407)."""
UNAUTHORIZED = {
    "status_code": "401",
    "status_message": "Transaction cannot be authorized with the current client/server key.",
}
INVALID = {
    "status_code": "400",
    "status_message": "One or more parameters in the payload is invalid.",
    "validation_messages": [
        "transaction_details.gross_amount is not equal to the sum of item_details"
    ],
}
RECOVERING = {
    "status_code": "500",
    "status_message": "Sorry. Our system is recovering from unexpected issues. Please retry.",
}
DUPLICATE = {
    "status_code": "406",
    "status_message": "The request could not be completed due to a conflict with the current "
    "state of the target resource, please try again",
}


def signature_key(order_id: str, status_code: str, gross_amount: str) -> str:
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{SERVER_KEY}".encode()).hexdigest()


@dataclass
class Charge:
    order_id: str
    transaction_id: str
    gross_amount: str
    """As Midtrans writes it: "50000.00"."""
    transaction_status: str = "pending"
    fraud_status: str = "accept"


class FakeMidtrans(FakeGateway):
    def __init__(self) -> None:
        super().__init__()
        self.charges: dict[str, Charge] = {}

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.charges.clear()

    # -- what happens at Midtrans -------------------------------------------------------------

    def set_status(self, order_id: str, status: str, fraud_status: str = "accept") -> None:
        with self._lock:
            self.charges[order_id].transaction_status = status
            self.charges[order_id].fraud_status = fraud_status

    def notification(self, order_id: str, **changes: str) -> bytes:
        """The documentation's QRIS notification of a charge as it stands, with `changes`
        made to its fields before it is signed (a status Midtrans never reached, say)."""
        with self._lock:
            charge = self.charges[order_id]
        fields = {
            "transaction_type": "on-us",
            "transaction_time": "2020-09-29 11:27:33",
            "transaction_status": charge.transaction_status,
            "transaction_id": charge.transaction_id,
            "status_message": "midtrans payment notification",
            "status_code": NOTIFIED_CODES[charge.transaction_status],
            "settlement_time": "2020-09-29 11:30:44",
            "payment_type": "qris",
            "order_id": charge.order_id,
            "merchant_id": MERCHANT_ID,
            "issuer": "gopay",
            "gross_amount": charge.gross_amount,
            "fraud_status": charge.fraud_status,
            "currency": "IDR",
            "acquirer": "gopay",
            **changes,
        }
        fields["signature_key"] = signature_key(
            fields["order_id"], fields["status_code"], fields["gross_amount"]
        )
        return json.dumps(fields).encode()

    # -- the API ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        basic = base64.b64encode(f"{SERVER_KEY}:".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return Reply.of(UNAUTHORIZED, 401)
        if request.method == "POST" and request.path == "/v2/charge":
            return self._charge(request.json())
        parts = request.path.split("/")
        if request.method == "GET" and len(parts) == 4 and parts[1:4:2] == ["v2", "status"]:
            charge = self._find(parts[2])
            if charge is None:
                return Reply.of(
                    {
                        "status_code": "404",
                        "status_message": "Transaction doesn't exist.",
                        "id": str(uuid.uuid4()),
                    }
                )
            return Reply.of(self.status_answer(charge))
        return Reply.of({"status_code": "404", "status_message": "Not found"}, 404)

    def _charge(self, body: dict[str, Any]) -> Reply:
        details = body.get("transaction_details") or {}
        order_id, gross = details.get("order_id"), details.get("gross_amount")
        items = sum(item["price"] * item["quantity"] for item in body.get("item_details") or [])
        if body.get("payment_type") != "qris" or not order_id or gross != items:
            return Reply.of({**INVALID, "id": str(uuid.uuid4())}, 400)
        if order_id in self.charges:
            return Reply.of({**DUPLICATE, "id": str(uuid.uuid4())}, 406)
        charge = Charge(
            order_id=order_id,
            transaction_id=str(uuid.uuid4()),
            gross_amount=f"{gross}.00",
        )
        self.charges[order_id] = charge
        return Reply.of(self.charge_answer(charge))

    def charge_answer(self, charge: Charge) -> dict[str, Any]:
        """The documentation's answer to a QRIS charge."""
        return {
            "status_code": "201",
            "status_message": "QRIS transaction is created",
            "transaction_id": charge.transaction_id,
            "order_id": charge.order_id,
            "merchant_id": MERCHANT_ID,
            "gross_amount": charge.gross_amount,
            "currency": "IDR",
            "payment_type": "qris",
            "transaction_time": "2020-09-29 11:46:13",
            "transaction_status": "pending",
            "fraud_status": "accept",
            "acquirer": "gopay",
            "actions": [
                {
                    "name": "generate-qr-code",
                    "method": "GET",
                    "url": f"https://api.midtrans.com/v2/qris/{charge.transaction_id}/qr-code",
                }
            ],
            "qr_string": QR_STRING,
        }

    def _find(self, order_or_transaction: str) -> Charge | None:
        return self.charges.get(order_or_transaction) or next(
            (c for c in self.charges.values() if c.transaction_id == order_or_transaction), None
        )

    def status_answer(self, charge: Charge) -> dict[str, Any]:
        """The documentation's status answer for a charge as it stands."""
        code = STATUS_CODES[charge.transaction_status]
        return {
            "status_code": code,
            "status_message": "Success, transaction is found",
            "transaction_id": charge.transaction_id,
            "gross_amount": charge.gross_amount,
            "currency": "IDR",
            "order_id": charge.order_id,
            "payment_type": "qris",
            "signature_key": signature_key(charge.order_id, code, charge.gross_amount),
            "transaction_status": charge.transaction_status,
            "fraud_status": charge.fraud_status,
            "merchant_id": MERCHANT_ID,
            "transaction_time": "2025-11-03 12:45:47",
            "expiry_time": "2025-11-03 13:00:47",
        }
