"""The sandbox panel: a complete API v2 over an httpx transport and over HTTP."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest

from bot.adapters.panel_http.client import PanelClient
from bot.adapters.sandbox.panel import SANDBOX_KEY, SandboxPanel, SandboxServer
from bot.core.api import OrderState, RefillState
from bot.core.panel import (
    BadKey,
    BadLink,
    DuplicateActiveOrder,
    InsufficientFunds,
    NotFound,
    OrderOutcomeUnknown,
    OrderRequest,
    PanelError,
    PanelUnavailable,
    UnknownService,
)
from tests.harness import Clock, sandbox_client

LINK = "https://instagram.com/p/abc"


async def test_orders_advance_over_time_and_charge_the_balance() -> None:
    clock = Clock(1000.0)
    sandbox = SandboxPanel(clock=clock, step_seconds=10)
    panel = sandbox_client(sandbox)
    before = (await panel.balance()).amount
    order_id = await panel.add(OrderRequest(1, {"link": LINK, "quantity": "1000"}))
    assert (await panel.balance()).amount == before - Decimal("15000")
    assert (await panel.status(order_id)).state is OrderState.PENDING
    clock.advance(20)
    status = await panel.status(order_id)
    assert status.state is OrderState.IN_PROGRESS and 0 < status.remains < 1000  # type: ignore[operator]
    clock.advance(20)
    assert (await panel.status(order_id)).state in (OrderState.COMPLETED, OrderState.PARTIAL)


async def test_a_test_can_set_any_status() -> None:
    sandbox = SandboxPanel()
    panel = sandbox_client(sandbox)
    order_id = await panel.add(OrderRequest(1, {"link": LINK, "quantity": "100"}))
    sandbox.set_status(order_id, "Partial", remains=30)
    status = await panel.status(order_id)
    assert status.state is OrderState.PARTIAL and status.remains == 30


async def test_every_error_answer() -> None:
    sandbox = SandboxPanel(balance=Decimal("10"), reject_duplicate_links=True)
    panel = sandbox_client(sandbox)
    with pytest.raises(UnknownService):
        await panel.add(OrderRequest(999, {"link": LINK, "quantity": "100"}))
    with pytest.raises(BadLink):
        await panel.add(OrderRequest(1, {"link": "nope", "quantity": "100"}))
    with pytest.raises(PanelError, match="Incorrect quantity"):
        await panel.add(OrderRequest(1, {"link": LINK, "quantity": "1"}))
    with pytest.raises(InsufficientFunds):
        await panel.add(OrderRequest(1, {"link": LINK, "quantity": "100"}))
    sandbox.balance = Decimal("1000000")
    await panel.add(OrderRequest(1, {"link": LINK, "quantity": "100"}))
    with pytest.raises(DuplicateActiveOrder):
        await panel.add(OrderRequest(1, {"link": LINK, "quantity": "100"}))
    with pytest.raises(NotFound):
        await panel.status(1)
    with pytest.raises(NotFound):
        await panel.refill_status(1)
    bad = PanelClient(
        "http://panel.test/api/v2", "wrong", http=httpx.AsyncClient(transport=sandbox.transport())
    )
    with pytest.raises(BadKey):
        await bad.balance()


async def test_refills_and_cancels() -> None:
    clock = Clock(0.0)
    sandbox = SandboxPanel(clock=clock, step_seconds=10)
    panel = sandbox_client(sandbox)
    refillable = await panel.add(OrderRequest(1, {"link": LINK, "quantity": "100"}))
    not_refillable = await panel.add(OrderRequest(2, {"link": LINK, "quantity": "100"}))
    refills = await panel.refills([refillable, not_refillable, 5])
    assert isinstance(refills[refillable], int)
    assert isinstance(refills[not_refillable], PanelError)
    assert isinstance(refills[5], NotFound)
    refill_id = refills[refillable]
    assert (await panel.refill_status(refill_id)).state is RefillState.PENDING  # type: ignore[arg-type]
    sandbox.set_refill_status(refill_id, "Rejected")  # type: ignore[arg-type]
    assert (await panel.refill_status(refill_id)).state is RefillState.REJECTED  # type: ignore[arg-type]
    balance = sandbox.balance
    cancels = await panel.cancel([refillable, 12345])
    assert cancels[refillable] is None and isinstance(cancels[12345], NotFound)
    assert sandbox.balance > balance
    assert (await panel.status(refillable)).state is OrderState.CANCELED


async def test_faults() -> None:
    sandbox = SandboxPanel()
    panel = sandbox_client(sandbox, attempts=1)
    for kind in ("timeout", "500", "html", "badjson"):
        sandbox.fail_next(kind)
        with pytest.raises(PanelUnavailable):
            await panel.balance()
    sandbox.fail_next("drop", action="add")
    with pytest.raises(OrderOutcomeUnknown):
        await panel.add(OrderRequest(1, {"link": LINK, "quantity": "100"}))
    assert len(sandbox.orders) == 1  # the order exists although the answer was lost


async def test_served_over_http_on_loopback() -> None:
    sandbox = SandboxPanel()
    server = SandboxServer(sandbox).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        panel = PanelClient(server.url, SANDBOX_KEY)
        order_id = await panel.add(OrderRequest(1, {"link": LINK, "quantity": "100"}))
        assert (await panel.statuses([order_id]))[order_id].state is OrderState.PENDING  # type: ignore[union-attr]
        await panel.aclose()
    finally:
        await asyncio.to_thread(server.stop)


def test_loads_a_real_catalog(catalogs: list) -> None:  # type: ignore[type-arg]
    sandbox = SandboxPanel.from_catalog_file(catalogs[0])
    assert len(sandbox.services) > 500


@pytest.mark.parametrize(
    ("service", "fields", "answer"),
    [
        (1, {"link": "https://x.test/p", "quantity": "100"}, "order"),
        (1, {"link": "x.test/p", "quantity": "100"}, "Incorrect link"),
        (1, {"quantity": "100"}, "Incorrect link"),
        (1, {"link": "https://x.test/p", "quantity": "10"}, "Incorrect quantity"),
        (1, {"link": "https://x.test/p", "quantity": "1e3"}, "Incorrect quantity"),
        (1, {"link": "https://x.test/p", "quantity": "100", "runs": "5"}, "Incorrect request"),
        (4, {"link": "https://x.test/p"}, "order"),
    ],
)
def test_the_sandbox_checks_orders_by_the_reference(
    service: int, fields: dict[str, str], answer: str
) -> None:
    """Its own rules (the reference's table), not the bot's validators."""
    sandbox = SandboxPanel()
    result = sandbox.handle(
        {"key": sandbox.key, "action": "add", "service": str(service), **fields}
    )
    assert (answer in result) if answer == "order" else (result == {"error": answer})


def test_the_sandbox_catalog_is_data_with_every_order_type() -> None:
    from bot.adapters.sandbox.panel import default_catalog
    from bot.core.api import Service, ServiceType

    types = {Service.model_validate(s).type for s in default_catalog()}
    assert types == set(ServiceType) - {ServiceType.UNKNOWN}
