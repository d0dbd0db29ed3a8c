"""Referrals and promo codes on the ledger: a stateful property test through the core's use
cases on the real store (referral links, orders with and without codes placed, refused, of
unknown outcome, partial and canceled, top-ups with codes approved or rejected, restarts):
every wallet is the sum of its entries and what the model says, every referrer's shares are
the percent of what their customers' orders kept, no code goes over its limits. And many
customers using one code at the same moment."""

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
from bot.core.api import OrderStatus, Service
from bot.core.balance import PanelCurrency
from bot.core.checkout import _keep, end_submission, record_intent
from bot.core.drafts import Quote
from bot.core.money import InsufficientFunds, WalletPayment, round_up
from bot.core.notices import OrderChanged
from bot.core.promo import PromoChanged, PromoRefusal, parse_new
from bot.core.records import Check, Deposit, EntryKind, Outcome
from bot.core.referrals import Linked, ReferralProgram
from bot.core.shop import Shop, ShopRules
from bot.core.tracking import store_checks
from bot.core.unknown_outcome import UnknownOutcomes

USERS = (11, 12, 13, 14)
PERCENT = Decimal("7.5")
QUANTITY = 1000
UNIT = Decimal(1)
SERVICE = Service.model_validate(
    {"service": 1, "name": "S", "type": "Default", "rate": "1", "min": 1, "max": 100000}
)
FIELDS = {"link": "https://x.com/a", "quantity": str(QUANTITY)}
STATES = ("In progress", "Completed", "Partial", "Canceled", "Refunded", "Fail")
ORDER_CODE = ("SALE10", 10, 3, 2)  # (code, percent, total limit, per user)
TOP_UP_CODE = ("BONUS", 5000, 10_000, 4, 1)  # (code, amount, minimum, total, per user)
ADMIN = Actor(1, is_admin=True)


class _PendingPanel:
    async def status(self, order_id: int) -> OrderStatus:
        return OrderStatus(status="Pending")


def floor(amount: Decimal) -> Decimal:
    return amount.to_integral_value(rounding=ROUND_FLOOR)


class Growth(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.directory = tempfile.TemporaryDirectory()
        self.path = str(Path(self.directory.name) / "bot.db")
        self._open()
        code, percent, limit, per_user = ORDER_CODE
        self.run(
            self.promos_create(
                [code, "order", f"{percent}%", f"limit={limit}", f"per_user={per_user}"]
            )
        )
        code, amount, minimum, limit, per_user = TOP_UP_CODE
        self.run(
            self.promos_create(
                [
                    code,
                    "topup",
                    str(amount),
                    f"min={minimum}",
                    f"limit={limit}",
                    f"per_user={per_user}",
                ]
            )
        )
        self.money_in = {user: Decimal(0) for user in USERS}
        self.referrer: dict[int, int] = {}
        self.ordered: set[int] = set()
        self.paid: dict[int, Decimal] = {}
        self.refunded: dict[int, Decimal] = {}
        self.user_of: dict[int, int] = {}
        self.placed: set[int] = set()
        self.final: set[int] = set()
        self.uses: dict[str, dict[int, int]] = {ORDER_CODE[0]: {}, TOP_UP_CODE[0]: {}}
        self.keys = 0

    async def promos_create(self, words: list[str]) -> None:
        promo = parse_new(words, 1, UNIT)
        assert not isinstance(promo, str)
        assert await self.store.promos.create(promo) is not None

    def _open(self) -> None:
        self.store = SqliteStore(self.path)
        self.run(self.store.open())
        rules = ShopRules(
            True, frozenset({1}), Decimal(0), Decimal(0), Decimal(10**9), "pay", PERCENT
        )
        currency = PanelCurrency(self.store.kv, "IDR")
        self.shop = Shop(rules, self.store, None, currency, None)  # type: ignore[arg-type]
        self.unknown = UnknownOutcomes(self.store, _PendingPanel(), 60, time.time)  # type: ignore[arg-type]
        self.program = ReferralProgram(self.store, PERCENT, frozenset({1}), time.time)

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()
        self.directory.cleanup()

    def _may_use(self, code: str, user: int, total: int, per_user: int) -> bool:
        used = self.uses[code]
        return sum(used.values()) < total and used.get(user, 0) < per_user

    @rule(user=st.sampled_from(USERS), referrer=st.sampled_from(USERS))
    def link(self, user: int, referrer: int) -> None:
        code = self.run(self.program.code_of(referrer))
        result = self.run(self.program.link(user, f"ref_{code}"))
        expected = (
            user != referrer
            and user not in self.referrer
            and self.referrer.get(referrer) != user
            and user not in self.ordered
        )
        assert isinstance(result, Linked) == expected
        if expected:
            self.referrer[user] = referrer

    @rule(
        user=st.sampled_from(USERS),
        amount=st.integers(1, 200_000),
        with_code=st.booleans(),
        approve=st.booleans(),
    )
    def top_up(self, user: int, amount: int, with_code: bool, approve: bool) -> None:
        code, bonus, minimum, total, per_user = TOP_UP_CODE
        opened = self.run(
            self.shop.open_deposit(user, Decimal(amount), code if with_code else None)
        )
        accepted = with_code and amount >= minimum and self._may_use(code, user, total, per_user)
        if with_code and not accepted:
            assert isinstance(opened, PromoRefusal)
            return
        assert isinstance(opened, Deposit)
        if accepted:
            self.uses[code][user] = self.uses[code].get(user, 0) + 1
        assert self.run(self.shop.prove_deposit(user, "text", "paid", "U")) is not None
        self.run(self.shop.decide_deposit(opened.id, approve, 1))
        if approve:
            self.money_in[user] += amount + (bonus if accepted else 0)
        elif accepted:
            self.uses[code][user] -= 1  # a rejected top-up frees its code

    @rule(
        target=orders,
        user=st.sampled_from(USERS),
        price=st.decimals(min_value=1, max_value=90_000, places=2),
        with_code=st.booleans(),
        outcome=st.sampled_from(["placed", "placed", "rejected", "unknown"]),
    )
    def order(self, user: int, price: Decimal, with_code: bool, outcome: str) -> int:
        code, percent, total, per_user = ORDER_CODE
        full = round_up(price, UNIT)
        discount = Decimal(0)
        if with_code and self._may_use(code, user, total, per_user):
            discount = min(floor(full * percent / 100), full - UNIT)
        use_code = with_code and discount > 0
        paid = full - discount
        self.keys += 1
        payment = WalletPayment(
            paid,
            price,
            discount=discount,
            promo=code if use_code else None,
            referral_percent=PERCENT,
            checked_at=time.time(),
        )
        offer = Quote(SERVICE, FIELDS, QUANTITY, price, [])
        try:
            row, created = self.run(
                record_intent(self.store, user, f"k{self.keys}", offer, "IDR", payment)
            )
        except InsufficientFunds:
            assert self._balance(user) < paid
            return -1
        assert created and row.paid == paid
        if use_code:
            self.uses[code][user] = self.uses[code].get(user, 0) + 1
        self.ordered.add(user)
        self.paid[row.id], self.refunded[row.id], self.user_of[row.id] = paid, Decimal(0), user
        if outcome == "placed":
            self.run(_keep(self.store, row, 1000 + row.id))
            self.placed.add(row.id)
        elif outcome == "rejected":
            self.run(end_submission(self.store, row, Outcome.REJECTED, "refused"))
            self.refunded[row.id] = paid
            self.final.add(row.id)
            if use_code:
                self.uses[code][user] -= 1  # never placed: the code is free again
            return -1
        else:
            self.run(end_submission(self.store, row, Outcome.UNKNOWN, "timeout"))
        return row.id

    @rule(order=orders, state=st.sampled_from(STATES), remains=st.integers(-10, QUANTITY + 10))
    def status(self, order: int, state: str, remains: int) -> None:
        if order < 0 or order in self.final or order not in self.placed:
            return
        status = OrderStatus(status=state, remains=remains)
        notice = OrderChanged(self.user_of[order], order=order)
        self.run(store_checks(self.store, [Check(order, status, None)], [notice]))
        paid, back = self.paid[order], self.refunded[order]
        if state in ("Canceled", "Refunded", "Fail"):
            owed = paid - back
        elif state == "Partial":
            share = floor(paid * max(0, min(remains, QUANTITY)) / QUANTITY)
            owed = max(Decimal(0), share - back)
        else:
            owed = Decimal(0)
        self.refunded[order] += owed

    @rule(order=orders, placed=st.booleans())
    def resolve_unknown(self, order: int, placed: bool) -> None:
        if order < 0 or order in self.placed or order in self.final:
            return
        if placed:
            self.run(self.unknown.attach(ADMIN, order, 5000 + order))
            self.placed.add(order)
        else:
            self.run(self.unknown.not_placed(ADMIN, order))
            self.refunded[order] = self.paid[order]
            self.final.add(order)

    @rule()
    def restart(self) -> None:
        self.run(self.store.close())
        self._open()

    def _share(self, order: int) -> Decimal:
        """The model's share of an order for its user's referrer (none unless placed)."""
        if order not in self.placed or self.user_of[order] not in self.referrer_at_order:
            return Decimal(0)
        return floor((self.paid[order] - self.refunded[order]) * PERCENT / 100)

    @property
    def referrer_at_order(self) -> dict[int, int]:
        return self.referrer  # linked only before a first order: never changes after one

    def _balance(self, user: int) -> Decimal:
        spent = sum(
            (self.paid[o] - self.refunded[o] for o, u in self.user_of.items() if u == user),
            Decimal(0),
        )
        earned = sum(
            (self._share(o) for o, u in self.user_of.items() if self.referrer.get(u) == user),
            Decimal(0),
        )
        return self.money_in[user] - spent + earned

    @invariant()
    def wallets_are_their_entries_and_the_model(self) -> None:
        assert self.run(self.store.wallets.mismatches()) == {}
        for user in USERS:
            assert self.run(self.store.wallets.get(user)).balance == self._balance(user)

    @invariant()
    def shares_are_the_percent_of_net_spend(self) -> None:
        entries = self.run(self.store.wallets.since(0))
        for order in self.user_of:
            paid = sum(
                (
                    e.amount
                    for e in entries
                    if e.order_id == order
                    and e.kind in (EntryKind.REFERRAL, EntryKind.REFERRAL_BACK)
                ),
                Decimal(0),
            )
            assert paid == self._share(order)
        for referrer in USERS:
            earned = self.run(self.store.referrals.earned(referrer, 0))
            assert earned == sum(
                (
                    self._share(o)
                    for o, u in self.user_of.items()
                    if self.referrer.get(u) == referrer
                ),
                Decimal(0),
            )

    @invariant()
    def no_code_over_its_limits(self) -> None:
        for code, total, per_user in (
            (ORDER_CODE[0], ORDER_CODE[2], ORDER_CODE[3]),
            (TOP_UP_CODE[0], TOP_UP_CODE[3], TOP_UP_CODE[4]),
        ):
            promo = self.run(self.store.promos.by_code(code))
            assert promo is not None and promo.uses <= total
            assert promo.uses == sum(self.uses[code].values())
            for user in USERS:
                assert self.run(self.store.promos.uses_by(promo.id, user)) <= per_user


Growth.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestGrowth = Growth.TestCase


async def test_a_code_used_by_many_at_once_never_goes_over_its_limit(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "bot.db")
    await store.open()
    try:
        promo = parse_new(["RUSH", "order", "2000", "limit=3"], 1, UNIT)
        assert not isinstance(promo, str)
        await store.promos.create(promo)
        for user in range(100, 120):
            await store.wallets.post(user, Decimal(10_000), EntryKind.CREDIT)
        offer = Quote(SERVICE, FIELDS, QUANTITY, Decimal(5000), [])

        async def buy(user: int) -> bool:
            payment = WalletPayment(
                Decimal(3000),
                Decimal(5000),
                discount=Decimal(2000),
                promo="RUSH",
                checked_at=time.time(),
            )
            try:
                await record_intent(store, user, f"rush{user}", offer, "IDR", payment)
            except PromoChanged:
                return False
            return True

        results = await asyncio.gather(*(buy(user) for user in range(100, 120)))
        assert sum(results) == 3
        stored = await store.promos.by_code("RUSH")
        assert stored is not None and stored.uses == 3
        for user, won in zip(range(100, 120), results, strict=True):
            balance = (await store.wallets.get(user)).balance
            assert balance == (Decimal(7000) if won else Decimal(10_000))  # losers: nothing taken
        assert await store.wallets.mismatches() == {}
    finally:
        await store.close()
