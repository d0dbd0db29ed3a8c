"""QRIS without a gateway: a static QRIS read and checked, made dynamic for an exact amount."""

from __future__ import annotations

import random
import re
import string
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.payments.qris import (
    InvalidQris,
    Qris,
    crc16,
    parse,
    parse_static,
    qris_invoice,
)
from bot.core.payments import NoUniqueAmount, PaymentMethod, PaymentRequest
from tests.adapters.payments.fake_midtrans import QR_STRING as MIDTRANS_DOCS

STATIC = (
    "00020101021126630016ID.CO.CONTOH.WWW0118936000000000012345021000000123450303UMI51440014"
    "ID.CO.QRIS.WWW0215ID10200000000010303UMI5204549953033605802ID5915TOKO CONTOH SMM6007"
    "JAKARTA61051011062070703A016304D975"
)
"""A static QRIS laid out as Bank Indonesia's are (issuer account in 26, national id in 51,
merchant criteria UMI, terminal label in 62), for a merchant that does not exist."""
DOLLARS = Qris(tuple((t, "840" if t == "53" else v) for t, v in parse(STATIC).fields)).encode()


def test_the_crc_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1  # the check value of CRC-16/CCITT-FALSE


def test_a_static_qris_is_read() -> None:
    qris = parse_static(STATIC)
    assert qris.static and qris.amount is None
    assert (qris.merchant_name, qris.city) == ("TOKO CONTOH SMM", "JAKARTA")
    assert qris.encode() == STATIC
    assert parse_static(f"  {STATIC}\n") == qris  # as pasted into a settings file


def test_a_real_dynamic_qris_is_read_and_refused_as_the_operators_static_one() -> None:
    """The QR string of Midtrans's documented QRIS charge (GoPay QRIS POS)."""
    qris = parse(MIDTRANS_DOCS)
    assert not qris.static and qris.amount == Decimal("789000.00")
    assert (qris.merchant_name, qris.city) == ("Test", "BANDUNG")
    assert qris.encode() == MIDTRANS_DOCS
    with pytest.raises(InvalidQris, match="a dynamic QRIS"):
        parse_static(MIDTRANS_DOCS)


def test_the_dynamic_qris_asks_for_the_exact_amount() -> None:
    dynamic = parse_static(STATIC).for_amount(Decimal(50123))
    assert dynamic == (
        "00020101021226630016ID.CO.CONTOH.WWW0118936000000000012345021000000123450303UMI51440014"
        "ID.CO.QRIS.WWW0215ID10200000000010303UMI52045499530336054055012358"
        "02ID5915TOKO CONTOH SMM6007JAKARTA61051011062070703A0163042494"
    )
    qris = parse(dynamic)
    assert not qris.static and qris.amount == Decimal(50123)
    assert parse(parse_static(STATIC).for_amount(Decimal("50123.5"))).value("54") == "50123.50"


def test_a_tip_prompt_is_dropped_so_the_amount_is_exact() -> None:
    fields = parse(STATIC).fields
    with_tip = Qris((*fields[:6], ("55", "01"), *fields[6:])).encode()
    assert parse(with_tip).value("55") == "01"
    assert parse(parse(with_tip).for_amount(Decimal(10000))).value("55") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "does not start with 000201"),
        ("https://example.com/pay", "does not start with 000201"),
        (STATIC[:-1] + "0", "checksum is D970, its content's is D975"),
        (STATIC.replace("TOKO CONTOH", "TOKO CONTOX"), "checksum"),
        (STATIC[:-9], "cut short"),
        (STATIC[:40] + "\n" + STATIC[40:], "control character at position 40"),
        (STATIC[:-8], "does not end with its checksum"),
        (DOLLARS, "not a rupiah QRIS: its currency (tag 53) is 840"),
        ("0002010102115802ID6304" + "0000", "checksum"),
    ],
)
def test_what_is_not_a_usable_qris_is_refused_in_one_sentence(text: str, says: str) -> None:
    with pytest.raises(InvalidQris, match=re.escape(says)) as refused:
        parse(text)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("drop", "says"),
    [
        (("59",), r"the merchant name \(tag 59\) is missing"),
        (("60",), r"the city \(tag 60\) is missing"),
        (("52",), r"the merchant category \(tag 52\) is missing"),
        (("58",), r"not an Indonesian QRIS: its country \(tag 58\) is None"),
        (("26", "51"), r"no merchant account \(tags 26 to 51\)"),
    ],
)
def test_a_qris_without_a_required_tag_is_refused(drop: tuple[str, ...], says: str) -> None:
    fields = tuple((tag, value) for tag, value in parse(STATIC).fields if tag not in drop)
    with pytest.raises(InvalidQris, match=says):
        parse(Qris(fields).encode())


def test_a_tag_twice_is_refused() -> None:
    fields = parse(STATIC).fields
    with pytest.raises(InvalidQris, match="tag 59 stands twice"):
        parse(Qris((*fields, ("59", "OTHER"))).encode())


names = st.text(string.ascii_uppercase + string.digits + " .-&'", min_size=1, max_size=25)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999"), places=2)


@st.composite
def static_qris(draw: st.DrawFn) -> Qris:
    """Static QRIS of any merchant: an issuer account, the national id, the usual tags."""
    pan = "9360" + draw(st.text(string.digits, min_size=14, max_size=14))
    issuer = draw(st.sampled_from(["ID.CO.BANKCONTOH.WWW", "COM.EXAMPLE.WWW", "ID.DANA.WWW"]))
    account = f"00{len(issuer):02d}{issuer}0118{pan}0303UMI"
    national = "0014ID.CO.QRIS.WWW0215ID" + draw(st.text(string.digits, min_size=13, max_size=13))
    fields = [
        ("00", "01"),
        ("01", "11"),
        ("26", account),
        ("51", national + "0303UMI"),
        ("52", draw(st.text(string.digits, min_size=4, max_size=4))),
        ("53", "360"),
        ("58", "ID"),
        ("59", draw(names)),
        ("60", draw(names.filter(lambda city: len(city) <= 15))),
    ]
    if draw(st.booleans()):
        fields.append(("61", draw(st.text(string.digits, min_size=5, max_size=5))))
    if draw(st.booleans()):
        fields.append(("62", "0703A01"))
    return Qris(tuple(fields))


@given(static_qris(), amounts)
def test_a_static_qris_made_dynamic_reads_back_with_its_amount(qris: Qris, amount: Decimal) -> None:
    assert parse_static(qris.encode()) == qris
    dynamic = parse(qris.for_amount(amount))  # parse checks the CRC
    assert dynamic.amount == amount and not dynamic.static
    assert [f for f in dynamic.fields if f[0] not in ("01", "54")] == [
        f for f in qris.fields if f[0] != "01"
    ]
    tags = [tag for tag, _ in dynamic.fields]
    assert tags.index("54") == tags.index("53") + 1


@given(st.sampled_from([STATIC, MIDTRANS_DOCS]), st.data())
def test_any_character_changed_is_refused(text: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(text) - 1))
    other = data.draw(
        st.sampled_from(string.printable.strip()).filter(lambda c: c.upper() != text[at].upper())
    )
    with pytest.raises(InvalidQris):
        parse(text[:at] + other + text[at + 1 :])


REQUEST = PaymentRequest(5, 1001, Decimal(25000), "IDR", "Budi", 1800)


def test_a_gateway_free_invoice_asks_for_a_unique_amount() -> None:
    taken = {Decimal(25000 + suffix) for suffix in range(1, 999)}  # all but 25999
    invoice = qris_invoice(
        parse_static(STATIC), REQUEST, taken=taken, rng=random.Random(3), now=1000.0
    )
    assert invoice.method is PaymentMethod.QRIS
    assert invoice.reference == invoice.merchant_ref == "DEP-5"
    assert (invoice.amount, invoice.surcharge, invoice.to_pay) == (25000, 999, 25999)
    assert invoice.expires_at == 2800.0
    assert invoice.qr_string is not None and parse(invoice.qr_string).amount == 25999

    with pytest.raises(NoUniqueAmount):
        qris_invoice(
            parse_static(STATIC),
            REQUEST,
            taken=taken | {Decimal(25999)},
            rng=random.Random(3),
            now=1000.0,
        )
    dollars = PaymentRequest(5, 1001, Decimal(25), "USD", "Budi", 1800)
    with pytest.raises(ValueError, match="rupiah"):
        qris_invoice(parse_static(STATIC), dollars, taken=set(), rng=random.Random(), now=0.0)


def test_an_amount_a_qris_cannot_carry_is_refused() -> None:
    qris = parse_static(STATIC)
    for amount in [Decimal(0), Decimal(-5), Decimal("10.001"), Decimal("1e13"), Decimal("NaN")]:
        with pytest.raises(ValueError):
            qris.for_amount(amount)
