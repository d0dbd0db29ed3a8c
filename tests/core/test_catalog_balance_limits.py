"""The shared pieces over the fakes: the catalog (cached, refreshed after its TTL in the
background, kept while the panel is down), the panel balance (asked at most once per TTL,
shared by callers at the same moment, teaching the currency), the per-user rate limit."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.core.api import Balance
from bot.core.balance import PanelBalance, PanelCurrency
from bot.core.catalog import Catalog
from bot.core.limits import UserRateLimit
from bot.core.panel import PanelUnavailable
from tests.core.fakes import ADMIN, USER, FakeClock, FakePanel, FakeStore, service


def catalog_of(panel: FakePanel, store: FakeStore, clock: FakeClock) -> Catalog:
    return Catalog(panel, store.services, ttl=600, clock=clock)


async def refreshed(catalog: Catalog) -> None:
    """The background refresh under way, done (its task is the catalog's own)."""
    task = catalog._refreshing
    assert task is not None
    await task


async def test_the_catalog_is_kept_and_served_from_the_cache_at_start() -> None:
    clock = FakeClock()
    store = FakeStore(clock)
    panel = FakePanel([service(1, rate="3"), service(2, rate="-1")])
    first = await catalog_of(panel, store, clock).get()
    assert list(first.by_id) == [1]  # a rate no order can have is left out
    assert panel.count("services") == 1
    panel.failing["services"] = PanelUnavailable("timeout")
    restarted = catalog_of(panel, store, clock)
    await restarted.load_cached()
    assert list((await restarted.get()).by_id) == [1]  # the panel down: the cached list
    assert panel.count("services") == 1


async def test_an_old_catalog_is_served_while_a_refresh_runs_and_kept_when_it_fails() -> None:
    clock = FakeClock()
    store = FakeStore(clock)
    panel = FakePanel([service(1, rate="3")])
    catalog = catalog_of(panel, store, clock)
    old = await catalog.get()
    clock.advance(601)
    panel.service_list = [service(1, rate="4")]
    panel.hold["services"] = asyncio.Event()
    assert await catalog.get() is old  # served at once
    await panel.arrived("services").wait()
    panel.hold["services"].set()
    await refreshed(catalog)
    fresh = await catalog.get()
    assert fresh.by_id[1].rate == Decimal("4")
    clock.advance(601)
    del panel.hold["services"]
    panel.failing["services"] = PanelUnavailable("timeout")
    assert await catalog.get() is fresh
    await refreshed(catalog)
    assert await catalog.get() is fresh  # kept; not asked again at once
    assert panel.count("services") == 3
    await catalog.aclose()


async def test_no_catalog_at_all_raises() -> None:
    clock = FakeClock()
    panel = FakePanel()
    panel.failing["services"] = PanelUnavailable("timeout")
    with pytest.raises(PanelUnavailable):
        await catalog_of(panel, FakeStore(clock), clock).get()


async def test_the_balance_is_asked_once_per_ttl_and_shared() -> None:
    clock = FakeClock()
    store = FakeStore(clock)
    panel = FakePanel(balance="12.5", currency="EUR")
    currency = PanelCurrency(store.kv, "IDR")
    balance = PanelBalance(panel, currency, ttl=10, clock=clock)
    panel.hold["balance"] = asyncio.Event()
    waiting = [asyncio.create_task(balance.get()) for _ in range(5)]
    await panel.arrived("balance").wait()
    panel.hold["balance"].set()
    answers = await asyncio.gather(*waiting)
    assert {a.amount for a in answers} == {Decimal("12.5")}
    assert panel.count("balance") == 1 and currency.code == "EUR"
    clock.advance(10)
    panel.balance_answer = Balance.parse({"balance": "3"})  # no currency: the known one stays
    assert (await balance.get()).amount == Decimal("3")
    assert panel.count("balance") == 2 and currency.code == "EUR"
    again = PanelCurrency(store.kv, "IDR")
    await again.load()
    assert again.code == "EUR"


async def test_the_balance_raises_like_the_panel() -> None:
    clock = FakeClock()
    store = FakeStore(clock)
    panel = FakePanel()
    panel.balance_answer = PanelUnavailable("timeout")
    balance = PanelBalance(panel, PanelCurrency(store.kv, ""), clock=clock)
    with pytest.raises(PanelUnavailable):
        await balance.get()
    balance.learn()  # at start, in the background: a panel down delays nothing
    assert balance.learning is not None
    await balance.learning
    balance.close()


def test_the_rate_limit_allows_a_burst_and_regains_per_minute() -> None:
    clock = FakeClock()
    limit = UserRateLimit(per_minute=30, burst=3, clock=clock)
    assert [limit.wait(USER) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.wait(USER) == pytest.approx(2.0)  # one token every 2 s
    assert limit.wait(ADMIN) == 0.0  # counted per user
    clock.advance(2)
    assert limit.wait(USER) == 0.0
    assert limit.wait(USER) > 0
