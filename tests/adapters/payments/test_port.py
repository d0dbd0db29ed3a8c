"""The payments port of the core: its rules, and that it stays free of the outside world."""

from __future__ import annotations

import ast
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import payments
from bot.core.payments import (
    Invoice,
    NoUniqueAmount,
    PaymentMethod,
    PaymentNews,
    PaymentRequest,
    PaymentState,
    amount_for,
    deposit_of,
    matches,
    merchant_ref,
    stars_for,
    unique_amount,
)

amounts = st.decimals(min_value=1, max_value=10**9, places=2)
rates = st.decimals(min_value=Decimal("0.01"), max_value=10**6, places=2)


def news(amount: str, currency: str = "IDR") -> PaymentNews:
    return PaymentNews("T1", "DEP-1", PaymentState.PAID, Decimal(amount), currency)


def test_the_core_knows_no_http_telegram_or_database() -> None:
    tree = ast.parse(Path(payments.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in imported}
    assert roots <= {
        "__future__",
        "random",
        "collections",
        "dataclasses",
        "decimal",
        "enum",
        "typing",
    }


def test_one_deposit_is_one_merchant_reference() -> None:
    assert (
        merchant_ref(42)
        == "DEP-42"
        == PaymentRequest(42, 1, Decimal(1), "IDR", "", 60).merchant_ref
    )
    assert deposit_of("DEP-42") == 42
    for other in [
        "DEP-",
        "DEP-042",
        "DEP-4 2",
        "DEP-٤٢",
        "INV-42",
        "42",
        "dep-42",
        "DEP-" + "9" * 5000,
    ]:
        assert deposit_of(other) is None


def test_only_the_deposits_exact_amount_and_currency_match() -> None:
    assert matches(news("10000.00"), Decimal(10000), "IDR")  # Midtrans's "10000.00"
    assert matches(news("10000"), Decimal("10000.00"), "idr")  # Tripay's integer
    assert not matches(news("10000.01"), Decimal(10000), "IDR")
    assert not matches(news("9999"), Decimal(10000), "IDR")
    assert not matches(news("10000", "USD"), Decimal(10000), "IDR")
    assert not matches(news("NaN"), Decimal(10000), "IDR")


def test_an_invoice_tells_what_to_pay() -> None:
    invoice = Invoice(
        method=PaymentMethod.TRIPAY,
        reference="T1",
        merchant_ref="DEP-1",
        amount=Decimal(100000),
        currency="IDR",
        qr_string=None,
        pay_url=None,
        expires_at=0.0,
        surcharge=Decimal(1450),
    )
    assert invoice.to_pay == Decimal(101450)


@given(amounts, st.sets(st.integers(1, 999), max_size=998), st.randoms(use_true_random=False))
def test_a_unique_amount_is_free_and_within_999(
    amount: Decimal, taken_suffixes: set[int], rng: random.Random
) -> None:
    taken = {amount + suffix for suffix in taken_suffixes}
    chosen = unique_amount(amount, taken, rng)
    assert chosen not in taken
    assert 1 <= chosen - amount <= 999 and chosen - amount == int(chosen - amount)


def test_a_unique_amount_is_refused_when_all_999_are_taken() -> None:
    taken = {Decimal(10000 + suffix) for suffix in range(1, 1000)}
    with pytest.raises(NoUniqueAmount, match="999"):
        unique_amount(Decimal(10000), taken, random.Random(1))
    assert unique_amount(Decimal(10000), taken - {Decimal("10500.00")}, random.Random(1)) == 10500


@given(amounts, rates)
def test_stars_pay_at_least_the_amount(amount: Decimal, rate: Decimal) -> None:
    stars = stars_for(amount, rate)
    assert stars >= 1
    assert amount_for(stars, rate) >= amount
    assert stars == 1 or amount_for(stars - 1, rate) < amount


def test_stars_round_up() -> None:
    assert stars_for(Decimal(1000), Decimal(250)) == 4
    assert stars_for(Decimal(1001), Decimal(250)) == 5
    assert stars_for(Decimal(1), Decimal(250)) == 1
    assert amount_for(5, Decimal("250.5")) == Decimal("1252.5")
    with pytest.raises(ValueError, match="more than zero"):
        stars_for(Decimal(10), Decimal(0))
