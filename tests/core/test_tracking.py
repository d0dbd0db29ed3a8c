"""OrderTracking over the fakes: a status change stored with its typed notice and the wallet
refund it causes (exact, pro rata for a partial), once; refills followed; the panel's
outages, a refused key, a low balance and a lost database told to admins once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.actor import Actor
from bot.core.api import Balance, RefillStatus
from bot.core.notices import (
    BadKeyAlert,
    LowBalance,
    OrderChanged,
    PanelDown,
    PanelUp,
    RefillChanged,
    StorageLostAlert,
)
from bot.core.panel import BadKey, OrderOutcomeUnknown, PanelBusy, PanelUnavailable
from bot.core.ports import StorageFailed
from bot.core.records import DAY, EntryKind, Order
from bot.core.tracking import PANEL_DOWN_ALERT
from tests.core.fakes import ADMIN, USER, World, place, service, status, world

CUSTOMER = Actor(USER, pays_from_wallet=True)
MEMBER = Actor(USER)


def shop_world(**options: object) -> World:
    return world(
        [service(1, rate="12345", refill=True)],
        wallets=True,
        currency="IDR",
        panel_balance="1000000",
        **options,
    )


async def wallet_order(w: World, link: str = "https://instagram.com/p/abc") -> Order:
    await w.shop.adjust(USER, Decimal("5000"), ADMIN, "")
    await w.store.deliver_all()  # the customer's "operator added" notice
    order = await place(w, CUSTOMER, 1, link)
    assert order.paid == Decimal("1235") and order.quantity == 100
    return order


async def changes(w: World) -> list[OrderChanged]:
    return [n for n in await w.store.notices() if isinstance(n, OrderChanged)]


async def test_a_canceled_wallet_order_is_refunded_in_full_once_with_its_notice() -> None:
    w = shop_world()
    order = await wallet_order(w)
    w.panel.statuses_of[order.panel_order_id] = status("Canceled", charge="0")
    report = await w.tracking.poll()
    assert report.orders == 1 and report.changes == 1 and report.panel_ok
    (notice,) = await changes(w)
    assert notice.to == USER and notice.order == order.id and notice.panel_id == 1001
    assert (notice.old, notice.new) == ("Pending", "Canceled")
    assert notice.wallet and notice.refund == Decimal("1235") and notice.charge is None
    assert notice.link == "https://instagram.com/p/abc"
    assert await w.store.balance_of(USER) == Decimal("5000")
    await w.tracking.poll()  # final: not polled again
    assert await w.store.balance_of(USER) == Decimal("5000") and len(await changes(w)) == 1
    refunds = [e for e in w.store.ledger_of(USER) if e.kind is EntryKind.REFUND]
    assert [(e.amount, e.order_id) for e in refunds] == [(Decimal("1235"), order.id)]


async def test_a_partial_refunds_the_share_not_delivered_rounded_down() -> None:
    w = shop_world()
    order = await wallet_order(w)
    w.panel.statuses_of[order.panel_order_id] = status("Partial", remains=37)
    await w.tracking.poll()
    (notice,) = await changes(w)
    # 1235 x 37 / 100 = 456.95: whole rupiah, never more than owed
    assert notice.refund == Decimal("456") and isinstance(notice.refund, Decimal)
    stored = await w.store.orders.get(order.id)
    assert stored is not None and stored.refunded == Decimal("456") and stored.final
    assert await w.store.balance_of(USER) == Decimal("5000") - Decimal("1235") + Decimal("456")


async def test_a_status_the_user_looked_at_refunds_without_a_notice_and_only_once() -> None:
    w = shop_world()
    order = await wallet_order(w)
    w.panel.statuses_of[order.panel_order_id] = status("Refunded")
    refreshed = await w.tracking.refresh(order)
    assert refreshed.refunded == Decimal("1235")
    await w.tracking.record(refreshed, status("Refunded"))
    await w.tracking.poll()
    assert await w.store.notices() == []
    assert await w.store.balance_of(USER) == Decimal("5000")


async def test_an_order_from_the_panel_balance_tells_what_the_panel_gives_back() -> None:
    w = world([service(1, rate="2")])
    order = await place(w, MEMBER, 1)
    w.panel.statuses_of[order.panel_order_id] = status("Partial", remains=25, charge="0.2")
    await w.tracking.poll()
    (notice,) = await changes(w)
    assert not notice.wallet and notice.refund is None
    assert notice.charge == Decimal("0.2") and notice.panel_refund == Decimal("0.05")
    assert w.store.ledger_of(USER) == []


async def test_progress_is_told_every_quarter_and_unchanged_orders_not_at_all() -> None:
    w = world([service(1, rate="2")])
    order = await place(w, MEMBER, 1)
    panel_id = order.panel_order_id
    assert panel_id is not None
    await w.tracking.poll()
    assert await changes(w) == []  # still Pending
    w.panel.statuses_of[panel_id] = status("In progress", remains=70)
    await w.tracking.poll()
    w.panel.statuses_of[panel_id] = status("In progress", remains=60)  # 40 %: same quarter
    await w.tracking.poll()
    w.panel.statuses_of[panel_id] = status("In progress", remains=45)  # 55 %: the next one
    await w.tracking.poll()
    told = await changes(w)
    assert [(n.old, n.new, n.remains) for n in told] == [
        ("Pending", "In progress", 70),
        ("In progress", "In progress", 45),
    ]
    assert (await w.store.orders.get(order.id)).remains == 45


async def test_old_orders_are_polled_less_often() -> None:
    w = world([service(1, rate="2")], poll_interval=60)
    order = await place(w, MEMBER, 1)
    w.clock.advance(2 * DAY)
    await w.tracking.poll()
    assert w.store.orders.next_check_at(order.id) == w.clock() + 5 * 60
    assert w.panel.count("statuses") == 1
    w.clock.advance(60)
    await w.tracking.poll()
    assert w.panel.count("statuses") == 1  # not due yet
    w.clock.advance(4 * 60)
    await w.tracking.poll()
    assert w.panel.count("statuses") == 2


async def test_a_status_its_notice_and_its_refund_are_one_unit_of_work() -> None:
    w = shop_world()
    order = await wallet_order(w)
    w.panel.statuses_of[order.panel_order_id] = status("Canceled")
    w.store.fail(after=3)  # status, refunded, ledger written; the notice fails
    with pytest.raises(StorageFailed):
        await w.tracking.poll()
    assert await w.store.balance_of(USER) == Decimal("3765")  # all of it rolled back
    assert (await w.store.orders.get(order.id)).status == "Pending"
    await w.tracking.poll()
    assert await w.store.balance_of(USER) == Decimal("5000") and len(await changes(w)) == 1


async def test_refills_are_followed_and_their_changes_told_once() -> None:
    w = world([service(1, rate="2", refill=True)])
    order = await place(w, MEMBER, 1)
    panel_id = order.panel_order_id
    assert panel_id is not None
    w.panel.statuses_of[panel_id] = status("Completed", remains=0)
    refill_id = (await w.actions.refill_orders(MEMBER, [panel_id]))[panel_id]
    assert isinstance(refill_id, int)
    await w.tracking.poll()
    assert [n for n in await w.store.notices() if isinstance(n, RefillChanged)] == []
    w.panel.refill_states[refill_id] = RefillStatus.parse({"status": "Completed"})
    report = await w.tracking.poll()
    assert report.refills == 1
    refills = [n for n in await w.store.notices() if isinstance(n, RefillChanged)]
    assert refills == [
        RefillChanged(
            USER,
            refill=refill_id,
            panel_id=panel_id,
            order=order.id,
            old="Pending",
            new="Completed",
        )
    ]
    await w.tracking.poll()
    assert w.panel.count("refill_statuses") == 2  # final: no longer asked


async def test_an_outage_is_told_once_past_its_threshold_and_its_end_once() -> None:
    w = world([service(1, rate="2")], poll_interval=60)
    await place(w, MEMBER, 1)
    w.panel.failing["statuses"] = PanelUnavailable("timeout")
    report = await w.tracking.poll()
    assert not report.panel_ok
    w.clock.advance(30)
    await w.tracking.poll()  # backing off: not even asked
    assert w.panel.count("statuses") == 1
    w.clock.advance(PANEL_DOWN_ALERT)
    await w.tracking.poll()
    w.clock.advance(PANEL_DOWN_ALERT)
    await w.tracking.poll()
    alerts = await w.store.notices()
    assert [type(n) for n in alerts] == [PanelDown] and alerts[0].to == ADMIN
    del w.panel.failing["statuses"]
    w.clock.advance(3600)
    assert (await w.tracking.poll()).panel_ok
    await w.tracking.poll()
    assert [type(n) for n in await w.store.notices()] == [PanelDown, PanelUp]


async def test_a_rate_limited_panel_is_left_alone_for_its_window() -> None:
    w = world([service(1, rate="2")])
    await place(w, MEMBER, 1)
    w.panel.failing["statuses"] = PanelBusy(120)
    assert (await w.tracking.poll()).panel_ok
    del w.panel.failing["statuses"]
    w.clock.advance(60)
    await w.tracking.poll()
    assert w.panel.count("statuses") == 1
    w.clock.advance(61)
    await w.tracking.poll()
    assert w.panel.count("statuses") == 2 and await w.store.notices() == []


async def test_a_refused_key_is_told_once() -> None:
    w = world([service(1, rate="2")])
    w.panel.balance_answer = BadKey("Invalid API key")
    await w.tracking.poll()
    w.clock.advance(3600)
    await w.tracking.poll()
    assert await w.store.notices() == [BadKeyAlert(ADMIN, message="Invalid API key")]
    w.panel.balance_answer = Balance.parse({"balance": "5"})
    w.clock.advance(3600)
    await w.tracking.poll()
    assert [type(n) for n in await w.store.notices()] == [BadKeyAlert, PanelUp]


async def test_a_low_balance_is_told_once_until_it_recovers() -> None:
    w = world([service(1, rate="2")], low_balance=Decimal("50"), panel_balance="20")
    await w.tracking.poll()
    w.clock.advance(60)
    await w.tracking.poll()
    (alert,) = await w.store.notices()
    assert alert == LowBalance(
        ADMIN, balance=Decimal("20"), currency="USD", threshold=Decimal("50")
    )
    assert await w.store.kv.get("low_balance_alerted") == "1"
    w.panel.balance_answer = Balance.parse({"balance": "80"})
    w.clock.advance(60)
    await w.tracking.poll()
    assert await w.store.kv.get("low_balance_alerted") is None


async def test_a_lost_database_is_told_once() -> None:
    w = world([service(1, rate="2")])
    w.store.lost = True
    await w.tracking.poll()
    await w.tracking.poll()
    assert await w.store.notices() == [StorageLostAlert(ADMIN, path=":memory:")]


async def test_only_placed_orders_are_polled_and_an_id_the_panel_forgot_changes_nothing() -> None:
    w = world([service(1, rate="2")])
    w.panel.add_answers = [OrderOutcomeUnknown("timeout")]
    await place(w, MEMBER, 1, "https://instagram.com/p/unknown")
    forgotten = await place(w, MEMBER, 1, "https://instagram.com/p/forgotten")
    del w.panel.statuses_of[forgotten.panel_order_id]
    report = await w.tracking.poll()
    assert report.orders == 1 and report.changes == 0 and report.panel_ok
    assert w.panel.sent("statuses") == [[forgotten.panel_order_id]]
    assert await w.store.orders.get(forgotten.id) == forgotten
    assert await w.store.notices() == []
