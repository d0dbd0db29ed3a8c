"""Statistics over the fakes: users, today's orders (UTC), orders by status, the panel's
health, the outbox, and in shop mode the money of today, 7 and 30 days, exact."""

from __future__ import annotations

from decimal import Decimal

from bot.core.actor import Actor
from bot.core.panel import PanelError
from bot.core.records import DAY, EntryKind
from tests.core.fakes import ADMIN, OTHER, USER, place, service, status, world

CUSTOMER = Actor(USER, pays_from_wallet=True)


async def test_counts_and_the_panels_health() -> None:
    w = world([service(1, rate="2")])
    await w.accounts.seen(USER, "en")
    await w.accounts.seen(OTHER, None)
    await w.accounts.seen(USER, "en")
    old = await place(w, Actor(USER), 1, "https://instagram.com/p/old")
    w.clock.advance(DAY)
    await place(w, Actor(USER), 1, "https://instagram.com/p/new")
    w.panel.add_answers = [PanelError("Link is private")]
    await place(w, Actor(OTHER), 1, "https://instagram.com/p/refused")
    w.panel.statuses_of[old.panel_order_id] = status("Completed", remains=0)
    await w.tracking.poll()
    w.panel.last_success, w.panel.failures_in_a_row = w.clock() - 5, 2
    stats = await w.stats.now()
    assert stats.users == 2
    assert stats.orders_since == 2  # today's (UTC), a refused attempt too
    assert stats.by_status == {"Completed": 1, "Pending": 1, "rejected": 1}
    assert stats.panel_last_success == w.clock() - 5 and stats.panel_failures == 2
    assert stats.outbox == 1  # the Completed notice waits to be sent
    assert stats.money == []  # not in shop mode


async def test_the_money_of_each_period_exactly() -> None:
    w = world([service(1, rate="12345")], wallets=True, currency="IDR", panel_balance="10000000")
    await w.shop.adjust(USER, Decimal("1000"), ADMIN, "long ago")
    w.clock.advance(10 * DAY)
    await w.shop.adjust(USER, Decimal("5000"), ADMIN, "")
    done = await place(w, CUSTOMER, 1, "https://instagram.com/p/a")
    canceled = await place(w, CUSTOMER, 1, "https://instagram.com/p/b")
    w.panel.statuses_of[done.panel_order_id] = status("Completed", remains=0, charge="1234.5")
    w.panel.statuses_of[canceled.panel_order_id] = status("Canceled")
    await w.tracking.poll()
    today, week, month = (await w.stats.now()).money
    assert today.of(EntryKind.CREDIT) == Decimal("5000")
    assert today.of(EntryKind.DEBIT_ORDER) == Decimal("2470")  # two orders of 1235
    assert today.of(EntryKind.REFUND) == Decimal("1235")
    assert today.panel_cost == Decimal("1234.5")  # the canceled one cost the shop nothing
    assert today.profit == Decimal("0.5") and isinstance(today.profit, Decimal)
    assert today.net == Decimal("3765")
    assert week == today
    assert month.of(EntryKind.CREDIT) == Decimal("6000")
