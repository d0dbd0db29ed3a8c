"""The API v2 client against the reference's documented answers, quirks and faults."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.adapters.panel_http.client import PanelClient
from bot.app import panel_client
from bot.core.api import OrderState, RefillState, ServiceType, parse_services
from bot.core.order_types import order_type_of
from bot.core.panel import (
    BadKey,
    BadLink,
    BadQuantity,
    DuplicateActiveOrder,
    InsufficientFunds,
    NotFound,
    OrderOutcomeUnknown,
    OrderRequest,
    OutcomeUnknown,
    PanelBusy,
    PanelError,
    PanelUnavailable,
    UnknownService,
)
from tests.conftest import load_catalog
from tests.harness import make_settings

KEY = "secret-panel-key-0123456789"


class FakePanel:
    """Answers each request with the next canned answer; records the forms."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        from urllib.parse import parse_qsl

        self.forms.append(dict(parse_qsl(request.content.decode())))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            answer = answer(self.forms[-1])
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


def client(fake: FakePanel, **kwargs: Any) -> PanelClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    return PanelClient("https://panel.test/api/v2", KEY, http=http, backoff=0, **kwargs)


# -- documented answers, as written in panel-api.md --------------------------------------------

DOC_SERVICES = json.loads("""
[{"service": 1, "name": "Followers", "type": "Default", "category": "First Category",
  "rate": "0.90", "min": "50", "max": "10000", "refill": true, "cancel": true},
 {"service": 2, "name": "Comments", "type": "Custom Comments", "category": "Second Category",
  "rate": "8", "min": "10", "max": "1500", "refill": false, "cancel": true}]
""")


async def test_services_as_documented() -> None:
    fake = FakePanel(DOC_SERVICES)
    services = await client(fake).services()
    assert [s.id for s in services] == [1, 2]
    assert services[0].rate == Decimal("0.90")
    assert services[0].min == 50 and services[0].max == 10000
    assert services[0].refill is True and services[1].refill is False
    assert services[1].type is ServiceType.CUSTOM_COMMENTS
    assert fake.forms[0] == {"key": KEY, "action": "services"}


async def test_add_as_documented() -> None:
    fake = FakePanel({"order": 23501})
    order_id = await client(fake).add(
        OrderRequest(1, {"link": "https://x.test/p", "quantity": "100"})
    )
    assert order_id == 23501
    assert fake.forms[0] == {
        "key": KEY,
        "action": "add",
        "service": "1",
        "link": "https://x.test/p",
        "quantity": "100",
    }


async def test_status_single_and_bulk_as_documented() -> None:
    single = {
        "charge": "0.27819",
        "start_count": "3572",
        "status": "Partial",
        "remains": "157",
        "currency": "USD",
    }
    bulk = {
        "1": single,
        "10": {"error": "Incorrect order ID"},
        "100": {
            "charge": "1.44219",
            "start_count": "234",
            "status": "In progress",
            "remains": "10",
            "currency": "USD",
        },
    }
    fake = FakePanel(single, bulk)
    panel = client(fake)
    status = await panel.status(1)
    assert status.charge == Decimal("0.27819") and status.start_count == 3572
    assert status.state is OrderState.PARTIAL and status.remains == 157
    result = await panel.statuses([1, 10, 100])
    assert isinstance(result[10], NotFound)
    assert result[100].state is OrderState.IN_PROGRESS  # type: ignore[union-attr]
    assert fake.forms[1]["orders"] == "1,10,100"


async def test_refills_as_documented() -> None:
    fake = FakePanel(
        {"refill": "1"},
        [
            {"order": 1, "refill": 1},
            {"order": 2, "refill": 2},
            {"order": 3, "refill": {"error": "Incorrect order ID"}},
        ],
        {"status": "Completed"},
        [
            {"refill": 1, "status": "Completed"},
            {"refill": 2, "status": "Rejected"},
            {"refill": 3, "status": {"error": "Refill not found"}},
        ],
    )
    panel = client(fake)
    assert await panel.refill(1) == 1
    refills = await panel.refills([1, 2, 3])
    assert refills[1] == 1 and refills[2] == 2 and isinstance(refills[3], NotFound)
    assert (await panel.refill_status(1)).state is RefillState.COMPLETED
    states = await panel.refill_statuses([1, 2, 3])
    assert states[2].state is RefillState.REJECTED  # type: ignore[union-attr]
    assert isinstance(states[3], NotFound)


async def test_cancel_and_balance_as_documented() -> None:
    fake = FakePanel(
        [{"order": 9, "cancel": {"error": "Incorrect order ID"}}, {"order": 2, "cancel": 1}],
        {"balance": "100842.92", "currency": "IDR"},
    )
    panel = client(fake)
    result = await panel.cancel([9, 2])
    assert isinstance(result[9], NotFound) and result[2] is None
    balance = await panel.balance()
    assert balance.amount == Decimal("100842.92") and balance.currency == "IDR"


# -- quirks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        ("true", True),
        ("false", False),
        (None, False),
    ],
)
def test_booleans_in_every_spelling(raw: Any, expected: bool) -> None:
    item = {"service": 1, "name": "x", "type": "Default", "rate": "1", "min": 1, "max": 2}
    [service], skipped = parse_services([{**item, "refill": raw}])
    assert skipped == 0
    assert service.refill is expected


def test_numbers_as_strings_or_numbers_missing_and_extra_fields() -> None:
    [service], _ = parse_services(
        [
            {
                "service": "7",
                "name": 12,
                "type": "custom comments",
                "category": None,
                "rate": "1,000.5",
                "min": "10.0",
                "max": 2147483647,
                "dripfeed": "1",
                "desc": "d",
                "average_time": "5h",
            }
        ]
    )
    assert service.id == 7 and service.rate == Decimal("1000.5") and service.max == 2147483647
    assert service.name == "12" and service.category == "" and service.min == 10
    assert service.type is ServiceType.CUSTOM_COMMENTS and service.dripfeed is True
    assert service.model_extra == {"average_time": "5h"}
    assert service.cancel is False  # missing


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("Canceled", OrderState.CANCELED),
        ("Cancelled", OrderState.CANCELED),
        ("in progress", OrderState.IN_PROGRESS),
        ("IN_PROGRESS", OrderState.IN_PROGRESS),
        ("Refunded", OrderState.REFUNDED),
        ("Fail", OrderState.FAIL),
        ("Error", OrderState.ERROR),
        ("Awaiting", OrderState.UNKNOWN),
    ],
)
def test_status_names_normalized(raw: str, state: OrderState) -> None:
    from bot.core.api import OrderStatus

    status = OrderStatus.model_validate({"status": raw})
    assert status.state is state
    assert status.status_raw == raw  # the raw text is kept
    assert status.state.is_final is (
        state in {OrderState.CANCELED, OrderState.REFUNDED, OrderState.FAIL, OrderState.ERROR}
    )


def test_type_names_vary_in_case_and_spelling() -> None:
    assert ServiceType.parse("Mentions with hashtags") is ServiceType.MENTIONS_WITH_HASHTAGS
    assert ServiceType.parse("custom_comments") is ServiceType.CUSTOM_COMMENTS
    assert ServiceType.parse("Something new") is ServiceType.UNKNOWN


async def test_a_malformed_service_is_skipped_not_fatal() -> None:
    fake = FakePanel([DOC_SERVICES[0], {"service": "x", "name": "broken"}])
    services = await client(fake).services()
    assert [s.id for s in services] == [1]


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Incorrect request", PanelError),
        ("Incorrect API key", BadKey),
        ("Incorrect service ID", UnknownService),
        ("Incorrect link", BadLink),
        ("Incorrect quantity", BadQuantity),
        ("Not enough funds on balance", InsufficientFunds),
        ("Active order with this link exists", DuplicateActiveOrder),
        ("Incorrect order ID", NotFound),
        ("Refill not found", NotFound),
    ],
)
async def test_every_documented_error_message_is_typed(message: str, kind: type) -> None:
    fake = FakePanel({"error": message})
    with pytest.raises(kind) as raised:
        await client(fake).add(OrderRequest(1, {"link": "https://x.test", "quantity": "1"}))
    assert type(raised.value) is kind
    assert raised.value.message == message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<!DOCTYPE html><html>Just a moment...</html>"),
        httpx.Response(403, text="<html>Forbidden</html>"),
        httpx.Response(502, text="Bad gateway"),
        httpx.Response(200, text="{not json"),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
    ],
)
async def test_unusable_answers_to_reads_are_panel_unavailable(answer: Any) -> None:
    fake = FakePanel(answer)
    with pytest.raises(PanelUnavailable) as raised:
        await client(fake).balance()
    assert KEY not in str(raised.value)


async def test_reads_retry_transient_failures() -> None:
    fake = FakePanel(
        httpx.ReadTimeout("slow"), httpx.Response(502), {"balance": "5", "currency": "USD"}
    )
    balance = await client(fake).balance()
    assert balance.amount == Decimal("5")
    assert len(fake.forms) == 3


async def test_reads_give_up_after_the_attempts() -> None:
    fake = FakePanel(httpx.Response(503))
    with pytest.raises(PanelUnavailable, match="HTTP 503"):
        await client(fake, attempts=3).balance()
    assert len(fake.forms) == 3


async def test_a_timeout_on_add_is_outcome_unknown_after_exactly_one_request() -> None:
    fake = FakePanel(httpx.ReadTimeout("answer lost"))
    with pytest.raises(OrderOutcomeUnknown):
        await client(fake).add(OrderRequest(1, {"link": "https://x.test", "quantity": "10"}))
    assert len(fake.forms) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(502),
        httpx.Response(200, text="<html></html>"),
        httpx.Response(200, text="{"),
    ],
)
async def test_a_lost_answer_to_add_refill_cancel_is_never_retried(answer: Any) -> None:
    for call in ("add", "refill", "cancel"):
        fake = FakePanel(answer)
        panel = client(fake)
        with pytest.raises(OutcomeUnknown):
            if call == "add":
                await panel.add(OrderRequest(1, {"link": "https://x.test", "quantity": "10"}))
            elif call == "refill":
                await panel.refill(1)
            else:
                await panel.cancel([1])
        assert len(fake.forms) == 1, call


async def test_add_that_never_connected_is_unavailable_not_unknown() -> None:
    fake = FakePanel(httpx.ConnectError("refused"))
    with pytest.raises(PanelUnavailable):
        await client(fake).add(OrderRequest(1, {"link": "https://x.test", "quantity": "10"}))
    assert len(fake.forms) == 1


async def test_bulk_calls_split_into_chunks_of_100() -> None:
    def answer(form: dict[str, str]) -> Any:
        ids = form["orders"].split(",")
        if form["action"] == "status":
            return {i: {"status": "Pending", "charge": "1", "remains": "0"} for i in ids}
        return [{"order": int(i), "cancel": 1} for i in ids]

    fake = FakePanel(answer)
    panel = client(fake)
    ids = list(range(1, 251))
    statuses = await panel.statuses([*ids, 5, 6])  # duplicates are asked once
    assert len(fake.forms) == 3
    assert [len(f["orders"].split(",")) for f in fake.forms] == [100, 100, 50]
    assert set(statuses) == set(ids)
    await panel.cancel(ids)
    assert len(fake.forms) == 6


async def test_an_id_missing_from_a_bulk_answer_is_not_found() -> None:
    fake = FakePanel({"1": {"status": "Completed"}})
    result = await client(fake).statuses([1, 2])
    assert isinstance(result[2], NotFound)


# -- secrets --------------------------------------------------------------------------------------


async def test_the_key_never_reaches_logs_errors_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakePanel(
        httpx.ReadTimeout("t"), httpx.Response(500, text=KEY), {"error": "Incorrect API key"}
    )
    panel = client(fake, attempts=2)
    with pytest.raises(PanelUnavailable) as unavailable:
        await panel.balance()
    with pytest.raises(BadKey) as bad:
        await panel.balance()
    texts = [
        caplog.text,
        repr(panel),
        str(unavailable.value),
        repr(unavailable.value),
        str(bad.value),
        repr(SecretStr(KEY)),
    ]
    assert all(KEY not in text for text in texts)


# -- real catalogs --------------------------------------------------------------------------------


async def test_both_real_catalogs_load_and_every_service_maps_to_a_type(catalogs: Any) -> None:
    for path in catalogs:
        raw = load_catalog(path)
        services = await client(FakePanel(raw)).services()
        assert len(services) == len(raw)
        for service in services:
            assert service.type is not ServiceType.UNKNOWN, service.type_raw
            assert order_type_of(service).type is service.type


class SlowPanel:
    """Answers bulk status after `latency` seconds; counts the calls in flight; answers the
    request numbered `limit_at` with 429 Retry-After `window`."""

    def __init__(self, latency: float, limit_at: int | None = None, window: int = 1) -> None:
        self.latency = latency
        self.limit_at = limit_at
        self.window = window
        self.in_flight = 0
        self.most_in_flight = 0
        self.arrivals: list[float] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        import asyncio
        import time
        from urllib.parse import parse_qsl

        self.arrivals.append(time.monotonic())
        if len(self.arrivals) == self.limit_at:
            return httpx.Response(429, headers={"retry-after": str(self.window)}, json={})
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        form = dict(parse_qsl(request.content.decode()))
        ids = form["orders"].split(",")
        return httpx.Response(200, json={i: {"status": "Pending"} for i in ids})


async def test_bulk_status_keeps_a_bounded_number_of_calls_in_flight() -> None:
    import time

    panel = SlowPanel(latency=0.05)
    http = httpx.AsyncClient(transport=httpx.MockTransport(panel))
    client = PanelClient("https://panel.test", KEY, http=http, concurrency=4, clock=time.monotonic)
    result = await client.statuses(range(1, 2001))
    assert len(result) == 2000 and len(panel.arrivals) == 20
    assert panel.most_in_flight == 4


async def test_a_429_halves_the_calls_in_flight_and_no_request_enters_the_window() -> None:
    import time

    panel = SlowPanel(latency=0.02, limit_at=3, window=1)
    http = httpx.AsyncClient(transport=httpx.MockTransport(panel))
    client = PanelClient("https://panel.test", KEY, http=http, concurrency=8, clock=time.monotonic)
    with pytest.raises(PanelBusy) as busy:
        await client.statuses(range(1, 2001))  # an interactive caller: told at once
    assert busy.value.retry_after == pytest.approx(1, abs=0.1)
    with pytest.raises(PanelBusy):
        await client.balance()  # the window holds for every call
    with pytest.raises(PanelBusy):
        await client.add(OrderRequest(1, {"link": "https://t.test/p", "quantity": "100"}))
    limited_at = panel.arrivals[2]
    sent_before = len(panel.arrivals)
    result = await client.statuses(range(1, 2001), patient=True)  # the tracker waits it out
    assert len(result) == 2000
    assert client.bulk_limit.limit < 8
    later = panel.arrivals[sent_before:]
    assert all(at >= limited_at + 1 for at in later), "a request inside the Retry-After window"


def test_retry_after_as_seconds_or_an_http_date() -> None:
    from bot.adapters.panel_http.client import retry_after_seconds

    now = 1_800_000_000.0
    assert retry_after_seconds("60", now) == 60
    assert retry_after_seconds("Fri, 15 Jan 2027 08:01:00 GMT", 1_800_000_000.0) == 60
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_panel_concurrency_comes_from_the_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, panel_url="https://panel.test/api/v2", panel_key=KEY, panel_concurrency=3
    )
    assert panel_client(settings).bulk_limit.maximum == 3
    assert make_settings(tmp_path).panel_concurrency == 8
