"""UnknownOutcomes over the fakes: an order whose `add` answer was lost, attached to the panel
order that is it after every check, or marked not placed (its wallet refunded once), or
interrupted by a restart; a customer who paid from a wallet never decides."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.core.actor import Actor
from bot.core.checkout import record_intent, resolve_interrupted
from bot.core.notices import Interrupted, UnknownResolved
from bot.core.panel import OrderOutcomeUnknown, PanelUnavailable
from bot.core.records import EntryKind, Order, Outcome
from bot.core.unknown_outcome import Attached, NotAttached
from tests.core.fakes import (
    ADMIN,
    OTHER,
    USER,
    World,
    draft,
    place,
    service,
    status,
    summarised,
    world,
)

CUSTOMER = Actor(USER, pays_from_wallet=True)
MEMBER = Actor(USER)
THEM = Actor(OTHER)
BOSS = Actor(ADMIN, is_admin=True)


def shop_world() -> World:
    return world([service(1, rate="12345")], wallets=True, currency="IDR", panel_balance="1000000")


async def lost(w: World, actor: Actor, link: str = "https://instagram.com/p/lost") -> Order:
    w.panel.add_answers = [OrderOutcomeUnknown("timeout after sending")]
    order = await place(w, actor, 1, link)
    assert order.outcome is Outcome.UNKNOWN
    return order


async def paid_and_lost(w: World) -> Order:
    await w.shop.adjust(USER, Decimal("5000"), ADMIN, "")
    await place(w, BOSS, 1, "https://instagram.com/p/earlier")  # panel id 1001
    order = await lost(w, CUSTOMER)
    assert order.paid == Decimal("1235") and order.known_panel_id == 1001
    assert await w.store.balance_of(USER) == Decimal("3765")
    return order


async def resolved(w: World) -> list[UnknownResolved]:
    return [n for n in await w.store.notices() if isinstance(n, UnknownResolved)]


async def test_a_customer_never_decides_an_order_paid_from_their_wallet() -> None:
    w = shop_world()
    order = await paid_and_lost(w)
    w.panel.statuses_of[2000] = status("Pending")
    assert await w.unknown.may_decide(CUSTOMER, order.id) is NotAttached.OPERATOR_DECIDES
    assert await w.unknown.attach(CUSTOMER, order.id, 2000) is NotAttached.OPERATOR_DECIDES
    assert await w.unknown.not_placed(CUSTOMER, order.id) is NotAttached.OPERATOR_DECIDES
    assert await w.unknown.attach(THEM, order.id, 2000) is NotAttached.NO_SUCH_ORDER
    assert await w.store.balance_of(USER) == Decimal("3765")
    assert w.panel.count("status") == 0


async def test_every_check_before_an_admin_attaches() -> None:
    w = shop_world()
    order = await paid_and_lost(w)
    assert await w.unknown.attach(BOSS, order.id, 1001) is NotAttached.TAKEN
    assert await w.unknown.attach(BOSS, order.id, 1000) is NotAttached.OLDER
    assert await w.unknown.attach(BOSS, order.id, 2000) is NotAttached.NOT_ON_PANEL
    # the panel's price of it is 1234.5: 2 % slack and one rupiah more at most
    w.panel.statuses_of[2001] = status("Pending", charge="1261")
    assert await w.unknown.attach(BOSS, order.id, 2001) is NotAttached.CHARGE
    assert await w.unknown.attach(BOSS, 404, 2001) is NotAttached.NO_SUCH_ORDER
    assert (await w.store.orders.get(order.id)).outcome is Outcome.UNKNOWN
    assert await resolved(w) == []


async def test_an_admin_attaches_once_and_its_owner_is_told() -> None:
    w = shop_world()
    order = await paid_and_lost(w)
    w.panel.statuses_of[2002] = status("In progress", charge="1260", remains=50)
    result = await w.unknown.attach(BOSS, order.id, 2002)
    assert isinstance(result, Attached)
    assert result.order.outcome is Outcome.PLACED and result.order.panel_order_id == 2002
    assert result.order.status == "In progress" and result.order.remains == 50
    assert result.order.charge == Decimal("1260") and result.order.error is None
    (notice,) = await resolved(w)
    assert notice.to == USER and notice.panel_id == 2002 and notice.refund is None
    assert await w.store.balance_of(USER) == Decimal("3765")  # delivering: nothing back
    assert await w.unknown.attach(BOSS, order.id, 2003) is NotAttached.NOT_WAITING
    assert await w.unknown.not_placed(BOSS, order.id) is NotAttached.NOT_WAITING
    assert len(await resolved(w)) == 1


async def test_attaching_a_canceled_panel_order_refunds_in_the_same_step() -> None:
    w = shop_world()
    order = await paid_and_lost(w)
    w.panel.statuses_of[2004] = status("Canceled")
    result = await w.unknown.attach(BOSS, order.id, 2004)
    assert isinstance(result, Attached) and result.order.final
    assert result.order.refunded == Decimal("1235")
    assert await w.store.balance_of(USER) == Decimal("5000")
    (notice,) = await resolved(w)
    assert notice.refund == Decimal("1235")


async def test_not_placed_refunds_once_and_tells_the_owner() -> None:
    w = shop_world()
    order = await paid_and_lost(w)
    result = await w.unknown.not_placed(BOSS, order.id)
    assert isinstance(result, Order) and result.outcome is Outcome.NOT_PLACED and result.final
    assert await w.store.balance_of(USER) == Decimal("5000")
    assert await w.unknown.not_placed(BOSS, order.id) is NotAttached.NOT_WAITING
    assert await w.store.balance_of(USER) == Decimal("5000")
    refunds = [e for e in w.store.ledger_of(USER) if e.kind is EntryKind.REFUND]
    assert [(e.amount, e.order_id) for e in refunds] == [(Decimal("1235"), order.id)]
    (notice,) = await resolved(w)
    assert notice.panel_id is None and notice.refund == Decimal("1235")
    assert await w.store.orders.listing(USER) == []  # it leaves the lists


async def test_a_team_member_decides_their_own_order_from_the_panel_balance() -> None:
    w = world([service(1, rate="2")])
    order = await lost(w, MEMBER)
    assert await w.unknown.attach(THEM, order.id, 1500) is NotAttached.NO_SUCH_ORDER
    w.panel.statuses_of[1500] = status("Completed", remains=0, charge="0.2")
    result = await w.unknown.attach(MEMBER, order.id, 1500)
    assert isinstance(result, Attached) and result.order.status == "Completed"
    assert await resolved(w) == []  # they decided it themselves: nothing to tell
    other = await lost(w, MEMBER, "https://instagram.com/p/two")
    marked = await w.unknown.not_placed(MEMBER, other.id)
    assert isinstance(marked, Order) and marked.outcome is Outcome.NOT_PLACED
    assert [o.id for o in await w.store.orders.unfinished_of(USER)] == []


async def test_a_panel_that_cannot_answer_attaches_nothing() -> None:
    w = world([service(1, rate="2")])
    order = await lost(w, MEMBER)
    w.panel.failing["status"] = PanelUnavailable("timeout")
    with pytest.raises(PanelUnavailable):
        await w.unknown.attach(MEMBER, order.id, 1500)
    assert (await w.store.orders.get(order.id)).outcome is Outcome.UNKNOWN


async def test_an_interrupted_submission_is_decided_like_a_lost_answer() -> None:
    w = shop_world()
    await w.shop.adjust(USER, Decimal("5000"), ADMIN, "")
    order = draft(1)
    _, summary = await summarised(w, CUSTOMER, order)
    payment = await w.shop.payment(USER, 1, summary.quote.fields)
    row, _ = await record_intent(w.store, USER, order.key, summary.quote, "IDR", payment)
    assert await w.unknown.attach(BOSS, row.id, 2000) is NotAttached.NOT_WAITING  # under way
    assert await resolve_interrupted(w.store) == 1
    stored = await w.store.orders.get(row.id)
    assert stored is not None and stored.error == "interrupted by a restart"
    assert isinstance(await w.unknown.not_placed(BOSS, row.id), Order)
    assert await w.store.balance_of(USER) == Decimal("5000")


async def test_two_orders_never_get_the_same_panel_order() -> None:
    w = shop_world()
    await w.shop.adjust(USER, Decimal("9000"), ADMIN, "")
    first = await lost(w, CUSTOMER, "https://instagram.com/p/one")
    second = await lost(w, CUSTOMER, "https://instagram.com/p/two")
    w.panel.statuses_of[3000] = status("Pending")
    gate = w.panel.hold["status"] = asyncio.Event()
    slow = asyncio.create_task(w.unknown.attach(BOSS, first.id, 3000))
    await w.panel.arrived("status").wait()
    del w.panel.hold["status"]  # the second admin's answer comes at once
    assert isinstance(await w.unknown.attach(BOSS, second.id, 3000), Attached)
    gate.set()
    assert await slow is NotAttached.TAKEN  # checked again where it is written
    stored = await w.store.orders.get(first.id)
    assert stored is not None and stored.outcome is Outcome.UNKNOWN
    assert len(await resolved(w)) == 1


async def test_an_interrupted_order_is_named_by_its_target_like_every_other_notice() -> None:
    w = world([service(5, type="Subscriptions", rate="1")])
    subscription = w.panel.service_list[0]
    row, _ = await w.store.orders.record_intent(
        intent_key="sub-1",
        user_id=USER,
        service=subscription,
        fields={"username": "dian", "min": "10", "max": "20", "delay": "0"},
        quantity=20,
        price=Decimal("0.02"),
        currency="USD",
        paid=None,
        cost=None,
    )
    assert row.target == "dian"
    await resolve_interrupted(w.store)
    (notice,) = await w.store.notices()
    assert isinstance(notice, Interrupted) and notice.link == row.target
