"""Shop over the fakes: prices with markups (a service's rule over its category's over the
rule for all over MARKUP_PERCENT), charges rounded up to the currency's unit, wallets
credited and debited (never below the credit limit), top-ups proven and decided once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.catalog import without_price_tags
from bot.core.money import ALL, CATEGORY, SERVICE, InsufficientFunds
from bot.core.notices import DepositCard, DepositDecided, WalletAdjusted
from bot.core.promo import PromoRefusal
from bot.core.records import DepositState, EntryKind, PromoCode, PromoKind
from bot.core.shop import TopUpRefusal
from tests.core.fakes import ADMIN, OTHER, USER, World, service, world


def shop_world(**options: object) -> World:
    defaults: dict[str, object] = {
        "wallets": True,
        "markup": "10",
        "currency": "IDR",
        "deposit_min": "10000",
        "deposit_max": "5000000",
    }
    defaults.update(options)
    return world(
        [
            service(1, rate="1000", category="Instagram"),
            service(2, rate="1000", category="Instagram"),
            service(3, rate="1000", category="TikTok"),
        ],
        **defaults,
    )


async def rates(w: World, user_id: int) -> dict[int, Decimal]:
    return {s.id: s.rate for s in (await w.shop.catalog_for(user_id)).services}


async def test_markup_rules_apply_from_the_most_specific() -> None:
    w = shop_world()
    assert await rates(w, USER) == {1: Decimal(1100), 2: Decimal(1100), 3: Decimal(1100)}
    await w.shop.set_markup(ALL, "", Decimal("50"))
    await w.shop.set_markup(CATEGORY, "Instagram", Decimal("25"))
    await w.shop.set_markup(SERVICE, "1", Decimal("12.5"))
    assert await rates(w, USER) == {1: Decimal(1125), 2: Decimal(1250), 3: Decimal(1500)}
    await w.shop.set_markup(SERVICE, "1", None)
    assert (await rates(w, USER))[1] == Decimal(1250)
    assert await w.shop.markup_rules() == {
        (ALL, ""): Decimal("50"),
        (CATEGORY, "Instagram"): Decimal("25"),
    }
    assert await rates(w, ADMIN) == {1: Decimal(1000), 2: Decimal(1000), 3: Decimal(1000)}


async def test_without_wallets_every_price_is_the_panels() -> None:
    w = shop_world(wallets=False)
    assert not w.shop.on and not w.shop.pays_from_wallet(USER)
    assert await rates(w, USER) == {1: Decimal(1000), 2: Decimal(1000), 3: Decimal(1000)}
    assert w.shop.charge(USER, Decimal("1.5")) is None
    assert await w.shop.payment(USER, 1, {"link": "https://x.com/a", "quantity": "100"}) is None
    assert await w.shop.can_take(USER, Decimal(10**9))


async def test_a_payment_is_the_customers_price_rounded_up_and_the_panels_cost() -> None:
    w = shop_world(markup="33")
    fields = {"link": "https://instagram.com/p/a", "quantity": "333"}
    payment = await w.shop.payment(USER, 1, fields)
    # 1000 x 1.33 x 333 / 1000 = 442.89 -> 443 rupiah; the panel's price 333
    assert payment is not None
    assert (payment.amount, payment.cost, payment.discount) == (Decimal("443"), Decimal("333"), 0)
    assert w.shop.charge(USER, Decimal("442.01")) == Decimal("443")
    assert await w.shop.payment(ADMIN, 1, fields) is None
    with pytest.raises(LookupError):
        await w.shop.payment(USER, 404, fields)
    usd = world([service(1, rate="1")], wallets=True, currency="USD")
    assert usd.shop.charge(USER, Decimal("0.001")) == Decimal("0.01")


async def test_credit_debit_and_the_credit_limit() -> None:
    w = shop_world()
    assert await w.shop.adjust(USER, Decimal("500"), ADMIN, "welcome") == Decimal("500")
    assert await w.shop.adjust(USER, Decimal("-200"), ADMIN, "fee") == Decimal("300")
    with pytest.raises(InsufficientFunds) as short:
        await w.shop.adjust(USER, Decimal("-301"), ADMIN, "too much")
    assert short.value.missing == Decimal("1")
    assert await w.store.balance_of(USER) == Decimal("300")
    told = [n for n in await w.store.notices() if isinstance(n, WalletAdjusted)]
    assert [(n.to, n.amount, n.balance, n.note) for n in told] == [
        (USER, Decimal("500"), Decimal("500"), "welcome"),
        (USER, Decimal("-200"), Decimal("300"), "fee"),
    ]  # the refused debit tells nothing
    assert await w.shop.set_limit(USER, Decimal("100"))
    assert await w.shop.adjust(USER, Decimal("-400"), ADMIN, "") == Decimal("-100")
    assert not await w.shop.set_limit(USER, Decimal("50"))  # already further below zero
    assert (await w.shop.wallet(USER)).credit_limit == Decimal("100")
    entries, total = await w.shop.entries(USER, 0, 2)
    assert total == 3
    assert [(e.kind, e.amount, e.admin_id) for e in entries] == [
        (EntryKind.ADJUSTMENT, Decimal("-400"), ADMIN),
        (EntryKind.ADJUSTMENT, Decimal("-200"), ADMIN),
    ]
    older, _ = await w.shop.entries(USER, 1, 2)
    assert [(e.kind, e.note) for e in older] == [(EntryKind.CREDIT, "welcome")]
    assert (await w.shop.wallet(OTHER)).balance == 0


def test_top_up_amounts_a_wallet_takes() -> None:
    w = shop_world()
    assert w.shop.top_up_refusal(Decimal("10000.5")) is TopUpRefusal.FRACTION
    assert w.shop.top_up_refusal(Decimal("9999")) is TopUpRefusal.BELOW_MIN
    assert w.shop.top_up_refusal(Decimal("0")) is TopUpRefusal.BELOW_MIN
    assert w.shop.top_up_refusal(Decimal("5000001")) is TopUpRefusal.ABOVE_MAX
    assert w.shop.top_up_refusal(Decimal("10000")) is None
    assert w.shop.top_up_for(Decimal("1.2")) == Decimal("10000")
    assert w.shop.top_up_for(Decimal("12345.01")) == Decimal("12346")
    assert w.shop.top_up_for(Decimal("9999999")) == Decimal("5000000")
    assert w.shop.takes_deposits
    assert not shop_world(deposit_instructions="").shop.takes_deposits


async def test_a_top_up_is_proven_carded_to_every_admin_and_decided_once() -> None:
    w = world(
        [service(1, rate="1")],
        wallets=True,
        currency="IDR",
        deposit_min="10000",
        admins=(ADMIN, 2),
    )
    assert await w.shop.prove_deposit(USER, "text", "paid", "Budi") is None  # none asked
    deposit = await w.shop.open_deposit(USER, Decimal("50000"))
    assert not isinstance(deposit, TopUpRefusal) and deposit.state is DepositState.AWAITING_PROOF
    proven = await w.shop.prove_deposit(USER, "text", "ref 123\u202e00.0", " Bu\u200bdi ")
    assert proven is not None and proven.state is DepositState.PENDING
    assert proven.proof == "ref 12300.0" and proven.name == "Budi"  # no hidden characters
    cards = await w.store.notices()
    assert all(isinstance(card, DepositCard) for card in cards)
    assert sorted(card.to for card in cards) == [ADMIN, 2]
    assert cards[0].amount == Decimal("50000") and cards[0].deposit == deposit.id
    assert await w.shop.open_deposit(USER, Decimal("20000")) is TopUpRefusal.WAITING
    assert await w.shop.waiting_deposit(USER) == proven
    assert await w.shop.waiting_deposits(10) == ([proven], 1)
    decided = await w.shop.decide_deposit(deposit.id, True, ADMIN)
    assert decided is not None and decided.state is DepositState.APPROVED
    assert await w.shop.decide_deposit(deposit.id, True, 2) is None  # a second admin's tap
    assert await w.shop.decide_deposit(deposit.id, False, 2) is None
    assert await w.store.balance_of(USER) == Decimal("50000")
    deposits = [e for e in w.store.ledger_of(USER) if e.kind is EntryKind.DEPOSIT]
    assert [(e.amount, e.deposit_id, e.admin_id) for e in deposits] == [
        (Decimal("50000"), deposit.id, ADMIN)
    ]
    told = [n for n in await w.store.notices() if isinstance(n, DepositDecided)]
    assert told == [
        DepositDecided(
            USER,
            deposit=deposit.id,
            approved=True,
            amount=Decimal("50000"),
            balance=Decimal("50000"),
            currency="IDR",
        )
    ]
    assert (await w.shop.get_deposit(deposit.id)).decided_by == ADMIN


async def test_a_rejected_top_up_credits_nothing_and_its_owner_is_told() -> None:
    w = shop_world()
    deposit = await w.shop.open_deposit(USER, Decimal("20000"))
    assert not isinstance(deposit, TopUpRefusal)
    assert await w.shop.decide_deposit(deposit.id, False, ADMIN) is None  # no proof yet
    await w.shop.prove_deposit(USER, "photo", "file-id", "Ani")
    decided = await w.shop.decide_deposit(deposit.id, False, ADMIN)
    assert decided is not None and decided.state is DepositState.REJECTED
    assert await w.store.balance_of(USER) == 0 and w.store.ledger_of(USER) == []
    (told,) = [n for n in await w.store.notices() if isinstance(n, DepositDecided)]
    assert not told.approved and told.balance == 0
    assert not isinstance(await w.shop.open_deposit(USER, Decimal("20000")), TopUpRefusal)


async def test_a_deposit_decision_is_one_unit_of_work() -> None:
    w = shop_world()
    deposit = await w.shop.open_deposit(USER, Decimal("20000"))
    assert not isinstance(deposit, TopUpRefusal)
    await w.shop.prove_deposit(USER, "text", "ref", "Ani")
    w.store.fail(after=2)  # decided and credited; the owner's notice fails
    with pytest.raises(Exception, match="disk"):
        await w.shop.decide_deposit(deposit.id, True, ADMIN)
    assert await w.store.balance_of(USER) == 0
    assert (await w.shop.get_deposit(deposit.id)).state is DepositState.PENDING
    assert await w.shop.decide_deposit(deposit.id, True, ADMIN) is not None
    assert await w.store.balance_of(USER) == Decimal("20000")


async def test_a_canceled_top_up_frees_the_promo_code_it_held() -> None:
    w = shop_world()
    code = PromoCode(
        0, "BONUS", PromoKind.TOP_UP, None, Decimal(5000), Decimal(0), None, 1, 1, ADMIN
    )
    await w.store.promos.create(code)
    held = await w.shop.open_deposit(USER, Decimal("20000"), "BONUS")
    assert not isinstance(held, (TopUpRefusal, PromoRefusal))
    again = await w.shop.open_deposit(OTHER, Decimal("20000"), "BONUS")
    assert again is PromoRefusal.USED_UP  # the only use is held by USER's top-up
    assert await w.shop.cancel_deposit(USER)
    assert not await w.shop.cancel_deposit(USER)  # nothing waits any more
    assert await w.shop.waiting_deposit(USER) is None
    freed = await w.shop.open_deposit(OTHER, Decimal("20000"), "BONUS")
    assert not isinstance(freed, (TopUpRefusal, PromoRefusal))


@pytest.mark.parametrize(
    ("name", "customers_see"),
    [  # names from the real catalogs in tests/catalogs, and other panels' ways of writing it
        (
            "Instagram Views [ 10M/Hour] SUPER FAST [ 0.02$/K]",
            "Instagram Views [ 10M/Hour] SUPER FAST",
        ),
        (
            "Instagram Followers [Max 20k - No Refill ] [ 0.4$/K - ( 2-5k/Hour) ( S1 )⚡⚡",
            "Instagram Followers [Max 20k - No Refill ] [( 2-5k/Hour) ( S1 )⚡⚡",
        ),
        (
            "IG Verified Comment- With Blue Tick - 1 Comment - 1.2$",
            "IG Verified Comment- With Blue Tick - 1 Comment",
        ),
        (
            "Instagram Profile Visits [ 0.033$/K- Add Post Link]",
            "Instagram Profile Visits [Add Post Link]",
        ),
        (
            "Instagram Likes [ Max 15k ] [ 0.4$ ] [ No Refill ]",
            "Instagram Likes [ Max 15k ] [ No Refill ]",
        ),
        ("Followers $0.5/1k", "Followers"),
        ("Likes Rp 1.234/K murah", "Likes murah"),
        ("YouTube Views [Rp1.500/1000] - Lifetime", "YouTube Views - Lifetime"),
        ("Spotify Plays | $1.20 per 1000 | Fast", "Spotify Plays | Fast"),
        (
            "Instagram Followers 100% Real [30 Days Refill] 1000/day",
            "Instagram Followers 100% Real [30 Days Refill] 1000/day",
        ),
        ("$0.5", "$0.5"),  # nothing would be left: kept
    ],
)
def test_a_suppliers_price_tag_is_not_in_a_name_customers_see(
    name: str, customers_see: str
) -> None:
    assert without_price_tags(name) == customers_see


async def test_customers_see_names_without_price_tags_the_team_as_the_panel_wrote_them() -> None:
    tagged = "Instagram Likes Min10 Max 50K [ 0.82$/K ] [1-2k/Hour]"
    w = world(
        [service(1, name=tagged, rate="820", category="Instagram")],
        wallets=True,
        markup="10",
        currency="IDR",
    )
    (sold,) = (await w.shop.catalog_for(USER)).services
    assert sold.name == "Instagram Likes Min10 Max 50K [1-2k/Hour]" and sold.rate == Decimal(902)
    (raw,) = (await w.shop.catalog_for(ADMIN)).services
    assert raw.name == tagged  # the operator's team buys at the panel's price: it is theirs
