"""The fake gateways the payment screens' tests share: one server per module, its state
cleared for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adapters.payments.fake_midtrans import FakeMidtrans
from tests.adapters.payments.fake_tripay import FakeTripay


@pytest.fixture(scope="module")
def tripay_server() -> Iterator[FakeTripay]:
    fake = FakeTripay().start()
    yield fake
    fake.stop()


@pytest.fixture
def tripay(tripay_server: FakeTripay) -> FakeTripay:
    tripay_server.reset()
    return tripay_server


@pytest.fixture(scope="module")
def midtrans_server() -> Iterator[FakeMidtrans]:
    fake = FakeMidtrans().start()
    yield fake
    fake.stop()


@pytest.fixture
def midtrans(midtrans_server: FakeMidtrans) -> FakeMidtrans:
    midtrans_server.reset()
    return midtrans_server
