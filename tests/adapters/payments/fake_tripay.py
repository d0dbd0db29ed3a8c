"""A fake Tripay (closed payments) on 127.0.0.1, answering as Tripay's developer guide shows.

The bodies are the guide's literal examples (https://tripay.co.id/developer, as copied in the
public repository Alucard0x1/Tripay-API-Docs: "Request Transaksi", "Detail Transaksi",
"Callback") with this fake's references, amounts and statuses put in. A QRIS transaction
answers as Tripay's sandbox answered a public client for a QRISC transaction (`"qr_string":
"SANDBOX MODE"`, `qr_url`, an `amount` that includes `fee_customer`). Signatures are real,
computed with the test keys below.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from tests.adapters.payments.fake_http import FakeGateway, Reply, Request

API_KEY = "DEV-tRiPaYtEsTaPiKeY0123456789abcdefXYZ"
PRIVATE_KEY = "tEsT1-pRiVa-TeKeY-0123-45678"
MERCHANT_CODE = "T0001"
SANDBOX_QR = "SANDBOX MODE"
CHANNEL_NAMES = {
    "QRIS": "QRIS by ShopeePay",
    "QRISC": "QRIS (Customizable)",
    "BRIVA": "BRI Virtual Account",
}
"""From the guide's channel list."""
QRIS_STEPS = [
    {
        "title": "Pembayaran via QRIS",
        "steps": [
            "Masuk ke aplikasi dompet digital Anda yang telah mendukung QRIS",
            "Pindai/Scan QR Code yang tersedia",
            "Akan muncul detail transaksi. Pastikan data transaksi sudah sesuai",
            "Selesaikan proses pembayaran Anda",
            "Transaksi selesai. Simpan bukti pembayaran Anda",
        ],
    }
]
BRIVA_PAY_CODE = "57585748548596587"
BRIVA_STEPS = [
    {
        "title": "Internet Banking",
        "steps": [
            "Login ke internet banking Bank BRI Anda",
            "Pilih menu <b>Pembayaran</b> lalu klik menu <b>BRIVA</b>",
            "Pilih rekening sumber dan masukkan Kode Bayar (<b>{pay_code}</b>) lalu klik "
            "<b>Kirim</b>",
            "Detail transaksi akan ditampilkan, pastikan data sudah sesuai",
            "Transaksi sukses, simpan bukti transaksi Anda",
        ],
    }
]


def sign(message: bytes, key: str = PRIVATE_KEY) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class Transaction:
    reference: str
    merchant_ref: str
    method: str
    amount: int
    """What the customer pays: the merchant's amount and `fee_customer`."""
    fee_merchant: int
    fee_customer: int
    customer_name: str
    customer_email: str
    order_items: list[dict[str, Any]]
    expired_time: int
    status: str = "UNPAID"
    paid_at: int | None = None


class FakeTripay(FakeGateway):
    def __init__(self, *, fee: int = 1450, customer_pays_fee: bool = False) -> None:
        super().__init__()
        self.fee = fee
        self.customer_pays_fee = customer_pays_fee
        self.transactions: dict[str, Transaction] = {}

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.transactions.clear()

    # -- what happens at Tripay ---------------------------------------------------------------

    def pay(self, reference: str, at: int = 1_700_000_000) -> None:
        with self._lock:
            self.transactions[reference].status = "PAID"
            self.transactions[reference].paid_at = at

    def set_status(self, reference: str, status: str) -> None:
        with self._lock:
            self.transactions[reference].status = status

    def callback(
        self, reference: str, *, total_amount: int | None = None, status: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The guide's callback for a transaction (compact JSON, as PHP's json_encode writes
        it), signed with the private key: the body and the headers."""
        with self._lock:
            txn = self.transactions[reference]
            fields = {
                "reference": txn.reference,
                "merchant_ref": txn.merchant_ref,
                "payment_method": CHANNEL_NAMES[txn.method],
                "payment_method_code": txn.method,
                "total_amount": txn.amount if total_amount is None else total_amount,
                "fee_merchant": txn.fee_merchant,
                "fee_customer": txn.fee_customer,
                "total_fee": txn.fee_merchant + txn.fee_customer,
                "amount_received": txn.amount - txn.fee_merchant - txn.fee_customer,
                "is_closed_payment": 1,
                "status": status or txn.status,
                "paid_at": txn.paid_at,
                "note": None,
            }
        body = json.dumps(fields, separators=(",", ":")).encode()
        return body, {"X-Callback-Signature": sign(body), "X-Callback-Event": "payment_status"}

    # -- the API ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return refusal("Invalid API Key", 401)
        if request.method == "POST" and request.path == "/transaction/create":
            return self._create(request.json())
        if request.method == "GET" and request.path == "/transaction/detail":
            txn = self.transactions.get(request.query.get("reference", ""))
            if txn is None:
                return refusal("Transaction not found", 404)
            return Reply.of({"success": True, "message": "", "data": self.data_of(txn)})
        return refusal("Not found", 404)

    def _create(self, body: dict[str, Any]) -> Reply:
        for name in ("method", "merchant_ref", "amount", "customer_name", "customer_email"):
            if not body.get(name):
                return refusal(f"The {name} field is required.", 422)
        if body["method"] not in CHANNEL_NAMES:
            return refusal("Payment channel is not enabled", 400)
        signed = f"{MERCHANT_CODE}{body['merchant_ref']}{body['amount']}".encode()
        if not hmac.compare_digest(sign(signed), str(body.get("signature"))):
            return refusal("Invalid signature", 400)
        items = body.get("order_items") or []
        if sum(item["price"] * item["quantity"] for item in items) != body["amount"]:
            return refusal("Total price of order items does not match the amount", 400)
        fee_customer = self.fee if self.customer_pays_fee else 0
        txn = Transaction(
            reference=f"DEV-T{MERCHANT_CODE[1:]}{len(self.transactions) + 1:011d}",
            merchant_ref=body["merchant_ref"],
            method=body["method"],
            amount=body["amount"] + fee_customer,
            fee_merchant=0 if self.customer_pays_fee else self.fee,
            fee_customer=fee_customer,
            customer_name=body["customer_name"],
            customer_email=body["customer_email"],
            order_items=[{**item, "subtotal": item["price"] * item["quantity"]} for item in items],
            expired_time=int(body.get("expired_time") or 1_700_086_400),
        )
        self.transactions[txn.reference] = txn
        return Reply.of({"success": True, "message": "", "data": self.data_of(txn)})

    def data_of(self, txn: Transaction) -> dict[str, Any]:
        """The guide's transaction (create and detail answer alike, `paid_at` once paid)."""
        va = txn.method.endswith("VA")
        steps = BRIVA_STEPS if va else QRIS_STEPS
        data: dict[str, Any] = {
            "reference": txn.reference,
            "merchant_ref": txn.merchant_ref,
            "payment_selection_type": "static",
            "payment_method": txn.method,
            "payment_name": CHANNEL_NAMES[txn.method],
            "customer_name": txn.customer_name,
            "customer_email": txn.customer_email,
            "customer_phone": None,
            "callback_url": None,
            "return_url": None,
            "amount": txn.amount,
            "fee_merchant": txn.fee_merchant,
            "fee_customer": txn.fee_customer,
            "total_fee": txn.fee_merchant + txn.fee_customer,
            "amount_received": txn.amount - txn.fee_merchant - txn.fee_customer,
            "pay_code": BRIVA_PAY_CODE if va else None,
            "pay_url": None,
            "checkout_url": f"https://tripay.co.id/checkout/{txn.reference}",
            "status": txn.status,
            "expired_time": txn.expired_time,
            "order_items": txn.order_items,
            "instructions": [
                {
                    "title": block["title"],
                    "steps": [step.format(pay_code=BRIVA_PAY_CODE) for step in block["steps"]],
                }
                for block in steps
            ],
            "qr_string": None if va else SANDBOX_QR,
            "qr_url": None if va else f"https://tripay.co.id/qr/{txn.reference}",
        }
        if txn.paid_at is not None:
            data["paid_at"] = str(txn.paid_at)
        return data


def refusal(message: str, status: int = 200) -> Reply:
    """The guide's failed answer."""
    return Reply.of({"success": False, "message": message}, status)
