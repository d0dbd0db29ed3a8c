"""Order tracking without Telegram: polls unfinished orders and refills and stores what changed.

A poll:
1. polls the due orders with bulk status calls (ceil(N / 100) calls for N orders) and the
   unfinished refills with bulk refill_status calls;
2. stores every new state together with the notification it causes, in one transaction
   (the outbox), so a restart can neither lose nor repeat an announcement.
Sending the outbox is the job's (`bot.telegram.jobs.tracker`).

A notification is sent on every change of status, and while an order runs, each time its
delivered share passes another 25 % (`PROGRESS_STEP`). Orders unfinished for long are polled
less often (`poll_delay`). While the panel is unreachable the tracker backs off (capped
exponential) and tells the admins once when the outage passes `PANEL_DOWN_ALERT` seconds,
and once when the panel is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from bot.core.api import OrderState, OrderStatus, RefillStatus
from bot.core.balance import PanelBalance
from bot.core.money import REFUND_ALL, panel_refund
from bot.core.notices import (
    BadKeyAlert,
    LowBalance,
    Notice,
    OrderChanged,
    PanelDown,
    PanelUp,
    RefillChanged,
    StorageLostAlert,
)
from bot.core.panel import BadKey, Panel, PanelBusy, PanelFailure
from bot.core.ports import StorageLost, Store
from bot.core.records import Check, DueOrder, NoticeDetails, Order, drip_runs, target_of
from bot.core.settlement import give_back

log = logging.getLogger(__name__)


PROGRESS_STEP = 25
MAX_BACKOFF = 1800.0
PANEL_DOWN_ALERT = 300.0
POLL_SLICE = 5000
"""Orders polled and stored together: bounds the memory of a cycle over many orders."""
DAY = 86_400.0


def poll_delay(age: float, interval: float) -> float | None:
    """How long until an order of this age is polled again: every cycle (None) for its first
    day, every 5 cycles until day 3, every 30 until day 7, then every 60 (at most 6 hours)."""
    if age < DAY:
        return None
    if age < 3 * DAY:
        factor = 5
    elif age < 7 * DAY:
        factor = 30
    else:
        factor = 60
    return min(interval * factor, 6 * 3600.0)


def progress_step(quantity: int | None, remains: int | None) -> int:
    if not quantity or remains is None:
        return 0
    done = max(0, quantity - remains)
    return min(100, 100 * done // quantity) // PROGRESS_STEP


def is_news(order: DueOrder, status: OrderStatus) -> bool:
    """A change worth telling: a new status, or progress past another step (none while the
    order is pending: nothing is delivered yet, whatever its remains say)."""
    old = order.status or ""
    if status.state is not OrderState.parse(old) or (
        status.state is OrderState.UNKNOWN and status.status_raw != old
    ):
        return True
    if status.state is OrderState.PENDING:
        return False
    return progress_step(order.quantity, status.remains) > progress_step(
        order.quantity, order.remains
    )


def order_notice(order: DueOrder, about: NoticeDetails, status: OrderStatus) -> OrderChanged:
    """`about.fields` give its link (or username: the user tells their orders apart by it)
    and its runs (a drip-feed's quantity reads "500 × 5 runs"). An order from the panel
    balance tells what the panel gives back to it; a wallet's refund is added where it is
    given (`store_checks`)."""
    from_panel = about.paid is None
    back = (
        panel_refund(
            Decimal(about.price), status.charge, order.quantity, status.state, status.remains
        )
        if from_panel
        else Decimal(0)
    )
    return OrderChanged(
        about.user_id,
        order=order.id,
        panel_id=order.panel_order_id,
        service=about.service_name,
        link=target_of(about.fields),
        runs=drip_runs(about.fields),
        old=order.status,
        new=status.status_raw,
        quantity=order.quantity,
        remains=status.remains,
        charge=status.charge if from_panel else None,
        panel_refund=back or None,
        currency=about.currency,
        wallet=not from_panel,
    )


async def store_checks(store: Store, checks: list[Check], news: list[OrderChanged]) -> None:
    """Statuses and their notices in one transaction, with what each status gives back to a
    wallet (its notice says how much): a restart neither loses nor repeats either."""
    settling = [
        c
        for c in checks
        if c.status is not None
        and (c.status.state in REFUND_ALL or c.status.state is OrderState.PARTIAL)
    ]
    async with store.transaction() as tx:
        await tx.orders.store_checks(checks)
        refunds: dict[int, Decimal] = {}
        if settling:
            orders = {o.id: o for o in await tx.orders.by_ids([c.order_id for c in settling])}
            for check in settling:
                order = orders.get(check.order_id)
                if order is not None and check.status is not None:
                    refunds[order.id] = await give_back(
                        tx, order, check.status.state, check.status.remains
                    )
        await tx.outbox.add(
            replace(notice, refund=refunds[notice.order]) if refunds.get(notice.order) else notice
            for notice in news
        )


@dataclass(slots=True)
class CycleReport:
    started: float
    duration: float = 0.0
    orders: int = 0
    refills: int = 0
    changes: int = 0
    sent: int = 0
    panel_ok: bool = True


class OrderTracking:
    def __init__(
        self,
        store: Store,
        panel: Panel,
        balance: PanelBalance,
        *,
        poll_interval: float,
        low_balance: Decimal | None,
        admin_ids: Iterable[int],
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._panel = panel
        self._balance = balance
        self._interval = poll_interval
        self._low_balance = low_balance
        self._admins = sorted(admin_ids)
        self._clock = clock
        self._failures = 0
        self._next_attempt = 0.0
        self._storage_alerted = False

    async def record(self, order: Order, status: OrderStatus) -> Order:
        """Store a status a user just looked at (no notification: they have seen it; a
        wallet's refund it causes is given all the same)."""
        if order.panel_order_id is None:
            return order
        await store_checks(self._store, [self.check(order, status)], [])
        updated = await self._store.orders.get(order.id)
        return updated or order

    def check(self, order: Order, status: OrderStatus) -> Check:
        """The status seen now, and when the order is polled next."""
        delay = poll_delay(self._clock() - order.created_at, self._interval)
        return Check(order.id, status, None if delay is None else self._clock() + delay)

    async def refresh(self, order: Order) -> Order:
        """One order's status asked again and stored. Raises `PanelFailure`."""
        if order.panel_order_id is None:
            return order
        return await self.record(order, await self._panel.status(order.panel_order_id))

    async def poll(self) -> CycleReport:
        """Poll the panel and store what changed, with its notifications (not sent here)."""
        await self._check_storage()
        now = self._clock()
        report = CycleReport(started=now)
        if now < self._next_attempt:
            return report
        try:
            await self._poll_orders(now, report)
            await self._poll_refills(report)
            await self._check_balance()
        except PanelBusy as exc:
            # The panel is up and asks for quiet: the next cycle after its window.
            self._next_attempt = now + exc.retry_after
            log.info("tracker: the panel limits requests; next cycle in %.0f s", exc.retry_after)
        except BadKey as exc:
            report.panel_ok = False
            await self._key_refused(now, exc)
        except PanelFailure as exc:
            report.panel_ok = False
            await self._panel_failed(now, exc)
        else:
            await self._panel_ok()
        return report

    async def _poll_orders(self, now: float, report: CycleReport) -> None:
        """Poll the due orders a slice at a time, each slice stored with its notifications."""
        store = self._store
        due = await store.orders.due_for_check(now)
        report.orders = len(due)
        interval = self._interval
        for start in range(0, len(due), POLL_SLICE):
            part = due[start : start + POLL_SLICE]
            statuses = await self._panel.statuses((o.panel_order_id for o in part), patient=True)
            checks: list[Check] = []
            news: list[tuple[DueOrder, OrderStatus]] = []
            for order in part:
                status = statuses.get(order.panel_order_id)
                delay = poll_delay(now - order.created_at, interval)
                next_check = None if delay is None else now + delay
                if isinstance(status, OrderStatus) and (
                    status.status_raw != order.status or status.remains != order.remains
                ):
                    checks.append(Check(order.id, status, next_check))
                    if is_news(order, status):
                        news.append((order, status))
                elif next_check is not None:
                    checks.append(Check(order.id, None, next_check))
                # An unchanged order polled every cycle keeps its schedule: nothing to store.
            about = await store.orders.notice_details([o.id for o, _ in news]) if news else {}
            notices = [order_notice(o, about[o.id], s) for o, s in news if o.id in about]
            await store_checks(store, checks, notices)
            report.changes += len(notices)

    async def _poll_refills(self, report: CycleReport) -> None:
        store = self._store
        active = {r.panel_refill_id: r for r in await store.refills.active()}
        report.refills = len(active)
        if not active:
            return
        results = await self._panel.refill_statuses(active)
        changed = {
            refill_id: result.status_raw
            for refill_id, result in results.items()
            if isinstance(result, RefillStatus) and result.status_raw != active[refill_id].status
        }
        orders = await store.orders.by_panel_ids(
            {active[refill_id].panel_order_id for refill_id in changed}
        )
        notices = []
        for refill_id, new in changed.items():
            refill = active[refill_id]
            order = orders.get(refill.panel_order_id)
            notices.append(
                RefillChanged(
                    refill.user_id,
                    refill=refill_id,
                    panel_id=refill.panel_order_id,
                    order=order.id if order else None,
                    old=refill.status,
                    new=new,
                )
            )
        if changed:
            async with store.transaction() as tx:
                await tx.refills.store_statuses(changed)
                await tx.outbox.add(notices)
            report.changes += len(notices)

    async def _check_balance(self) -> None:
        """Asked every cycle, with or without LOW_BALANCE: a refused key or a panel that is
        down is noticed with no order to follow too."""
        balance = await self._balance.get()
        threshold = self._low_balance
        if threshold is None:
            return
        kv = self._store.kv
        alerted = await kv.get("low_balance_alerted")
        if balance.amount < threshold and not alerted:
            await self._alert_admins(
                lambda admin: LowBalance(
                    admin, balance=balance.amount, currency=balance.currency, threshold=threshold
                )
            )
            await kv.set("low_balance_alerted", "1")
        elif balance.amount >= threshold and alerted:
            await kv.delete("low_balance_alerted")

    def _back_off(self, now: float) -> float:
        self._failures += 1
        interval = self._interval
        delay = min(MAX_BACKOFF, interval * 2 ** (self._failures - 1))
        self._next_attempt = now + delay
        return delay

    async def _key_refused(self, now: float, exc: BadKey) -> None:
        """The panel is up but refuses the key: one alert saying so, not the outage alert."""
        delay = self._back_off(now)
        log.warning("tracker: the panel refuses the API key (%s); next try in %.0f s", exc, delay)
        kv = self._store.kv
        if not await kv.get("bad_key_alerted"):
            await self._alert_admins(lambda admin: BadKeyAlert(admin, message=exc.message))
            await kv.set("bad_key_alerted", "1")

    async def _panel_failed(self, now: float, exc: PanelFailure) -> None:
        delay = self._back_off(now)
        log.warning("tracker: panel unavailable (%s); next try in %.0f s", exc, delay)
        kv = self._store.kv
        since = await kv.get("panel_down_since")
        if since is None:
            await kv.set("panel_down_since", repr(now))
        elif now - float(since) >= PANEL_DOWN_ALERT and not await kv.get("panel_down_alerted"):
            await self._alert_admins(
                lambda admin: PanelDown(admin, since=float(since), reason=str(exc))
            )
            await kv.set("panel_down_alerted", "1")

    async def _panel_ok(self) -> None:
        self._failures = 0
        self._next_attempt = 0.0
        kv = self._store.kv
        if await kv.get("bad_key_alerted"):
            await self._alert_admins(PanelUp)
            await kv.delete("bad_key_alerted")
        if await kv.get("panel_down_since") is None:
            return
        if await kv.get("panel_down_alerted"):
            await self._alert_admins(PanelUp)
        await kv.delete("panel_down_since")
        await kv.delete("panel_down_alerted")

    async def _check_storage(self) -> None:
        """The database file pulled away under the running bot: admins are told once (the
        orders themselves are refused by the store)."""
        try:
            self._store.check_file()
        except StorageLost as exc:
            log.error("%s: new orders are refused until the bot is restarted", exc)
            if not self._storage_alerted:
                self._storage_alerted = True
                path = self._store.path
                await self._alert_admins(lambda admin: StorageLostAlert(admin, path=path))

    async def _alert_admins(self, alert: Callable[[int], Notice]) -> None:
        """One alert to each admin (each told on their own, not done when one has it)."""
        await self._store.outbox.add([alert(admin) for admin in self._admins])
