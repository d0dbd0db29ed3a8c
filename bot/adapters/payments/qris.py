"""QRIS without a gateway: the operator's static QRIS made dynamic for one exact amount.

A QRIS is an EMVCo Merchant-Presented Mode QR payload: data objects of a two-digit tag, a
two-digit length and the value, the last one the CRC (tag 63: CRC-16/CCITT-FALSE of everything
before its value, four upper-case hex digits). Bank Indonesia's profile of it: currency 360
(rupiah), country ID, a merchant account of tags 26…51 (26 for the issuer, 51 for the national
QRIS id). A static QRIS (point of initiation 11) lets the payer type any amount; the same
payload with point of initiation 12 and the amount in tag 54 asks for exactly that amount, and
any bank or e-wallet app pays it to the same merchant account.
"""

from __future__ import annotations

import random
import re
from collections.abc import Set
from dataclasses import dataclass
from decimal import Decimal

from bot.core.payments import Invoice, PaymentMethod, PaymentRequest, unique_amount

CURRENCY = "IDR"
CURRENCY_CODE = "360"
COUNTRY = "ID"
STATIC, DYNAMIC = "11", "12"
MAX_LENGTH = 512
"""EMVCo's longest payload."""
MAX_AMOUNT_LENGTH = 13
MERCHANT_ACCOUNTS = range(26, 52)
AMOUNT_TAG, CRC_TAG, INITIATION_TAG = "54", "63", "01"
TIP_TAGS = ("55", "56", "57")
"""Tip or convenience fee asked of the payer: dropped, so the amount is exactly the asked one."""
_AMOUNT = re.compile(r"\d+(\.\d{1,2})?", re.ASCII)
REQUIRED = {"52": "the merchant category", "59": "the merchant name", "60": "the city"}


class InvalidQris(ValueError):
    """A text that is not a usable QRIS; the message says why in one sentence."""


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        crc &= 0xFFFF
    return crc


def _with_crc(content: str) -> str:
    """The payload ending with its CRC data object."""
    head = f"{content}{CRC_TAG}04"
    return f"{head}{crc16(head.encode()):04X}"


@dataclass(frozen=True)
class Qris:
    fields: tuple[tuple[str, str], ...]
    """The top-level data objects (tag, value) in their order, the CRC left out."""

    def value(self, tag: str) -> str | None:
        return next((value for key, value in self.fields if key == tag), None)

    @property
    def static(self) -> bool:
        return self.value(INITIATION_TAG) != DYNAMIC

    @property
    def merchant_name(self) -> str:
        return self.value("59") or ""

    @property
    def city(self) -> str:
        return self.value("60") or ""

    @property
    def amount(self) -> Decimal | None:
        value = self.value(AMOUNT_TAG)
        return None if value is None else Decimal(value)

    def encode(self) -> str:
        return _with_crc("".join(f"{tag}{len(value):02d}{value}" for tag, value in self.fields))

    def for_amount(self, amount: Decimal) -> str:
        """The dynamic QRIS asking for exactly `amount`: point of initiation 12, the amount in
        tag 54 among the tags in their order, any tip tag dropped, the CRC made again."""
        value = _amount_text(amount)
        fields = [(t, v) for t, v in self.fields if t != AMOUNT_TAG and t not in TIP_TAGS]
        fields = [(t, DYNAMIC if t == INITIATION_TAG else v) for t, v in fields]
        if self.value(INITIATION_TAG) is None:
            fields.insert(1, (INITIATION_TAG, DYNAMIC))
        at = next((i for i, (tag, _) in enumerate(fields) if tag > AMOUNT_TAG), len(fields))
        fields.insert(at, (AMOUNT_TAG, value))
        payload = Qris(tuple(fields)).encode()
        if len(payload) > MAX_LENGTH:
            raise ValueError(f"the QRIS with its amount has more than {MAX_LENGTH} characters")
        return payload


def parse(text: str) -> Qris:
    """A QRIS read and checked: its structure, its CRC, rupiah, Indonesia, a merchant account,
    a merchant category, name and city. Raises `InvalidQris`."""
    text = text.strip()
    if not text.startswith("000201"):
        raise InvalidQris("not a QRIS: it does not start with 000201 (payload format 01)")
    if len(text) > MAX_LENGTH:
        raise InvalidQris(f"not a QRIS: {len(text)} characters, more than {MAX_LENGTH}")
    if (bad := next((i for i, ch in enumerate(text) if not ch.isprintable()), None)) is not None:
        raise InvalidQris(f"not a QRIS: a line break or control character at position {bad}")
    fields = _data_objects(text)
    tags = [tag for tag, _ in fields]
    if fields[-1][0] != CRC_TAG or len(fields[-1][1]) != 4:
        raise InvalidQris("not a QRIS: it does not end with its checksum (tag 63)")
    written, computed = fields[-1][1].upper(), f"{crc16(text[:-4].encode()):04X}"
    if written != computed:
        raise InvalidQris(
            f"not a QRIS: its checksum is {written}, its content's is {computed} "
            "(a character was changed or lost in copying)"
        )
    if duplicate := next((tag for tag in tags if tags.count(tag) > 1), None):
        raise InvalidQris(f"not a QRIS: tag {duplicate} stands twice")
    qris = Qris(tuple(fields[:-1]))
    if qris.value(INITIATION_TAG) not in (None, STATIC, DYNAMIC):
        raise InvalidQris("not a QRIS: its point of initiation (tag 01) is neither 11 nor 12")
    if qris.value("53") != CURRENCY_CODE:
        raise InvalidQris(
            f"not a rupiah QRIS: its currency (tag 53) is {qris.value('53')}, not 360"
        )
    if qris.value("58") != COUNTRY:
        raise InvalidQris(f"not an Indonesian QRIS: its country (tag 58) is {qris.value('58')}")
    for tag, what in REQUIRED.items():
        if not qris.value(tag):
            raise InvalidQris(f"not a QRIS: {what} (tag {tag}) is missing")
    if not any(tag.isdigit() and int(tag) in MERCHANT_ACCOUNTS for tag in tags):
        raise InvalidQris("not a QRIS: no merchant account (tags 26 to 51)")
    if (amount := qris.value(AMOUNT_TAG)) is not None and not _is_amount(amount):
        raise InvalidQris(f"not a QRIS: its amount (tag 54) {amount!r} is not a number")
    return qris


def parse_static(text: str) -> Qris:
    """The operator's static QRIS (as their bank gave it); a dynamic one, made for a single
    payment, is refused."""
    qris = parse(text)
    if not qris.static:
        raise InvalidQris(
            "a dynamic QRIS (made for one payment, point of initiation 12): give the static "
            "QRIS your bank or e-wallet gave you"
        )
    return qris


def qris_invoice(
    qris: Qris, request: PaymentRequest, *, taken: Set[Decimal], rng: random.Random, now: float
) -> Invoice:
    """A gateway-free payment: the deposit's amount plus a suffix of 1…999 that no open top-up
    has (`taken`: their amounts to pay), in a dynamic QRIS. No gateway tells the outcome: an
    admin approves the exact amount that their bank app shows (`Invoice.to_pay`)."""
    if request.currency != CURRENCY:
        raise ValueError("a QRIS is in rupiah (IDR)")
    to_pay = unique_amount(request.amount, taken, rng)
    return Invoice(
        method=PaymentMethod.QRIS,
        reference=request.merchant_ref,
        merchant_ref=request.merchant_ref,
        amount=request.amount,
        currency=CURRENCY,
        qr_string=qris.for_amount(to_pay),
        pay_url=None,
        expires_at=now + request.expires_in,
        surcharge=to_pay - request.amount,
    )


def _data_objects(text: str) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    at = 0
    while at < len(text):
        tag, length = text[at : at + 2], text[at + 2 : at + 4]
        if not (tag + length).isascii() or not (tag + length).isdigit() or len(length) < 2:
            raise InvalidQris(f"not a QRIS: no tag and length at position {at}")
        value = text[at + 4 : at + 4 + int(length)]
        if len(value) < int(length):
            raise InvalidQris(f"not a QRIS: tag {tag} is cut short (position {at})")
        fields.append((tag, value))
        at += 4 + len(value)
    return fields


def _is_amount(text: str) -> bool:
    return len(text) <= MAX_AMOUNT_LENGTH and _AMOUNT.fullmatch(text) is not None


def _amount_text(amount: Decimal) -> str:
    """An amount as tag 54 writes it: whole rupiah as digits, else with two decimals."""
    if not amount.is_finite() or amount <= 0 or amount != round(amount, 2):
        raise ValueError(f"a QRIS amount is more than zero with at most two decimals: {amount}")
    text = str(int(amount)) if amount == amount.to_integral_value() else f"{amount:.2f}"
    if len(text) > MAX_AMOUNT_LENGTH:
        raise ValueError(f"a QRIS amount has at most {MAX_AMOUNT_LENGTH} characters: {text}")
    return text
