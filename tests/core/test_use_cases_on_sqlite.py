"""The use cases without Telegram: a store, a panel client, a clock; no bot, no update."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.adapters.panel_http.client import PanelClient
from bot.adapters.sandbox.panel import SandboxPanel
from bot.adapters.sqlite.store import SqliteStore
from bot.core.actor import Actor
from bot.core.api import OrderStatus, RefillStatus
from bot.core.balance import PanelBalance, PanelCurrency
from bot.core.checkout import UnsavedOutcomes, submit
from bot.core.drafts import OrderDraft, quote
from bot.core.order_actions import OrderActions, Refusal
from bot.core.panel import NotFound
from bot.core.records import NOT_YOURS, Check, Outcome
from bot.core.tracking import OrderTracking
from tests.harness import Clock, sandbox_client

LINK = "https://youtube.com/watch?v=usecase"


async def placed(store: SqliteStore, sandbox: SandboxPanel, user_id: int, service_id: int) -> int:
    service = next(s for s in sandbox.services if s.id == service_id)
    draft = OrderDraft(service_id=service_id, values={"link": LINK, "quantity": "100"})
    row, _ = await submit(
        store,
        sandbox_client(sandbox),
        user_id=user_id,
        key=draft.key,
        offer=quote(draft, service),
        currency="",
        unsaved=UnsavedOutcomes(store),
    )
    assert row.outcome is Outcome.PLACED and row.panel_order_id is not None
    return row.panel_order_id


async def test_a_quote_the_checks_refuse_is_never_sent(store: SqliteStore) -> None:
    sandbox = SandboxPanel()
    service = next(s for s in sandbox.services if s.id == 1)
    draft = OrderDraft(service_id=1, values={"link": LINK, "quantity": "1"})  # below the min
    offer = quote(draft, service)
    assert offer.issues
    with pytest.raises(ValueError):
        await submit(
            store,
            sandbox_client(sandbox),
            user_id=7,
            key=draft.key,
            offer=offer,
            currency="",
            unsaved=UnsavedOutcomes(store),
        )
    assert sandbox.calls["add"] == 0 and await store.orders.by_intent(draft.key, 7) is None


def tracking_of(store: SqliteStore, panel: PanelClient, clock: Clock) -> OrderTracking:
    balance = PanelBalance(panel, PanelCurrency(store.kv, ""), clock=clock)
    return OrderTracking(
        store, panel, balance, poll_interval=60, low_balance=None, admin_ids=[1], clock=clock
    )


async def test_cancel_and_refill_check_first_and_remember(store: SqliteStore, clock: Clock) -> None:
    sandbox = SandboxPanel(clock=clock, step_seconds=10**9)
    panel = sandbox_client(sandbox)
    actions = OrderActions(store, panel, tracking_of(store, panel, clock), clock)
    ok, disallowed = await placed(store, sandbox, 7, 1), await placed(store, sandbox, 7, 4)
    rows = await store.orders.by_panel_ids([ok, disallowed])
    result = await actions.cancel([ok, disallowed, 99], rows, {ok, disallowed})
    assert result == {ok: None, disallowed: Refusal.NOT_ALLOWED, 99: NOT_YOURS}
    rows = await store.orders.by_panel_ids([ok])
    assert rows[ok].cancel_requested_at is not None
    assert await actions.cancel([ok], rows, {ok}) == {ok: Refusal.REQUESTED}
    assert sandbox.calls["cancel"] == 1
    # stored: Pending; the panel, asked first, says Canceled: no refill, truthfully
    assert await actions.refill([ok], rows, {ok}, user_id=7) == {ok: Refusal.NOT_DELIVERED}
    assert (await store.orders.by_panel_ids([ok]))[ok].status == "Canceled"
    sandbox.set_status(ok, "Partial", remains=10)  # the cancellation left it partial
    await store.orders.store_checks([Check(rows[ok].id, await panel.status(ok), None)])
    rows = await store.orders.by_panel_ids([ok])
    refilled = await actions.refill([ok], rows, {ok}, user_id=7)
    assert isinstance(refilled[ok], int)
    assert await actions.refill([ok], rows, {ok}, user_id=7) == {ok: Refusal.REQUESTED}
    states = await actions.refill_statuses([refilled[ok], 12345], {refilled[ok]})
    assert isinstance(states[refilled[ok]], RefillStatus) and states[12345] is NOT_YOURS


async def test_looking_up_and_refreshing_store_what_was_seen(
    store: SqliteStore, clock: Clock
) -> None:
    sandbox = SandboxPanel(clock=clock, step_seconds=10**9)
    panel = sandbox_client(sandbox)
    tracking = tracking_of(store, panel, clock)
    actions = OrderActions(store, panel, tracking, clock)
    mine, theirs = await placed(store, sandbox, 7, 1), await placed(store, sandbox, 8, 1)
    sandbox.set_status(mine, "In progress", remains=40)
    seen, owned = await actions.status(Actor(7), [mine, theirs, 5])
    assert isinstance(seen[mine], OrderStatus) and seen[mine].remains == 40
    assert seen[theirs] is NOT_YOURS and seen[5] is NOT_YOURS  # not theirs: as unknown
    assert list(owned) == [mine]
    admin_seen, _ = await actions.status(Actor(1, is_admin=True), [5])
    assert isinstance(admin_seen[5], NotFound)  # an admin asks the panel about any id
    stored = (await store.orders.by_panel_ids([mine]))[mine]
    assert stored.status == "In progress" and stored.remains == 40
    sandbox.set_status(mine, "Completed", remains=0)
    refreshed = await tracking.refresh(stored)
    assert refreshed.status == "Completed" and refreshed.final
    assert await store.outbox.count() == 0  # what a user looked at is not announced


async def test_the_balance_is_shared_and_teaches_the_currency(
    store: SqliteStore, clock: Clock
) -> None:
    sandbox = SandboxPanel(clock=clock, currency="USD", balance=Decimal("12.5"))
    currency = PanelCurrency(store.kv, "")
    balance = PanelBalance(sandbox_client(sandbox), currency, ttl=10, clock=clock)
    for _ in range(5):
        assert (await balance.get()).amount == Decimal("12.5")
    assert sandbox.calls["balance"] == 1 and currency.code == "USD"
    clock.advance(10)
    await balance.get()
    assert sandbox.calls["balance"] == 2
    again = PanelCurrency(store.kv, "")
    await again.load()
    assert again.code == "USD"  # kept for the next start
