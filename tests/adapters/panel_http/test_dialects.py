"""Every literal answer under `tests/panel_answers/`, read by the real client.

One file per answer shape seen in real panels: the call, the HTTP status, headers and body the
panel sent, and what the client must make of it (`returns`, compared field by field, or
`raises`, with the panel's words kept). A new dialect is one more file.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.adapters.panel_http.client import PanelClient
from bot.core import panel as panel_errors
from bot.core.api import Balance, OrderStatus, RefillStatus, Service
from bot.core.panel import OrderRequest, PanelError

CORPUS = Path(__file__).resolve().parents[2] / "panel_answers"
NOW = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC).timestamp()
"""The test clock: Retry-After dates in the corpus are relative to it."""

KEY = "0123456789abcdef0123456789abcdef"
CALLS: dict[str, Callable[[PanelClient, list[int]], Awaitable[Any]]] = {
    "add": lambda c, _: c.add(OrderRequest(1, {"link": "https://t.test/p", "quantity": "100"})),
    "status": lambda c, ids: c.status(ids[0]),
    "statuses": lambda c, ids: c.statuses(ids),
    "refill": lambda c, ids: c.refill(ids[0]),
    "refills": lambda c, ids: c.refills(ids),
    "refill_status": lambda c, ids: c.refill_status(ids[0]),
    "refill_statuses": lambda c, ids: c.refill_statuses(ids),
    "cancel": lambda c, ids: c.cancel(ids),
    "balance": lambda c, _: c.balance(),
    "services": lambda c, _: c.services(),
}


def observed(value: Any) -> Any:
    """A client result as plain data, for comparison with the corpus."""
    if isinstance(value, PanelError):
        return {"error": type(value).__name__, "message": value.message}
    if isinstance(value, OrderStatus):
        return {
            "state": value.state.value,
            "status": value.status_raw,
            "charge": None if value.charge is None else str(value.charge),
            "start_count": value.start_count,
            "remains": value.remains,
            "currency": value.currency,
        }
    if isinstance(value, RefillStatus):
        return {"state": value.state.value, "status": value.status_raw}
    if isinstance(value, Balance):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, list) and all(isinstance(s, Service) for s in value):
        first = value[0] if value else None
        return {
            "count": len(value),
            "first": first
            and {
                "id": first.id,
                "type": first.type.value,
                "rate": str(first.rate),
                "refill": first.refill,
                "cancel": first.cancel,
                "desc": first.desc,
            },
        }
    if isinstance(value, dict):
        return {str(k): observed(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def assert_matches(actual: Any, expected: Any, where: str = "answer") -> None:
    """Every field the corpus names has the expected value (others are not checked)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not {expected!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}: no {key!r} in {actual!r}"
            assert_matches(actual[key], value, f"{where}.{key}")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


ANSWERS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.json"))}


def test_the_corpus_covers_every_call() -> None:
    assert {case["call"] for case in ANSWERS.values()} == set(CALLS)


@pytest.mark.parametrize("name", sorted(ANSWERS))
async def test_a_literal_answer(name: str) -> None:
    case = ANSWERS[name]
    requests: list[httpx.Request] = []

    def panel(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        headers = {"content-type": "application/json", **case.get("headers", {})}
        body = (
            case["body_text"].encode() if "body_text" in case else json.dumps(case["body"]).encode()
        )
        return httpx.Response(case["http_status"], content=body, headers=headers)

    http = httpx.AsyncClient(transport=httpx.MockTransport(panel))
    client = PanelClient("https://panel.test/api/v2", KEY, http=http, backoff=0, clock=lambda: NOW)
    expect = case["expect"]
    call = CALLS[case["call"]](client, case.get("ids", []))
    if "raises" in expect:
        kind = getattr(panel_errors, expect["raises"])
        with pytest.raises(kind) as caught:
            await call
        assert type(caught.value) is kind, f"{type(caught.value).__name__} is not {kind}"
        if "message" in expect:
            assert caught.value.message == expect["message"]
        if "retry_after" in expect:
            assert caught.value.retry_after == pytest.approx(expect["retry_after"], abs=1)
    else:
        assert_matches(observed(await call), expect["returns"])
    if "requests" in expect:
        assert len(requests) == expect["requests"]
    if case["call"] in ("add", "refill", "refills", "cancel"):
        assert len(requests) == 1, "a state-changing call is sent exactly once"
