"""Shop mode's money: a stateful property test of the ledger through the core's use cases on
the real store (top-ups approved twice, orders, refusals, unknown outcomes and their
resolution, statuses repeated and hostile, restarts), and the refund rule."""

from __future__ import annotations

import asyncio
import tempfile
import time
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from bot.adapters.sqlite.store import SqliteStore
from bot.core.actor import Actor
from bot.core.api import OrderState, OrderStatus, Service
from bot.core.balance import PanelCurrency
from bot.core.checkout import end_submission, record_intent
from bot.core.drafts import Quote
from bot.core.money import (
    InsufficientFunds,
    WalletPayment,
    money_since,
    placed_cost,
    refund_due,
    round_up,
    with_markup,
    wrong_sign,
)
from bot.core.notices import DepositDecided, OrderChanged
from bot.core.records import Check, Deposit, EntryKind, Outcome
from bot.core.shop import Shop, ShopRules
from bot.core.tracking import store_checks
from bot.core.unknown_outcome import UnknownOutcomes

USERS = (11, 12, 13)
QUANTITY = 1000
SERVICE = Service.model_validate(
    {"service": 1, "name": "S", "type": "Default", "rate": "1", "min": 1, "max": 100000}
)
STATES = ("In progress", "Completed", "Partial", "Canceled", "Refunded", "Fail", "Error")
UNIT = Decimal(1)  # IDR


def test_sale_prices_round_up_to_whole_rupiah() -> None:
    assert round_up(with_markup(Decimal("1250.25"), Decimal(0)), UNIT) == Decimal(1251)
    assert round_up(with_markup(Decimal(15000), Decimal(25)), UNIT) == Decimal(18750)
    assert round_up(with_markup(Decimal("0.27819"), Decimal(10)), Decimal("0.01")) == Decimal(
        "0.31"
    )


def test_refunds_are_whole_for_cancel_and_pro_rata_rounded_down_for_partial() -> None:
    paid = Decimal(18751)
    for state in (OrderState.CANCELED, OrderState.REFUNDED, OrderState.FAIL, OrderState.ERROR):
        assert refund_due(paid, Decimal(0), 1000, state, 1000, UNIT) == paid
    partial = OrderState.PARTIAL
    assert refund_due(paid, Decimal(0), 1000, partial, 333, UNIT) == Decimal(6244)  # 6244.08
    assert refund_due(paid, Decimal(6244), 1000, partial, 333, UNIT) == 0  # never twice
    assert refund_due(paid, Decimal(0), 1000, partial, -5, UNIT) == 0  # over-delivered
    assert refund_due(paid, Decimal(0), 1000, partial, 5000, UNIT) == paid  # never above paid
    assert refund_due(paid, Decimal(6244), 1000, OrderState.REFUNDED, 0, UNIT) == paid - 6244
    assert refund_due(paid, Decimal(0), 1000, OrderState.COMPLETED, 0, UNIT) == 0


FIELDS = {"link": "https://x.com/a", "quantity": str(QUANTITY)}


ADMIN = Actor(1, is_admin=True)


class _PendingPanel:
    """A panel that knows every order, as pending (what an admin's "It was placed" reads)."""

    async def status(self, order_id: int) -> OrderStatus:
        return OrderStatus(status="Pending")


class Ledger(RuleBasedStateMachine):
    """The model: what each wallet should hold, what each order paid and got back, computed
    here independently of the bot's code."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.directory = tempfile.TemporaryDirectory()
        self.path = str(Path(self.directory.name) / "bot.db")
        self._open()
        self.balance = {user: Decimal(0) for user in USERS}
        self.limit = {user: Decimal(0) for user in USERS}
        self.paid: dict[int, Decimal] = {}
        self.refunded: dict[int, Decimal] = {}
        self.user_of: dict[int, int] = {}
        self.final: set[int] = set()
        self.keys = 0
        self.by_kind = {kind: Decimal(0) for kind in EntryKind}
        """The model's money by kind of entry, each as a positive figure."""
        self.cost: dict[int, Decimal] = {}

    def _open(self) -> None:
        """The store, and the use cases that move money, as the bot builds them."""
        self.store = SqliteStore(self.path)
        self.run(self.store.open())
        rules = ShopRules(True, frozenset({1}), Decimal(0), Decimal(0), Decimal(10**9), "pay")
        currency = PanelCurrency(self.store.kv, "IDR")
        self.shop = Shop(rules, self.store, None, currency, None)  # type: ignore[arg-type]
        self.unknown = UnknownOutcomes(self.store, _PendingPanel(), 60, time.time)  # type: ignore[arg-type]

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()
        self.directory.cleanup()

    def _give_back(self, order_id: int, owed: Decimal) -> None:
        if owed > 0:
            self.refunded[order_id] += owed
            self.balance[self.user_of[order_id]] += owed
            self.by_kind[EntryKind.REFUND] += owed

    @rule(
        user=st.sampled_from(USERS),
        amount=st.integers(1, 200_000),
        taps=st.integers(1, 3),
        approve=st.booleans(),
    )
    def top_up(self, user: int, amount: int, taps: int, approve: bool) -> None:
        deposit = self.run(self.shop.open_deposit(user, Decimal(amount)))
        assert isinstance(deposit, Deposit)
        assert self.run(self.shop.prove_deposit(user, "text", "paid", "U")) is not None
        decided = [self.run(self.shop.decide_deposit(deposit.id, approve, 1)) for _ in range(taps)]
        assert sum(d is not None for d in decided) == 1  # decided once, however often tapped
        if approve:
            self.balance[user] += amount
            self.by_kind[EntryKind.DEPOSIT] += amount
        told = self.run(self.store.outbox.pending(10_000))[-1].notice
        assert isinstance(told, DepositDecided)
        assert told.balance == self.balance[user]  # the owner reads the new balance

    @rule(user=st.sampled_from(USERS), amount=st.integers(1, 100_000))
    def admin_credit(self, user: int, amount: int) -> None:
        self.run(self.shop.adjust(user, Decimal(amount), 1, "credit"))
        self.balance[user] += amount
        self.by_kind[EntryKind.CREDIT] += amount

    @rule(user=st.sampled_from(USERS), amount=st.integers(1, 50_000))
    def admin_debit(self, user: int, amount: int) -> None:
        try:
            self.run(self.shop.adjust(user, Decimal(-amount), 1, "debit"))
        except InsufficientFunds:
            assert self.balance[user] - amount < -self.limit[user]
            return
        self.balance[user] -= amount
        self.by_kind[EntryKind.ADJUSTMENT] += amount

    @rule(user=st.sampled_from(USERS), limit=st.sampled_from([0, 10_000, 100_000]))
    def set_limit(self, user: int, limit: int) -> None:
        changed = self.run(self.shop.set_limit(user, Decimal(limit)))
        assert changed == (self.balance[user] >= -limit)  # never below the limit
        if changed:
            self.limit[user] = Decimal(limit)

    @rule(
        target=orders,
        user=st.sampled_from(USERS),
        price=st.decimals(min_value=1, max_value=90_000, places=2),
        outcome=st.sampled_from(["placed", "placed", "rejected", "unknown"]),
    )
    def order(self, user: int, price: Decimal, outcome: str) -> int:
        paid = round_up(price, UNIT)
        self.keys += 1
        try:
            offer = Quote(SERVICE, FIELDS, QUANTITY, price, [])
            payment = WalletPayment(paid, price)
            row, created = self.run(
                record_intent(self.store, user, f"k{self.keys}", offer, "IDR", payment)
            )
        except InsufficientFunds as short:
            assert self.balance[user] - paid < -self.limit[user]
            assert short.missing == -self.limit[user] - (self.balance[user] - paid)
            return -1
        assert created
        self.balance[user] -= paid
        self.by_kind[EntryKind.DEBIT_ORDER] += paid
        self.cost[row.id] = price
        self.paid[row.id], self.refunded[row.id], self.user_of[row.id] = paid, Decimal(0), user
        if outcome == "placed":
            self.run(self.store.orders.set_placed(row.id, 1000 + row.id))
        elif outcome == "rejected":
            self.run(end_submission(self.store, row, Outcome.REJECTED, "refused"))
            self._give_back(row.id, paid)
            self.final.add(row.id)
            return -1
        else:
            self.run(end_submission(self.store, row, Outcome.UNKNOWN, "timeout"))
        return row.id

    @rule(
        order=orders,
        state=st.sampled_from(STATES),
        remains=st.one_of(st.integers(-10, QUANTITY + 10), st.integers(-(10**12), 10**12)),
        charge=st.one_of(st.none(), st.decimals(min_value=-(10**12), max_value=10**12, places=5)),
        currency=st.sampled_from(["IDR", "USD", None]),
    )
    def status(
        self, order: int, state: str, remains: int, charge: Decimal | None, currency: str | None
    ) -> None:
        """A status the panel reports, hostile ones too (remains beyond the quantity, charges
        negative or absurd, another currency)."""
        if order < 0 or order in self.final:
            return
        row = self.run(self.store.orders.get(order))
        if row.outcome is not Outcome.PLACED:
            return
        status = OrderStatus(status=state, remains=remains, charge=charge, currency=currency)
        notice = OrderChanged(self.user_of[order], order=order)
        self.run(store_checks(self.store, [Check(order, status, None)], [notice]))
        paid, back = self.paid[order], self.refunded[order]
        if state in ("Canceled", "Refunded", "Fail", "Error"):
            owed = paid - back
        elif state == "Partial":
            share = paid * max(0, min(remains, QUANTITY)) / QUANTITY
            owed = max(Decimal(0), share.to_integral_value(rounding=ROUND_FLOOR) - back)
        else:
            owed = Decimal(0)
        self._give_back(order, owed)
        told = self.run(self.store.outbox.pending(10_000))[-1].notice
        assert isinstance(told, OrderChanged)
        assert told.refund == (owed or None)  # told how much

    @rule(order=orders, placed=st.booleans(), taps=st.integers(1, 2))
    def resolve_unknown(self, order: int, placed: bool, taps: int) -> None:
        if order < 0:
            return
        row = self.run(self.store.orders.get(order))
        if row.outcome is not Outcome.UNKNOWN:
            return
        for _ in range(taps):  # two admins, or one tapping twice: one takes effect
            if placed:
                self.run(self.unknown.attach(ADMIN, order, 5000 + order))
            else:
                self.run(self.unknown.not_placed(ADMIN, order))
        if not placed:
            self._give_back(order, self.paid[order] - self.refunded[order])
            self.final.add(order)

    @rule()
    def restart(self) -> None:
        self.run(self.store.close())
        self._open()

    @invariant()
    def wallets_match_the_model_and_their_entries(self) -> None:
        for user in USERS:
            wallet = self.run(self.store.wallets.get(user))
            assert wallet.balance == self.balance[user]
            assert wallet.balance >= -wallet.credit_limit
        assert self.run(self.store.wallets.mismatches()) == {}

    @invariant()
    def no_order_gets_back_more_than_it_cost(self) -> None:
        for order_id, paid in self.paid.items():
            row = self.run(self.store.orders.get(order_id))
            assert row.paid == paid and 0 <= row.refunded <= paid
            assert row.refunded == self.refunded[order_id]

    @invariant()
    def money_in_is_money_out_plus_money_held(self) -> None:
        kind = self.by_kind
        money_in = kind[EntryKind.DEPOSIT] + kind[EntryKind.CREDIT]
        spent = kind[EntryKind.DEBIT_ORDER] - kind[EntryKind.REFUND]
        held = sum(self.balance.values(), Decimal(0))
        assert money_in == spent + kind[EntryKind.ADJUSTMENT] + held

    @invariant()
    def stats_are_the_ledger(self) -> None:
        entries = self.run(self.store.wallets.since(0))
        placed = self.run(self.store.orders.placed_costs(0))
        money = money_since(0, entries, [(p.created_at, placed_cost(p)) for p in placed])
        assert {kind: money.of(kind) for kind in EntryKind} == self.by_kind
        assert money.net == sum(self.balance.values(), Decimal(0))
        assert not [entry for entry in entries if wrong_sign(entry)]
        # the panel's cost: never negative, never above what the orders cost when placed
        assert Decimal(0) <= money.panel_cost <= sum(self.cost.values(), Decimal(0))


Ledger.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedger = Ledger.TestCase
