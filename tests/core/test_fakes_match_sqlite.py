"""The fakes mean what the SQLite adapter means: the same calls on both stores answer the
same (the core's tests over the fakes would otherwise prove nothing of the bot)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from bot.adapters.sqlite.store import SqliteStore
from bot.core.api import Service
from bot.core.records import (
    BatchLine,
    Check,
    DepositState,
    EntryKind,
    Order,
    Outcome,
    RejectedLine,
    Skipped,
)
from tests.core.fakes import FakeStore, service, status
from tests.harness import Clock

SERVICE = service(1, name="Followers", rate="2", refill=True)


def plain(value: Any) -> Any:
    """What is compared: an order without its times (the stores write the same clock)."""
    if isinstance(value, Order):
        return replace(value, created_at=0.0, updated_at=0.0)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(plain(v) for v in value))
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


async def intent(store: Any, key: str, user_id: int, link: str, paid: str | None = None) -> Order:
    row, _ = await store.orders.record_intent(
        intent_key=key,
        user_id=user_id,
        service=SERVICE,
        fields={"link": link, "quantity": "100"},
        quantity=100,
        price=Decimal("0.2"),
        currency="USD",
        paid=Decimal(paid) if paid else None,
        cost=Decimal("0.2") if paid else None,
    )
    return row


async def orders_scenario(store: Any, clock: Clock) -> list[Any]:
    seen: list[Any] = []
    a = await intent(store, "a", 7, "https://instagram.com/p/a", paid="1")
    b = await intent(store, "b", 7, "https://instagram.com/p/b")
    c = await intent(store, "c", 8, "https://instagram.com/p/a")
    await store.orders.set_placed(a.id, 501)
    seen.append(await store.orders.set_outcome(a.id, Outcome.REJECTED, "late"))
    seen.append(await store.orders.set_outcome(b.id, Outcome.UNKNOWN, "timeout"))
    seen.append(await store.orders.set_outcome(b.id, Outcome.REJECTED, "again"))
    seen.append(await store.orders.attach(b.id, 501))  # taken
    seen.append(await store.orders.attach(c.id, 502))  # not of unknown outcome
    d = await intent(store, "d", 7, "https://instagram.com/p/d")
    seen.append(d.known_panel_id)
    seen.append(plain(await store.orders.interrupt_submissions()))
    seen.append(await store.orders.attach(d.id, 503))
    seen.append(await store.orders.set_not_placed(c.id))
    seen.append(await store.orders.set_not_placed(b.id))
    clock.advance(10)
    await store.orders.store_checks(
        [
            Check(a.id, status("In progress", remains=40, charge="0.18"), 2_000_000.0),
            Check(d.id, status("Partial", remains=10), None),
        ]
    )
    await store.orders.store_checks([Check(a.id, status("In progress", remains=30), None)])
    await store.orders.add_refunded(a.id, Decimal("0.25"))
    await store.orders.add_refunded(a.id, Decimal("0.5"))
    await store.orders.mark_cancel_requested([a.id])
    seen.append(plain(await store.orders.get(a.id)))
    seen.append(plain(await store.orders.by_intent("a", 8)))
    seen.append(sorted(await store.orders.by_intents(["a", "b", "c"], 7)))
    seen.append([o.id for o in await store.orders.by_ids([d.id, 99, a.id])])
    seen.append(sorted(await store.orders.by_panel_ids([501, 503, 999])))
    seen.append(await store.orders.listing(7))
    seen.append([o.id for o in await store.orders.active_for(7, "instagram.com/p/A/")])
    seen.append([o.id for o in await store.orders.unfinished_of(7)])
    seen.append([await store.orders.has_orders(u) for u in (7, 8, 9)])
    seen.append(await store.orders.recent_services(7, 5))
    seen.append(plain(await store.orders.notice_details([c.id, 99])))
    seen.append(plain(await store.orders.due_for_check(clock())))
    seen.append(await store.orders.counts_by_status())
    seen.append(await store.orders.count_since(0))
    seen.append(plain(await store.orders.placed_costs(0)))
    # (last: SQLite spends a row id on an insert that does nothing)
    seen.append(plain(await store.orders.record_intent(
        intent_key="a", user_id=7, service=SERVICE, fields={}, quantity=None,
        price=Decimal(1), currency="", paid=None, cost=None,
    )))  # fmt: skip
    with pytest.raises(PermissionError):
        await intent(store, "a", 8, "x")
    return seen


async def money_scenario(store: Any, clock: Clock) -> list[Any]:
    seen: list[Any] = []
    seen.append(await store.wallets.get(7))
    seen.append(await store.wallets.post(7, Decimal("100"), EntryKind.CREDIT, admin_id=1))
    clock.advance(5)
    seen.append(await store.wallets.post(7, Decimal("-30.5"), EntryKind.ADJUSTMENT, note="x"))
    await store.wallets.set_limit(7, Decimal("50"))
    await store.wallets.set_limit(8, Decimal("5"))
    seen.append(await store.wallets.get(7))
    entries, total = await store.wallets.entries(7, 0, 1)
    seen.append(([(e.amount, e.kind, e.note) for e in entries], total))
    seen.append([(e.amount, e.created_at) for e in await store.wallets.since(clock())])
    seen.append(sorted((w.user_id, w.balance, w.credit_limit) for w in await store.wallets.all()))
    first = await store.deposits.open(7, Decimal("10000"))
    second = await store.deposits.open(7, Decimal("20000"))  # the first, unproven, is dropped
    seen.append(await store.deposits.get(first.id))
    seen.append((await store.deposits.awaiting_proof(7)).amount)
    seen.append(await store.deposits.prove(second.id, "text", "ref", "Ani"))
    seen.append(await store.deposits.prove(second.id, "text", "ref", "Ani"))
    seen.append((await store.deposits.pending_of(7)).state)
    seen.append(await store.deposits.decide(second.id, DepositState.APPROVED, 1))
    seen.append(await store.deposits.decide(second.id, DepositState.REJECTED, 1))
    decided = await store.deposits.get(second.id)
    seen.append((decided.state, decided.decided_by, decided.proof, decided.name))
    seen.append(await store.deposits.pending(5))
    return seen


async def batches_and_refills_scenario(store: Any, clock: Clock) -> list[Any]:
    seen: list[Any] = []
    lines = [BatchLine(1, 1, {"link": "https://x.com/a", "quantity": "100"}, Decimal("0.2"))]
    refused = [
        RejectedLine(2, "https://x.com/b", 1, "field", None, "5"),
        RejectedLine(3, "", None, "format"),
    ]
    await store.mass.add("k1", 7, lines, [])
    await store.mass.add("k2", 7, lines, refused)  # k1 dropped
    seen.append(await store.mass.get("k1", 7))
    seen.append(await store.mass.start("k2", 8, 1, 2))
    seen.append(await store.mass.start("k2", 7, 1, 2))
    seen.append(await store.mass.start("k2", 7, 1, 2))
    seen.append(await store.mass.drop("k2", 7))
    await store.mass.skip("k2", 1, Skipped.NO_FUNDS)
    seen.append(await store.mass.running())
    await store.mass.finish("k2")
    seen.append(await store.mass.get("k2", 7))
    await store.refills.add(11, 501, 7)
    await store.refills.add(11, 502, 8)  # known already
    await store.refills.add(12, 501, 7)
    await store.refills.store_statuses({11: "Completed", 99: "Pending"})
    seen.append(await store.refills.get_many([11, 12, 13]))
    seen.append(await store.refills.latest_for(501))
    seen.append(await store.refills.active())
    return seen


async def rollback_scenario(store: Any, clock: Clock) -> list[Any]:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.wallets.post(7, Decimal("5"), EntryKind.CREDIT)
            await tx.outbox.add([])
            raise RuntimeError("the block failed")
    async with store.transaction() as tx:
        await tx.wallets.post(7, Decimal("3"), EntryKind.CREDIT)
    return [await store.wallets.get(7), len((await store.wallets.entries(7, 0, 10))[0])]


async def small_things_scenario(store: Any, clock: Clock) -> list[Any]:
    seen: list[Any] = []
    seen.append(await store.users.touch(7, "id"))
    await store.users.set_language(7, "en")
    await store.users.mark_blocked(7)
    seen.append(await store.users.get(7))
    seen.append(await store.users.touch(7, "en"))
    await store.users.set_language(9, "en")  # unknown user: nothing
    seen.append((await store.users.get(9), await store.users.count()))
    seen.append([await store.favourites.toggle(7, s) for s in (1, 2, 1)])
    seen.append(await store.favourites.of(7))
    await store.markups.set("all", "", Decimal("10"))
    await store.markups.set("service", "1", Decimal("5"))
    await store.markups.set("service", "1", None)
    seen.append(await store.markups.rules())
    await store.kv.set("a", "1")
    await store.kv.set("a", "2")
    await store.kv.delete("b")
    seen.append(await store.kv.get("a"))
    await store.services.save(5.0, [SERVICE])
    loaded = await store.services.load()
    seen.append(
        (loaded[0], [Service.model_validate(s) for s in __import__("json").loads(loaded[1])])
    )
    return seen


@pytest.mark.parametrize(
    "scenario",
    [
        orders_scenario,
        money_scenario,
        batches_and_refills_scenario,
        rollback_scenario,
        small_things_scenario,
    ],
)
async def test_the_fake_store_answers_like_sqlite(
    scenario: Any, store: SqliteStore, clock: Clock
) -> None:
    start = clock.now
    on_sqlite = await scenario(store, clock)
    clock.now = start
    on_fake = await scenario(FakeStore(clock), clock)
    assert on_fake == on_sqlite
