"""Referral shares, promo codes and tickets decided in the core, with in-memory fakes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from bot.core.promo import BadPromo, PromoRefusal, benefit_of, parse_new, refusal
from bot.core.records import PromoCode, PromoKind
from bot.core.referrals import Linked, NotLinked, ReferralProgram, month_start, share_due

UNIT = Decimal(1)


def test_a_share_is_the_percent_of_what_the_order_kept_rounded_down() -> None:
    assert share_due(Decimal(10_001), Decimal(0), Decimal(5), UNIT) == Decimal(500)
    assert share_due(Decimal(10_000), Decimal(4_000), Decimal("7.5"), UNIT) == Decimal(450)
    assert share_due(Decimal(10_000), Decimal(10_000), Decimal(5), UNIT) == 0  # all refunded
    assert share_due(None, Decimal(0), Decimal(5), UNIT) == 0  # from the panel balance
    assert share_due(Decimal(10_000), Decimal(0), Decimal(0), UNIT) == 0  # off
    assert share_due(Decimal("10.00"), Decimal(0), Decimal(5), Decimal("0.01")) == Decimal("0.50")


def promo(**changes: Any) -> PromoCode:
    base = PromoCode(1, "SALE", PromoKind.ORDER, Decimal(10), None, Decimal(0), None, None, None, 1)
    return replace(base, **changes)


def test_benefits_are_whole_units_and_a_discount_leaves_something_to_pay() -> None:
    assert benefit_of(promo(), Decimal(12_345), UNIT) == Decimal(1234)
    assert benefit_of(promo(percent=None, amount=Decimal(5000)), Decimal(3000), UNIT) == 2999
    top_up = promo(kind=PromoKind.TOP_UP, percent=None, amount=Decimal(5000))
    assert benefit_of(top_up, Decimal(3000), UNIT) == Decimal(5000)
    assert benefit_of(promo(percent=Decimal(100)), Decimal(1), UNIT) == 0


def test_a_code_is_refused_for_each_of_its_rules() -> None:
    now = 1_000.0
    amount = Decimal(10_000)
    assert refusal(None, PromoKind.ORDER, amount, now, 0) is PromoRefusal.UNKNOWN
    assert refusal(promo(active=False), PromoKind.ORDER, amount, now, 0) is PromoRefusal.UNKNOWN
    assert refusal(promo(), PromoKind.TOP_UP, amount, now, 0) is PromoRefusal.OTHER_KIND
    assert refusal(promo(expires_at=now), PromoKind.ORDER, amount, now, 0) is PromoRefusal.EXPIRED
    full = promo(total_limit=5, uses=5)
    assert refusal(full, PromoKind.ORDER, amount, now, 0) is PromoRefusal.USED_UP
    mine = promo(per_user=1, uses=1)
    assert refusal(mine, PromoKind.ORDER, amount, now, 1) is PromoRefusal.USED_BY_YOU
    small = promo(minimum=Decimal(20_000))
    assert refusal(small, PromoKind.ORDER, amount, now, 0) is PromoRefusal.BELOW_MINIMUM
    assert refusal(promo(total_limit=5, uses=4), PromoKind.ORDER, amount, now, 0) is None


def test_an_admins_promo_command_is_read_strictly() -> None:
    made = parse_new(
        ["sale10", "order", "10%", "min=50000", "until=2026-12-31", "limit=100", "per_user=1"],
        1,
        UNIT,
    )
    assert isinstance(made, PromoCode)
    assert made.code == "SALE10" and made.kind is PromoKind.ORDER and made.percent == 10
    assert made.minimum == 50_000 and made.total_limit == 100 and made.per_user == 1
    assert made.expires_at == month_start(made.expires_at)  # 2027-01-01 00:00 UTC
    bonus = parse_new(["BONUS", "topup", "5000"], 1, UNIT)
    assert isinstance(bonus, PromoCode) and bonus.amount == 5000 and bonus.kind is PromoKind.TOP_UP
    assert parse_new(["x", "order", "10%"], 1, UNIT) is BadPromo.CODE
    assert parse_new(["SALE", "gift", "10%"], 1, UNIT) is BadPromo.KIND
    assert parse_new(["SALE", "order", "150%"], 1, UNIT) is BadPromo.VALUE
    assert parse_new(["SALE", "order", "0.5"], 1, UNIT) is BadPromo.VALUE  # a fraction of Rp
    assert parse_new(["SALE", "order", "abc"], 1, UNIT) is BadPromo.VALUE
    assert parse_new(["SALE", "order", "10%", "limit=-1"], 1, UNIT) is BadPromo.OPTION
    assert parse_new(["SALE", "order", "10%", "until=31/12"], 1, UNIT) is BadPromo.OPTION


class FakeReferrals:
    def __init__(self) -> None:
        self.codes: dict[int, str] = {}
        self.links: dict[int, int] = {}

    async def code_of(self, user_id: int) -> str:
        return self.codes.setdefault(user_id, f"code{user_id:04d}")

    async def owner_of(self, code: str) -> int | None:
        return next((u for u, c in self.codes.items() if c == code), None)

    async def referrer_of(self, user_id: int) -> int | None:
        return self.links.get(user_id)

    async def link(self, user_id: int, referrer_id: int) -> bool:
        if user_id in self.links:
            return False
        self.links[user_id] = referrer_id
        return True


class FakeOrders:
    def __init__(self) -> None:
        self.ordered: set[int] = set()

    async def has_orders(self, user_id: int) -> bool:
        return user_id in self.ordered


class FakeStore:
    def __init__(self) -> None:
        self.referrals = FakeReferrals()
        self.orders = FakeOrders()


async def test_a_user_is_linked_once_never_to_themselves_and_only_when_new() -> None:
    store = FakeStore()
    program = ReferralProgram(store, Decimal(5), frozenset({1}), lambda: 0.0)  # type: ignore[arg-type]
    alice, bob, carol = [await store.referrals.code_of(u) for u in (10, 20, 30)]
    assert await program.link(10, f"ref_{alice}") is NotLinked.SELF
    assert await program.link(20, f"ref_{alice}") == Linked(10)
    assert await program.link(20, f"ref_{carol}") is NotLinked.ALREADY  # never changed
    assert await program.link(10, f"ref_{bob}") is NotLinked.SELF  # no loop of two
    store.orders.ordered.add(40)
    assert await program.link(40, f"ref_{alice}") is NotLinked.NOT_NEW
    assert await program.link(1, f"ref_{alice}") is NotLinked.NOT_NEW  # an admin
    assert await program.link(50, "ref_nosuchcode") is NotLinked.UNKNOWN_CODE
    assert await program.link(50, "ref_<b>") is NotLinked.UNKNOWN_CODE
    off = ReferralProgram(store, Decimal(0), frozenset(), lambda: 0.0)  # type: ignore[arg-type]
    assert await off.link(60, f"ref_{alice}") is NotLinked.OFF
    assert store.referrals.links == {20: 10}
