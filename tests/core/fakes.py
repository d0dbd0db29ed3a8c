"""In-memory fakes of the core's ports (`bot.core.ports`, `bot.core.panel.Panel`): plain dicts
and lists, no SQLite, no HTTP. Each method means what the SQLite adapter's does (an update
"only if still X" answers whether it wrote); `FakeStore.transaction` is a unit of work that
puts everything back when its block raises. `FakePanel` answers what a test scripts and
records every call. `World` wires the use cases over them as `bot.app.build` does."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from bot.core.accounts import Accounts
from bot.core.actor import Actor
from bot.core.api import Balance, OrderStatus, RefillState, RefillStatus, Service
from bot.core.balance import PanelBalance, PanelCurrency
from bot.core.browsing import Browsing
from bot.core.catalog import Catalog
from bot.core.checkout import Checkout, Placed, Summary, UnsavedOutcomes
from bot.core.drafts import OrderDraft
from bot.core.mass_order import MassOrders
from bot.core.my_orders import MyOrders
from bot.core.notices import Notice, decode, encode
from bot.core.order_actions import OrderActions
from bot.core.panel import NotFound, OrderRequest, PanelError, PanelFailure
from bot.core.ports import StorageFailed, StorageLost
from bot.core.records import (
    BatchLine,
    BatchState,
    Check,
    Deposit,
    DepositState,
    DueOrder,
    EntryKind,
    LedgerEntry,
    ListedOrder,
    MassBatch,
    NoticeDetails,
    Order,
    OutboxItem,
    Outcome,
    PlacedCost,
    PromoCode,
    ReferralShare,
    Refill,
    RejectedLine,
    Skipped,
    UserRecord,
    Wallet,
    same_target,
)
from bot.core.shop import Shop, ShopRules
from bot.core.stats import Statistics
from bot.core.tracking import OrderTracking
from bot.core.unknown_outcome import UnknownOutcomes

START = 1_000_000.0


class FakeClock:
    """The injected clock: time moves only when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class _OrderRow:
    order: Order
    next_check_at: float | None = None


@dataclass
class _RefillRow:
    refill: Refill
    seq: int


@dataclass
class _BatchRow:
    batch: MassBatch
    created_at: float


@dataclass(frozen=True, slots=True)
class _PromoUse:
    promo_id: int
    user_id: int
    amount: Decimal
    order_id: int | None
    deposit_id: int | None


@dataclass
class Data:
    """Everything the fake store keeps (copied whole at a transaction's start: put back if
    its block raises)."""

    orders: dict[int, _OrderRow] = field(default_factory=dict)
    refills: dict[int, _RefillRow] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    wallets: dict[int, Wallet] = field(default_factory=dict)
    deposits: dict[int, Deposit] = field(default_factory=dict)
    outbox: dict[int, tuple[int, str, str]] = field(default_factory=dict)
    mass: dict[str, _BatchRow] = field(default_factory=dict)
    users: dict[int, UserRecord] = field(default_factory=dict)
    favourites: dict[int, list[int]] = field(default_factory=dict)
    markups: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    kv: dict[str, str] = field(default_factory=dict)
    service_cache: tuple[float, str] | None = None
    referral_codes: dict[int, str] = field(default_factory=dict)
    referrers: dict[int, int] = field(default_factory=dict)
    referral_shares: dict[int, ReferralShare] = field(default_factory=dict)
    promos: dict[int, PromoCode] = field(default_factory=dict)
    promo_uses: list[_PromoUse] = field(default_factory=list)
    next_id: dict[str, int] = field(default_factory=dict)

    def new_id(self, table: str) -> int:
        self.next_id[table] = self.next_id.get(table, 0) + 1
        return self.next_id[table]


class _Repo:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    @property
    def _data(self) -> Data:
        return self._store.data

    def _now(self) -> float:
        return self._store.clock()

    def _write(self) -> None:
        self._store.before_write()


# -- orders ----------------------------------------------------------------------------------


class FakeOrders(_Repo):
    async def record_intent(
        self,
        *,
        intent_key: str,
        user_id: int,
        service: Service,
        fields: Mapping[str, str],
        quantity: int | None,
        price: Decimal,
        currency: str,
        paid: Decimal | None,
        cost: Decimal | None,
    ) -> tuple[Order, bool]:
        self._write()
        for row in self._data.orders.values():
            if row.order.intent_key == intent_key:
                if row.order.user_id != user_id:
                    raise PermissionError("this intent key belongs to another user")
                return row.order, False
        known = [r.order.panel_order_id for r in self._data.orders.values()]
        known_ids = [i for i in known if i is not None]
        now = self._now()
        order = Order(
            id=self._data.new_id("orders"),
            intent_key=intent_key,
            user_id=user_id,
            panel_order_id=None,
            service_id=service.id,
            service_name=service.name,
            service_type=service.type_raw,
            category=service.category,
            rate=service.rate,
            can_refill=service.refill,
            can_cancel=service.cancel,
            fields=dict(fields),
            quantity=quantity,
            price=price,
            charge=None,
            currency=currency,
            outcome=Outcome.SUBMITTING,
            error=None,
            status=None,
            remains=None,
            start_count=None,
            final=False,
            created_at=now,
            updated_at=now,
            cancel_requested_at=None,
            paid=paid,
            refunded=Decimal(0),
            cost=cost,
            known_panel_id=max(known_ids) if known_ids else None,
        )
        self._data.orders[order.id] = _OrderRow(order)
        return order, True

    def _update(self, row_id: int, **changes: Any) -> None:
        row = self._data.orders[row_id]
        row.order = replace(row.order, updated_at=self._now(), **changes)

    async def set_placed(self, row_id: int, panel_order_id: int) -> None:
        self._write()
        if row_id in self._data.orders:
            self._update(
                row_id, outcome=Outcome.PLACED, panel_order_id=panel_order_id, status="Pending"
            )

    async def set_outcome(self, row_id: int, outcome: Outcome, error: str) -> bool:
        self._write()
        row = self._data.orders.get(row_id)
        if row is None or row.order.outcome is not Outcome.SUBMITTING:
            return False
        self._update(row_id, outcome=outcome, error=error)
        return True

    async def interrupt_submissions(self) -> list[Order]:
        self._write()
        interrupted = []
        for row in self._data.orders.values():
            if row.order.outcome is Outcome.SUBMITTING:
                self._update(
                    row.order.id, outcome=Outcome.UNKNOWN, error="interrupted by a restart"
                )
                interrupted.append(row.order)
        return interrupted

    async def set_not_placed(self, row_id: int) -> bool:
        self._write()
        row = self._data.orders.get(row_id)
        if row is None or row.order.outcome is not Outcome.UNKNOWN:
            return False
        self._update(row_id, outcome=Outcome.NOT_PLACED, final=True)
        return True

    async def attach(self, row_id: int, panel_order_id: int) -> bool:
        self._write()
        row = self._data.orders.get(row_id)
        if row is None or row.order.outcome is not Outcome.UNKNOWN:
            return False
        if any(r.order.panel_order_id == panel_order_id for r in self._data.orders.values()):
            return False
        self._update(
            row_id,
            outcome=Outcome.PLACED,
            panel_order_id=panel_order_id,
            status="Pending",
            error=None,
        )
        return True

    async def add_refunded(self, row_id: int, amount: Decimal) -> None:
        self._write()
        row = self._data.orders.get(row_id)
        if row is not None:
            row.order = replace(row.order, refunded=row.order.refunded + amount)

    async def mark_cancel_requested(self, row_ids: list[int]) -> None:
        self._write()
        now = self._now()
        for row_id in row_ids:
            if row_id in self._data.orders:
                self._update(row_id, cancel_requested_at=now)

    async def store_checks(self, checks: Iterable[Check]) -> None:
        self._write()
        for check in checks:
            row = self._data.orders.get(check.order_id)
            if row is None:
                continue
            status = check.status
            if status is not None:
                self._update(
                    check.order_id,
                    status=status.status_raw,
                    charge=status.charge if status.charge is not None else row.order.charge,
                    remains=status.remains,
                    start_count=status.start_count,
                    final=status.state.is_final,
                )
            row.next_check_at = check.next_check_at

    # -- reads --

    def _rows(self) -> list[Order]:
        return [row.order for row in self._data.orders.values()]

    async def get(self, row_id: int) -> Order | None:
        row = self._data.orders.get(row_id)
        return row.order if row else None

    async def by_intent(self, intent_key: str, user_id: int) -> Order | None:
        return next(
            (o for o in self._rows() if o.intent_key == intent_key and o.user_id == user_id), None
        )

    async def by_intents(self, intent_keys: list[str], user_id: int) -> dict[str, Order]:
        keys = set(intent_keys)
        return {
            o.intent_key: o for o in self._rows() if o.user_id == user_id and o.intent_key in keys
        }

    async def by_ids(self, row_ids: list[int]) -> list[Order]:
        return [self._data.orders[i].order for i in row_ids if i in self._data.orders]

    async def by_panel_ids(self, panel_ids: Iterable[int]) -> dict[int, Order]:
        wanted = set(panel_ids)
        return {
            o.panel_order_id: o
            for o in self._rows()
            if o.panel_order_id is not None and o.panel_order_id in wanted
        }

    async def listing(self, user_id: int) -> list[ListedOrder]:
        mine = [o for o in self._rows() if o.user_id == user_id and o.outcome.is_order]
        return [ListedOrder(o.id, o.final, o.status) for o in sorted(mine, key=lambda o: -o.id)]

    async def active_for(self, user_id: int, target: str) -> list[Order]:
        return [
            o
            for o in sorted(self._rows(), key=lambda o: o.id)
            if o.user_id == user_id
            and not o.final
            and o.outcome.is_order
            and o.target is not None
            and same_target(o.target, target)
        ]

    async def unfinished_of(self, user_id: int) -> list[Order]:
        return [
            o
            for o in sorted(self._rows(), key=lambda o: o.id)
            if o.user_id == user_id and not o.final and o.outcome.is_order
        ]

    async def has_orders(self, user_id: int) -> bool:
        return any(o.user_id == user_id for o in self._rows())

    async def recent_services(self, user_id: int, limit: int) -> list[int]:
        mine = sorted(
            (o for o in self._rows() if o.user_id == user_id and o.outcome.is_order),
            key=lambda o: -o.id,
        )
        return list(dict.fromkeys(o.service_id for o in mine))[:limit]

    async def notice_details(self, row_ids: list[int]) -> dict[int, NoticeDetails]:
        found = {}
        for row_id in row_ids:
            if row_id not in self._data.orders:
                continue
            o = self._data.orders[row_id].order
            paid = str(o.paid) if o.paid is not None else None
            found[row_id] = NoticeDetails(
                o.user_id, o.service_name, paid, o.currency, str(o.price), dict(o.fields)
            )
        return found

    async def due_for_check(self, now: float) -> list[DueOrder]:
        due = []
        for row in self._data.orders.values():
            o = row.order
            if (
                not o.final
                and o.outcome is Outcome.PLACED
                and o.panel_order_id is not None
                and (row.next_check_at is None or row.next_check_at <= now)
            ):
                due.append(
                    DueOrder(o.id, o.panel_order_id, o.status, o.remains, o.quantity, o.created_at)
                )
        return due

    async def placed_costs(self, since: float) -> list[PlacedCost]:
        return [
            PlacedCost(o.created_at, o.cost, o.charge, o.status or "", o.quantity, o.remains)
            for o in self._rows()
            if o.paid is not None
            and o.outcome is Outcome.PLACED
            and o.cost is not None
            and o.created_at >= since
        ]

    async def counts_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self._rows():
            key = o.status or o.outcome.value
            counts[key] = counts.get(key, 0) + 1
        return counts

    async def count_since(self, since: float) -> int:
        return sum(o.created_at >= since for o in self._rows())

    def next_check_at(self, row_id: int) -> float | None:
        """(for tests) when the order is polled next."""
        return self._data.orders[row_id].next_check_at


# -- refills, wallets, deposits, outbox, mass ----------------------------------------------------


class FakeRefills(_Repo):
    async def add(self, panel_refill_id: int, panel_order_id: int, user_id: int) -> None:
        self._write()
        if panel_refill_id in self._data.refills:
            return
        refill = Refill(panel_refill_id, panel_order_id, user_id, "Pending", False)
        self._data.refills[panel_refill_id] = _RefillRow(refill, self._data.new_id("refills"))

    async def get_many(self, refill_ids: Iterable[int]) -> dict[int, Refill]:
        return {i: self._data.refills[i].refill for i in set(refill_ids) if i in self._data.refills}

    async def latest_for(self, panel_order_id: int) -> Refill | None:
        rows = [r for r in self._data.refills.values() if r.refill.panel_order_id == panel_order_id]
        return max(rows, key=lambda r: r.seq).refill if rows else None

    async def active(self) -> list[Refill]:
        return [r.refill for r in self._data.refills.values() if not r.refill.final]

    async def store_statuses(self, statuses: Mapping[int, str]) -> None:
        self._write()
        for refill_id, status in statuses.items():
            row = self._data.refills.get(refill_id)
            if row is not None:
                final = RefillState.parse(status).is_final
                row.refill = replace(row.refill, status=status, final=final)


class FakeWallets(_Repo):
    async def get(self, user_id: int) -> Wallet:
        return self._data.wallets.get(user_id, Wallet(user_id, Decimal(0), Decimal(0)))

    async def post(
        self,
        user_id: int,
        amount: Decimal,
        kind: EntryKind,
        *,
        order_id: int | None = None,
        deposit_id: int | None = None,
        admin_id: int | None = None,
        note: str = "",
    ) -> Decimal:
        self._write()
        assert isinstance(amount, Decimal), f"money must be Decimal, not {type(amount)}"
        wallet = await self.get(user_id)
        balance = wallet.balance + amount
        self._data.ledger.append(
            LedgerEntry(
                self._data.new_id("ledger"),
                user_id,
                amount,
                kind,
                order_id,
                deposit_id,
                admin_id,
                note,
                self._now(),
            )
        )
        self._data.wallets[user_id] = replace(wallet, balance=balance)
        return balance

    async def set_limit(self, user_id: int, limit: Decimal) -> None:
        self._write()
        self._data.wallets[user_id] = replace(await self.get(user_id), credit_limit=limit)

    async def entries(self, user_id: int, offset: int, limit: int) -> tuple[list[LedgerEntry], int]:
        mine = [e for e in reversed(self._data.ledger) if e.user_id == user_id]
        page = mine[offset : offset + limit]
        orders = self._data.orders
        page = [
            replace(
                e,
                panel_order_id=orders[e.order_id].order.panel_order_id
                if e.order_id in orders
                else None,
            )
            for e in page
        ]
        return page, len(mine)

    async def since(self, moment: float) -> list[LedgerEntry]:
        return [e for e in self._data.ledger if e.created_at >= moment]

    async def all(self) -> list[Wallet]:
        return list(self._data.wallets.values())


class FakeDeposits(_Repo):
    async def open(self, user_id: int, amount: Decimal) -> Deposit:
        self._write()
        for deposit_id, d in list(self._data.deposits.items()):
            if d.user_id == user_id and d.state is DepositState.AWAITING_PROOF:
                del self._data.deposits[deposit_id]
        deposit = Deposit(
            self._data.new_id("deposits"),
            user_id,
            amount,
            DepositState.AWAITING_PROOF,
            None,
            None,
            None,
            created_at=self._now(),
        )
        self._data.deposits[deposit.id] = deposit
        return deposit

    def _of(self, user_id: int, state: DepositState) -> list[Deposit]:
        return sorted(
            (d for d in self._data.deposits.values() if d.user_id == user_id and d.state is state),
            key=lambda d: d.id,
        )

    async def awaiting_proof(self, user_id: int) -> Deposit | None:
        waiting = self._of(user_id, DepositState.AWAITING_PROOF)
        return waiting[-1] if waiting else None

    async def drop_awaiting(self, user_id: int) -> bool:
        self._write()
        waiting = self._of(user_id, DepositState.AWAITING_PROOF)
        for d in waiting:
            del self._data.deposits[d.id]
        return bool(waiting)

    async def prove(self, deposit_id: int, kind: str, proof: str, name: str) -> bool:
        self._write()
        d = self._data.deposits.get(deposit_id)
        if d is None or d.state is not DepositState.AWAITING_PROOF:
            return False
        self._data.deposits[deposit_id] = replace(
            d, state=DepositState.PENDING, proof_kind=kind, proof=proof, name=name
        )
        return True

    async def decide(self, deposit_id: int, state: DepositState, admin_id: int) -> bool:
        self._write()
        d = self._data.deposits.get(deposit_id)
        if d is None or d.state is not DepositState.PENDING:
            return False
        self._data.deposits[deposit_id] = replace(d, state=state, decided_by=admin_id)
        return True

    async def get(self, deposit_id: int) -> Deposit | None:
        return self._data.deposits.get(deposit_id)

    async def pending_of(self, user_id: int) -> Deposit | None:
        pending = self._of(user_id, DepositState.PENDING)
        return pending[0] if pending else None

    async def pending(self, limit: int) -> tuple[list[Deposit], int]:
        pending = sorted(
            (d for d in self._data.deposits.values() if d.state is DepositState.PENDING),
            key=lambda d: d.id,
        )
        return pending[:limit], len(pending)


class FakeOutbox(_Repo):
    """Notices kept encoded, as the SQLite outbox keeps them: one its codec cannot carry fails
    here too."""

    async def add(self, notices: Iterable[Notice]) -> None:
        self._write()
        for notice in notices:
            kind, payload = encode(notice)
            self._data.outbox[self._data.new_id("outbox")] = (notice.to, kind, payload)

    async def pending(self, limit: int) -> list[OutboxItem]:
        items = []
        for item_id in sorted(self._data.outbox)[:limit]:
            notice = decode(*self._data.outbox[item_id])
            assert notice is not None, "a notice the codec cannot read back"
            items.append(OutboxItem(item_id, notice))
        return items

    async def remove(self, ids: list[int]) -> None:
        self._write()
        for item_id in ids:
            self._data.outbox.pop(item_id, None)

    async def count(self) -> int:
        return len(self._data.outbox)


class FakeMass(_Repo):
    async def add(
        self, key: str, user_id: int, lines: list[BatchLine], rejected: list[RejectedLine]
    ) -> None:
        self._write()
        for k, row in list(self._data.mass.items()):
            if row.batch.user_id == user_id and row.batch.state is BatchState.PREVIEW:
                del self._data.mass[k]
        batch = MassBatch(
            key, user_id, BatchState.PREVIEW, tuple(lines), None, None, {}, tuple(rejected)
        )
        self._data.mass[key] = _BatchRow(batch, self._now())

    async def start(
        self, key: str, user_id: int, chat_id: int, message_id: int
    ) -> MassBatch | None:
        self._write()
        row = self._data.mass.get(key)
        if row is None or row.batch.user_id != user_id or row.batch.state is not BatchState.PREVIEW:
            return None
        row.batch = replace(
            row.batch, state=BatchState.RUNNING, chat_id=chat_id, message_id=message_id
        )
        return row.batch

    async def drop(self, key: str, user_id: int) -> bool:
        self._write()
        row = self._data.mass.get(key)
        if row is None or row.batch.user_id != user_id or row.batch.state is not BatchState.PREVIEW:
            return False
        del self._data.mass[key]
        return True

    async def skip(self, key: str, number: int, reason: Skipped) -> None:
        self._write()
        row = self._data.mass.get(key)
        if row is not None:
            row.batch = replace(row.batch, skipped={**row.batch.skipped, number: reason})

    async def finish(self, key: str) -> None:
        self._write()
        row = self._data.mass.get(key)
        if row is not None:
            row.batch = replace(row.batch, state=BatchState.DONE)

    async def get(self, key: str, user_id: int) -> MassBatch | None:
        row = self._data.mass.get(key)
        return row.batch if row is not None and row.batch.user_id == user_id else None

    async def running(self) -> list[MassBatch]:
        rows = [r for r in self._data.mass.values() if r.batch.state is BatchState.RUNNING]
        return [r.batch for r in sorted(rows, key=lambda r: r.created_at)]


# -- users, favourites, markups, facts, the service cache, sessions ------------------------------


class FakeUsers(_Repo):
    async def touch(self, user_id: int, telegram_language: str | None = None) -> UserRecord:
        self._write()
        user = self._data.users.get(user_id) or UserRecord(user_id, None, None, True, False)
        user = replace(user, telegram_language=telegram_language, blocked=False)
        self._data.users[user_id] = user
        return user

    async def get(self, user_id: int) -> UserRecord | None:
        return self._data.users.get(user_id)

    async def get_many(self, user_ids: Iterable[int]) -> dict[int, UserRecord]:
        return {i: self._data.users[i] for i in set(user_ids) if i in self._data.users}

    def _set(self, user_id: int, **changes: Any) -> None:
        self._write()
        if user_id in self._data.users:
            self._data.users[user_id] = replace(self._data.users[user_id], **changes)

    async def set_language(self, user_id: int, language: str) -> None:
        self._set(user_id, language=language)

    async def set_notifications(self, user_id: int, enabled: bool) -> None:
        self._set(user_id, notifications=enabled)

    async def mark_blocked(self, user_id: int) -> None:
        self._set(user_id, blocked=True)

    async def count(self) -> int:
        return len(self._data.users)


class FakeFavourites(_Repo):
    async def of(self, user_id: int) -> list[int]:
        return list(self._data.favourites.get(user_id, []))

    async def toggle(self, user_id: int, service_id: int) -> bool:
        self._write()
        starred = self._data.favourites.setdefault(user_id, [])
        if service_id in starred:
            starred.remove(service_id)
            return False
        starred.insert(0, service_id)
        return True


class FakeMarkups(_Repo):
    async def rules(self) -> dict[tuple[str, str], Decimal]:
        return dict(self._data.markups)

    async def set(self, scope: str, key: str, percent: Decimal | None) -> None:
        self._write()
        if percent is None:
            self._data.markups.pop((scope, key), None)
        else:
            self._data.markups[(scope, key)] = percent


class FakeFacts(_Repo):
    async def get(self, key: str) -> str | None:
        return self._data.kv.get(key)

    async def set(self, key: str, value: str) -> None:
        self._write()
        self._data.kv[key] = value

    async def delete(self, key: str) -> None:
        self._write()
        self._data.kv.pop(key, None)


class FakeServiceCache(_Repo):
    async def load(self) -> tuple[float, str] | None:
        return self._data.service_cache

    async def save(self, fetched_at: float, services: list[Service]) -> None:
        payload = json.dumps([s.model_dump(mode="json", by_alias=True) for s in services])
        self._data.service_cache = (fetched_at, payload)


class FakeSessions:
    def __init__(self) -> None:
        self.users: dict[int, str] = {}
        self.states: dict[str, dict[tuple[Any, ...], Any]] = {}

    async def user_data(self) -> dict[int, str]:
        return dict(self.users)

    async def conversations(self, name: str) -> dict[tuple[Any, ...], Any]:
        return dict(self.states.get(name, {}))

    async def save_user_data(self, user_id: int, data: str) -> None:
        self.users[user_id] = data

    async def drop_user_data(self, user_id: int) -> None:
        self.users.pop(user_id, None)

    async def save_conversation(self, name: str, key: tuple[Any, ...], state: Any) -> None:
        self.states.setdefault(name, {})[key] = state


# -- the store and its unit of work --------------------------------------------------------------


# -- referrals and promo codes ------------------------------------------------------------


class FakeReferrals(_Repo):
    async def code_of(self, user_id: int) -> str:
        if user_id not in self._data.referral_codes:
            self._write()
            self._data.referral_codes[user_id] = f"code{user_id}"
        return self._data.referral_codes[user_id]

    async def owner_of(self, code: str) -> int | None:
        return next((u for u, c in self._data.referral_codes.items() if c == code), None)

    async def referrer_of(self, user_id: int) -> int | None:
        return self._data.referrers.get(user_id)

    async def link(self, user_id: int, referrer_id: int) -> bool:
        """Linked once: False when the user has a referrer already."""
        if user_id in self._data.referrers:
            return False
        self._write()
        self._data.referrers[user_id] = referrer_id
        return True

    async def count_referred(self, referrer_id: int) -> int:
        return sum(1 for r in self._data.referrers.values() if r == referrer_id)

    async def open_share(self, order_id: int, referrer_id: int, percent: Decimal) -> None:
        self._write()
        self._data.referral_shares.setdefault(
            order_id, ReferralShare(order_id, referrer_id, percent, Decimal(0))
        )

    async def share(self, order_id: int) -> ReferralShare | None:
        return self._data.referral_shares.get(order_id)

    async def set_paid(self, order_id: int, paid: Decimal) -> None:
        self._write()
        share = self._data.referral_shares.get(order_id)
        if share is not None:
            self._data.referral_shares[order_id] = replace(share, paid=paid)

    async def earned(self, referrer_id: int, since: float) -> Decimal:
        kinds = (EntryKind.REFERRAL, EntryKind.REFERRAL_BACK)
        return sum(
            (
                e.amount
                for e in self._data.ledger
                if e.user_id == referrer_id and e.kind in kinds and e.created_at >= since
            ),
            Decimal(0),
        )


class FakePromos(_Repo):
    def _counted(self, promo: PromoCode) -> PromoCode:
        uses = sum(1 for u in self._data.promo_uses if u.promo_id == promo.id)
        return replace(promo, uses=uses)

    async def create(self, code: PromoCode) -> PromoCode | None:
        if any(p.code == code.code for p in self._data.promos.values()):
            return None
        self._write()
        promo = replace(code, id=self._data.new_id("promos"))
        self._data.promos[promo.id] = promo
        return self._counted(promo)

    async def by_code(self, code: str) -> PromoCode | None:
        found = next((p for p in self._data.promos.values() if p.code == code), None)
        return self._counted(found) if found else None

    async def listing(self) -> list[PromoCode]:
        promos = sorted(self._data.promos.values(), key=lambda p: (not p.active, -p.id))
        return [self._counted(p) for p in promos[:50]]

    async def set_active(self, code: str, active: bool) -> bool:
        found = next((p for p in self._data.promos.values() if p.code == code), None)
        if found is None:
            return False
        self._write()
        self._data.promos[found.id] = replace(found, active=active)
        return True

    async def uses_by(self, promo_id: int, user_id: int) -> int:
        return sum(
            1 for u in self._data.promo_uses if u.promo_id == promo_id and u.user_id == user_id
        )

    async def use(
        self,
        promo_id: int,
        user_id: int,
        amount: Decimal,
        *,
        order_id: int | None = None,
        deposit_id: int | None = None,
    ) -> None:
        uses = self._data.promo_uses
        if (order_id is not None and any(u.order_id == order_id for u in uses)) or (
            deposit_id is not None and any(u.deposit_id == deposit_id for u in uses)
        ):
            raise StorageFailed("UNIQUE constraint failed: promo_uses")
        self._write()
        uses.append(_PromoUse(promo_id, user_id, amount, order_id, deposit_id))

    async def held_for_deposit(self, deposit_id: int) -> tuple[PromoCode, Decimal] | None:
        use = next((u for u in self._data.promo_uses if u.deposit_id == deposit_id), None)
        if use is None:
            return None
        return self._counted(self._data.promos[use.promo_id]), use.amount

    async def release_deposit(self, deposit_id: int) -> None:
        self._write()
        self._data.promo_uses = [u for u in self._data.promo_uses if u.deposit_id != deposit_id]

    async def release_order(self, order_id: int) -> None:
        self._write()
        self._data.promo_uses = [u for u in self._data.promo_uses if u.order_id != order_id]

    async def discount_of(self, order_id: int) -> Decimal:
        use = next((u for u in self._data.promo_uses if u.order_id == order_id), None)
        return use.amount if use else Decimal(0)


class FakeTransaction:
    def __init__(self, store: FakeStore) -> None:
        self.orders = FakeOrders(store)
        self.refills = FakeRefills(store)
        self.wallets = FakeWallets(store)
        self.deposits = FakeDeposits(store)
        self.outbox = FakeOutbox(store)
        self.mass = FakeMass(store)
        self.referrals = FakeReferrals(store)
        self.promos = FakePromos(store)


class FakeStore:
    """`fail`: some of the next writes raise `StorageFailed` (a failing disk); `lost`:
    `check_file` raises `StorageLost`."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.data = Data()
        self._fail_in: int | None = None
        self._failures = 0
        self.lost = False
        self.transactions = 0
        self.rollbacks = 0
        self.users = FakeUsers(self)
        self.orders = FakeOrders(self)
        self.refills = FakeRefills(self)
        self.outbox = FakeOutbox(self)
        self.services = FakeServiceCache(self)
        self.kv = FakeFacts(self)
        self.favourites = FakeFavourites(self)
        self.mass = FakeMass(self)
        self.wallets = FakeWallets(self)
        self.deposits = FakeDeposits(self)
        self.markups = FakeMarkups(self)
        self.sessions = FakeSessions()
        self.referrals = FakeReferrals(self)
        self.promos = FakePromos(self)

    def fail(self, times: int = 1, *, after: int = 0) -> None:
        """The `times` writes that follow the next `after` ones fail."""
        self._fail_in, self._failures = after, times

    def before_write(self) -> None:
        if self._fail_in is None:
            return
        if self._fail_in > 0:
            self._fail_in -= 1
            return
        self._failures -= 1
        if self._failures <= 0:
            self._fail_in = None
        raise StorageFailed("disk I/O error")

    @property
    def path(self) -> str:
        return ":memory:"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeTransaction]:
        self.transactions += 1
        saved = copy.deepcopy(self.data)
        try:
            yield FakeTransaction(self)
        except BaseException:
            self.data = saved
            self.rollbacks += 1
            raise

    def check_file(self) -> None:
        if self.lost:
            raise StorageLost("the database file is gone")

    def give_up(self, reason: str) -> None:
        self.lost = True

    # -- what tests read --

    async def notices(self) -> list[Notice]:
        return [item.notice for item in await self.outbox.pending(10_000)]

    async def deliver_all(self) -> None:
        """The notices waiting so far as sent (a test's setup told, out of the way)."""
        await self.outbox.remove([item.id for item in await self.outbox.pending(10_000)])

    def ledger_of(self, user_id: int) -> list[LedgerEntry]:
        return [e for e in self.data.ledger if e.user_id == user_id]

    async def balance_of(self, user_id: int) -> Decimal:
        return (await self.wallets.get(user_id)).balance


# -- the panel ----------------------------------------------------------------------------------


def status(
    raw: str,
    *,
    remains: int | None = None,
    charge: str | Decimal | None = None,
    start_count: int | None = None,
) -> OrderStatus:
    data: dict[str, Any] = {"status": raw, "remains": remains, "start_count": start_count}
    if charge is not None:
        data["charge"] = str(charge)
    return OrderStatus.parse(data)


class FakePanel:
    """A panel whose answers a test scripts; every call is recorded in `calls`.

    - `add`: the next of `add_answers` (an id, or a `PanelFailure` to raise: a `PanelError`
      is a refusal in the panel's words, `OrderOutcomeUnknown` a lost answer); with none
      scripted, a new id. A placed order answers `status` Pending from then on.
    - `statuses[id]`: what `status`/`statuses` answer (an id not there: `NotFound`).
    - `refill_answers[order id]` / `cancel_answers[order id]`: a `PanelError` for that id
      (else a new refill id / accepted).
    - `refill_states[refill id]`, `balance_answer`, and `failing[call name]`: the whole call
      raises that failure.
    """

    def __init__(
        self,
        services: Iterable[Service] = (),
        *,
        balance: Decimal | str = "1000",
        currency: str = "USD",
    ) -> None:
        self.url = "https://panel.test/api/v2"
        self.last_success = 0.0
        self.failures_in_a_row = 0
        self.service_list = list(services)
        self.add_answers: list[int | PanelFailure] = []
        self.next_order_id = 1000
        self.statuses_of: dict[int, OrderStatus] = {}
        self.refill_answers: dict[int, int | PanelError] = {}
        self.next_refill_id = 500
        self.refill_states: dict[int, RefillStatus] = {}
        self.cancel_answers: dict[int, PanelError] = {}
        self.balance_answer: Balance | PanelFailure = Balance.parse(
            {"balance": str(balance), "currency": currency}
        )
        self.failing: dict[str, PanelFailure] = {}
        self.hold: dict[str, asyncio.Event] = {}
        """A call named here waits for its event before it answers (a slow panel)."""
        self._arrived: dict[str, asyncio.Event] = {}
        self.calls: list[tuple[str, Any]] = []

    def count(self, name: str) -> int:
        return sum(1 for call, _ in self.calls if call == name)

    def sent(self, name: str) -> list[Any]:
        return [args for call, args in self.calls if call == name]

    async def _call(self, name: str, args: Any) -> None:
        self.calls.append((name, args))
        if name in self.hold:
            self.arrived(name).set()
            await self.hold[name].wait()
        failure = self.failing.get(name)
        if failure is not None:
            raise failure

    def arrived(self, name: str) -> asyncio.Event:
        """Set once a held call of this name arrived."""
        return self._arrived.setdefault(name, asyncio.Event())

    def busy_for(self) -> float:
        return 0.0

    async def services(self) -> list[Service]:
        await self._call("services", None)
        return list(self.service_list)

    async def add(self, order: OrderRequest) -> int:
        await self._call("add", order)
        if self.add_answers:
            answer = self.add_answers.pop(0)
            if isinstance(answer, PanelFailure):
                raise answer
            order_id = answer
        else:
            self.next_order_id += 1
            order_id = self.next_order_id
        self.statuses_of.setdefault(order_id, status("Pending"))
        return order_id

    async def status(self, order_id: int) -> OrderStatus:
        await self._call("status", order_id)
        if order_id not in self.statuses_of:
            raise NotFound("Incorrect order ID")
        return self.statuses_of[order_id]

    async def statuses(
        self, ids: Iterable[int], *, patient: bool = False
    ) -> dict[int, OrderStatus | PanelError]:
        ids = list(ids)
        await self._call("statuses", ids)
        return {i: self.statuses_of.get(i) or NotFound("Incorrect order ID") for i in ids}

    async def refills(self, ids: Iterable[int]) -> dict[int, int | PanelError]:
        ids = list(ids)
        await self._call("refills", ids)
        answers: dict[int, int | PanelError] = {}
        for order_id in ids:
            if order_id in self.refill_answers:
                answers[order_id] = self.refill_answers[order_id]
            else:
                self.next_refill_id += 1
                answers[order_id] = self.next_refill_id
                self.refill_states.setdefault(
                    self.next_refill_id, RefillStatus.parse({"status": "Pending"})
                )
        return answers

    async def refill_statuses(self, ids: Iterable[int]) -> dict[int, RefillStatus | PanelError]:
        ids = list(ids)
        await self._call("refill_statuses", ids)
        return {i: self.refill_states.get(i) or NotFound("Refill not found") for i in ids}

    async def cancel(self, ids: Iterable[int]) -> dict[int, PanelError | None]:
        ids = list(ids)
        await self._call("cancel", ids)
        return {i: self.cancel_answers.get(i) for i in ids}

    async def balance(self) -> Balance:
        await self._call("balance", None)
        if isinstance(self.balance_answer, PanelFailure):
            raise self.balance_answer
        return self.balance_answer

    async def aclose(self) -> None:
        self.calls.append(("aclose", None))


def draft(
    service_id: int, link: str = "https://instagram.com/p/abc", quantity: int = 100
) -> OrderDraft:
    return OrderDraft(service_id=service_id, values={"link": link, "quantity": str(quantity)})


async def summarised(w: World, actor: Actor, order: OrderDraft) -> tuple[Service, Summary]:
    """The service as the actor buys it and the draft's summary (its shown price set)."""
    offered = await w.checkout.offered(actor, order.service_id)
    assert isinstance(offered, Service), offered
    summary = await w.checkout.summary(actor, order, offered)
    assert isinstance(summary, Summary), summary
    return offered, summary


async def place(
    w: World,
    actor: Actor,
    service_id: int,
    link: str = "https://instagram.com/p/abc",
    quantity: int = 100,
) -> Order:
    """An order confirmed at its summary's price, as a user would; the stored row."""
    order = draft(service_id, link, quantity)
    offered, _ = await summarised(w, actor, order)
    result = await w.checkout.confirm(actor, order, offered)
    assert isinstance(result, Placed), result
    return result.order


# -- services and the wiring ---------------------------------------------------------------------


def service(
    service_id: int,
    *,
    name: str = "",
    rate: str = "10",
    type: str = "Default",
    category: str = "Instagram Followers",
    min: int = 10,
    max: int = 10_000,
    refill: bool = False,
    cancel: bool = False,
    dripfeed: bool | None = None,
) -> Service:
    return Service.model_validate(
        {
            "service": service_id,
            "name": name or f"Service {service_id}",
            "type": type,
            "category": category,
            "rate": rate,
            "min": min,
            "max": max,
            "refill": refill,
            "cancel": cancel,
            "dripfeed": dripfeed,
        }
    )


ADMIN = 1
USER = 7
OTHER = 8


@dataclass
class World:
    """The use cases over the fakes, wired as `bot.app.build` wires them."""

    clock: FakeClock
    store: FakeStore
    panel: FakePanel
    currency: PanelCurrency
    balance: PanelBalance
    catalog: Catalog
    shop: Shop
    unsaved: UnsavedOutcomes
    tracking: OrderTracking
    actions: OrderActions
    checkout: Checkout
    orders: MyOrders
    unknown: UnknownOutcomes
    mass: MassOrders
    browsing: Browsing
    accounts: Accounts
    stats: Statistics


def world(
    services: Iterable[Service] = (),
    *,
    wallets: bool = False,
    markup: str = "0",
    currency: str = "USD",
    panel_balance: str = "1000",
    deposit_min: str = "10",
    deposit_max: str = "1000000",
    deposit_instructions: str = "Transfer to BCA 123",
    low_balance: Decimal | None = None,
    poll_interval: float = 60.0,
    admins: Iterable[int] = (ADMIN,),
) -> World:
    admins = tuple(admins)
    clock = FakeClock()
    store = FakeStore(clock)
    panel = FakePanel(services, balance=panel_balance, currency=currency)
    code = PanelCurrency(store.kv, currency)
    balance = PanelBalance(panel, code, clock=clock)
    catalog = Catalog(panel, store.services, ttl=10**9, clock=clock)
    rules = ShopRules(
        wallets=wallets,
        admin_ids=frozenset(admins),
        markup_percent=Decimal(markup),
        deposit_min=Decimal(deposit_min),
        deposit_max=Decimal(deposit_max),
        deposit_instructions=deposit_instructions,
    )
    shop = Shop(rules, store, catalog, code, balance, clock)
    unsaved = UnsavedOutcomes(store)
    tracking = OrderTracking(
        store,
        panel,
        balance,
        poll_interval=poll_interval,
        low_balance=low_balance,
        admin_ids=sorted(admins),
        clock=clock,
    )
    actions = OrderActions(store, panel, tracking, clock)
    return World(
        clock=clock,
        store=store,
        panel=panel,
        currency=code,
        balance=balance,
        catalog=catalog,
        shop=shop,
        unsaved=unsaved,
        tracking=tracking,
        actions=actions,
        checkout=Checkout(store, panel, shop, balance, code, unsaved),
        orders=MyOrders(store, tracking, actions),
        unknown=UnknownOutcomes(store, panel, poll_interval, clock),
        mass=MassOrders(store, panel, shop, code, unsaved),
        browsing=Browsing(store, shop),
        accounts=Accounts(store),
        stats=Statistics(store, panel, shop, clock),
    )
