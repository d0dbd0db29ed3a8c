"""Checkout over the fakes: what is offered, the summary (prices, wallet, credit limit, the
panel balance), and Confirm: placed once, price changed, short, refused in the panel's words,
outcome unknown, the panel balance guard, storage failing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

import bot.core.checkout as checkout_module
from bot.core.actor import Actor
from bot.core.api import Balance
from bot.core.checkout import (
    NotOffered,
    OrderNotStored,
    Placed,
    PriceChanged,
    Refused,
    Short,
    resolve_interrupted,
)
from bot.core.notices import ADMINS, Interrupted, PanelShort, UnknownPaid
from bot.core.order_types import Issue
from bot.core.panel import (
    InsufficientFunds,
    OrderOutcomeUnknown,
    PanelBusy,
    PanelError,
    PanelUnavailable,
)
from bot.core.ports import StorageFailed
from bot.core.records import EntryKind, Outcome
from tests.core.fakes import ADMIN, OTHER, USER, World, draft, place, service, summarised, world

LINK = "https://instagram.com/p/abc"
ME = Actor(USER)
CUSTOMER = Actor(USER, pays_from_wallet=True)
BOSS = Actor(ADMIN, is_admin=True)


def panel_world() -> World:
    return world([service(1, rate="2.5", refill=True, cancel=True), service(2, rate="7")])


def shop_world(**options: object) -> World:
    """IDR: a wallet holds whole rupiah; 20 % markup."""
    return world(
        [service(1, rate="12345"), service(9, type="Subscriptions", rate="100")],
        wallets=True,
        markup="20",
        currency="IDR",
        panel_balance="1000000",
        **options,
    )


async def credit(w: World, user_id: int, amount: str) -> None:
    await w.shop.adjust(user_id, Decimal(amount), ADMIN, "test")
    await w.store.deliver_all()  # the customer's "operator added" notice


# -- offered ----------------------------------------------------------------------------------


async def test_offered_gives_the_service_or_says_why_not() -> None:
    w = shop_world()
    offered = await w.checkout.offered(CUSTOMER, 1)
    assert not isinstance(offered, NotOffered)
    assert offered.rate == Decimal("14814.0")  # 12345 + 20 %, exact
    assert (await w.checkout.offered(BOSS, 1)).rate == Decimal("12345")
    assert await w.checkout.offered(CUSTOMER, 404) is NotOffered.GONE
    assert await w.checkout.offered(CUSTOMER, 9) is NotOffered.NOT_FROM_A_WALLET
    assert not isinstance(await w.checkout.offered(BOSS, 9), NotOffered)


# -- summary ----------------------------------------------------------------------------------


async def test_panel_summary_shows_the_exact_price_and_the_panel_balance() -> None:
    w = panel_world()
    order = draft(1, quantity=150)
    _, summary = await summarised(w, ME, order)
    assert summary.quote.price == Decimal("0.375") and isinstance(summary.quote.price, Decimal)
    assert summary.wallet is None and summary.balance == Decimal("1000")
    assert summary.missing == 0 and summary.top_up is None and summary.same_link == []
    assert order.shown_price == Decimal("0.375")


async def test_summary_without_a_panel_balance_still_shows() -> None:
    w = panel_world()
    w.panel.balance_answer = PanelUnavailable("timeout")
    _, summary = await summarised(w, ME, draft(1))
    assert summary.balance is None and summary.quote.price == Decimal("0.25")


async def test_summary_lists_unfinished_orders_of_the_service_for_the_same_link() -> None:
    w = panel_world()
    first = await place(w, ME, 1, "https://instagram.com/p/abc/")
    await place(w, Actor(OTHER), 1)  # someone else's: not listed
    _, summary = await summarised(w, ME, draft(1, "http://www.Instagram.com/p/abc"))
    assert [o.id for o in summary.same_link] == [first.id]
    _, other_service = await summarised(w, ME, draft(2, "http://www.Instagram.com/p/abc"))
    assert other_service.same_link == []  # another service on the link is no repeat


async def test_summary_refuses_an_answer_the_rules_refuse() -> None:
    w = panel_world()
    offered = await w.checkout.offered(ME, 1)
    result = await w.checkout.summary(ME, draft(1, quantity=5), offered)
    assert isinstance(result, Issue) and result.field == "quantity"


async def test_shop_summary_shows_the_wallet_its_limit_and_what_is_missing() -> None:
    w = shop_world(deposit_min="5000")
    await credit(w, USER, "1000")
    assert await w.shop.set_limit(USER, Decimal("200"))
    _, summary = await summarised(w, CUSTOMER, draft(1))
    # 12345 * 1.2 * 100 / 1000 = 1481.4, rounded up to a whole rupiah
    assert summary.quote.price == Decimal("1482")
    assert summary.wallet is not None
    assert summary.wallet.balance == Decimal("1000") and summary.wallet.credit_limit == 200
    assert summary.missing == Decimal("282")  # 1482 - (1000 + 200)
    assert summary.top_up == Decimal("5000")  # at least DEPOSIT_MIN
    assert summary.balance is None  # a customer is not told the panel balance
    assert w.panel.count("balance") == 0


# -- confirm ----------------------------------------------------------------------------------


async def test_confirm_places_once_for_a_repeated_key() -> None:
    w = panel_world()
    order = draft(1)
    offered, _ = await summarised(w, ME, order)
    first = await w.checkout.confirm(ME, order, offered)
    again = await w.checkout.confirm(ME, order, offered)  # a double tap, a repeated callback
    assert isinstance(first, Placed) and isinstance(again, Placed)
    assert first.order.outcome is Outcome.PLACED and first.order.panel_order_id == 1001
    assert again.order.id == first.order.id
    assert w.panel.count("add") == 1
    (sent,) = w.panel.sent("add")
    assert sent.service_id == 1 and dict(sent.fields) == {"link": LINK, "quantity": "100"}
    assert first.order.price == Decimal("0.25") and first.order.paid is None
    assert await w.checkout.submitted(ME, order.key) == again.order
    assert await w.checkout.submitted(Actor(OTHER), order.key) is None


async def test_confirm_from_a_wallet_takes_exactly_the_price_shown() -> None:
    w = shop_world()
    await credit(w, USER, "5000")
    order = draft(1)
    offered, summary = await summarised(w, CUSTOMER, order)
    result = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(result, Placed) and result.order.outcome is Outcome.PLACED
    assert result.order.paid == summary.quote.price == Decimal("1482")
    assert result.order.cost == Decimal("1234.5")  # what the panel charges, kept for /stats
    assert await w.store.balance_of(USER) == Decimal("3518")
    debit = w.store.ledger_of(USER)[-1]
    assert debit.kind is EntryKind.DEBIT_ORDER and debit.amount == Decimal("-1482")
    assert debit.order_id == result.order.id
    await w.checkout.confirm(CUSTOMER, order, offered)
    assert await w.store.balance_of(USER) == Decimal("3518")  # not taken twice
    assert w.panel.count("add") == 1


async def test_a_changed_price_takes_nothing_and_shows_the_new_one() -> None:
    w = shop_world()
    await credit(w, USER, "5000")
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    w.panel.service_list = [service(1, rate="20000")]
    await w.catalog.refresh()
    offered = await w.checkout.offered(CUSTOMER, 1)
    result = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(result, PriceChanged)
    assert result.summary.quote.price == Decimal("2400")
    assert w.panel.count("add") == 0 and await w.store.balance_of(USER) == Decimal("5000")
    assert await w.store.orders.by_intent(order.key, USER) is None
    assert order.shown_price == Decimal("2400")  # the new summary is what Confirm takes now
    placed = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(placed, Placed) and placed.order.paid == Decimal("2400")


async def test_a_panel_price_change_is_caught_without_a_wallet_too() -> None:
    w = panel_world()
    order = draft(1)
    await summarised(w, ME, order)
    w.panel.service_list = [service(1, rate="3")]
    await w.catalog.refresh()
    offered = await w.checkout.offered(ME, 1)
    result = await w.checkout.confirm(ME, order, offered)
    assert isinstance(result, PriceChanged) and result.summary.quote.price == Decimal("0.3")
    assert w.panel.count("add") == 0


async def test_a_range_changed_since_the_summary_is_asked_again() -> None:
    w = panel_world()
    order = draft(1)
    await summarised(w, ME, order)
    w.panel.service_list = [service(1, rate="2.5", min=500)]
    await w.catalog.refresh()
    offered = await w.checkout.offered(ME, 1)
    result = await w.checkout.confirm(ME, order, offered)
    assert isinstance(result, Issue) and result.field == "quantity"
    assert w.panel.count("add") == 0


async def test_short_sends_nothing_and_takes_nothing() -> None:
    w = shop_world(deposit_min="10000")
    await credit(w, USER, "1000")
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    result = await w.checkout.confirm(CUSTOMER, order, offered)
    assert result == Short(Decimal("482"), Decimal("10000"))
    assert w.panel.count("add") == 0
    assert await w.store.orders.by_intent(order.key, USER) is None
    assert [e.kind for e in w.store.ledger_of(USER)] == [EntryKind.CREDIT]


async def test_short_without_top_ups_offers_none() -> None:
    w = shop_world(deposit_instructions="")
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    assert await w.checkout.confirm(CUSTOMER, order, offered) == Short(Decimal("1482"), None)


async def test_the_credit_limit_lets_a_wallet_go_below_zero_and_no_further() -> None:
    w = shop_world()
    await w.shop.set_limit(USER, Decimal("1500"))
    order = await place(w, CUSTOMER, 1)
    assert order.paid == Decimal("1482") and await w.store.balance_of(USER) == Decimal("-1482")
    second = draft(1, "https://instagram.com/p/other")
    offered, _ = await summarised(w, CUSTOMER, second)
    assert await w.checkout.confirm(CUSTOMER, second, offered) == Short(
        Decimal("1464"), Decimal(1464)
    )


@pytest.mark.parametrize(
    ("refusal", "stored"),
    [
        (InsufficientFunds("Not enough funds on balance"), "Not enough funds on balance"),
        (PanelError("Link is private"), "Link is private"),
        (PanelUnavailable("timeout before sending"), "unavailable: timeout before sending"),
        (PanelBusy(30), "busy: 30"),
    ],
)
async def test_a_refusal_is_kept_in_the_panels_words_and_refunded(
    refusal: Exception, stored: str
) -> None:
    w = shop_world()
    await credit(w, USER, "5000")
    w.panel.add_answers = [refusal]
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    result = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(result, Placed)
    assert result.order.outcome is Outcome.REJECTED and result.order.error == stored
    assert result.order.refunded == Decimal("1482")
    assert await w.store.balance_of(USER) == Decimal("5000")
    kinds = [(e.kind, e.amount) for e in w.store.ledger_of(USER)]
    assert kinds[-2:] == [
        (EntryKind.DEBIT_ORDER, Decimal(-1482)),
        (EntryKind.REFUND, Decimal(1482)),
    ]
    again = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(again, Placed) and again.order.outcome is Outcome.REJECTED
    assert w.panel.count("add") == 1  # never retried
    assert await w.store.balance_of(USER) == Decimal("5000")  # refunded once
    assert await w.orders.any(CUSTOMER)  # a refused attempt is an attempt ...
    assert (await w.store.orders.listing(USER)) == []  # ... but not an order in the lists


async def test_a_lost_answer_is_outcome_unknown_with_the_debit_kept() -> None:
    w = shop_world()
    await credit(w, USER, "5000")
    w.panel.add_answers = [OrderOutcomeUnknown("timeout after sending")]
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    result = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(result, Placed)
    assert result.order.outcome is Outcome.UNKNOWN and result.order.panel_order_id is None
    assert result.order.error == "timeout after sending"
    assert await w.store.balance_of(USER) == Decimal("3518")  # held until decided
    (card,) = await w.store.notices()
    assert isinstance(card, UnknownPaid) and card.to == ADMINS
    assert card.order == result.order.id and card.paid == Decimal("1482") and card.user == USER
    await w.checkout.confirm(CUSTOMER, order, offered)
    assert w.panel.count("add") == 1 and len(await w.store.notices()) == 1


async def test_a_lost_answer_from_the_panel_balance_tells_no_admin() -> None:
    w = panel_world()
    w.panel.add_answers = [OrderOutcomeUnknown("connection reset")]
    order = draft(1)
    offered, _ = await summarised(w, ME, order)
    result = await w.checkout.confirm(ME, order, offered)
    assert isinstance(result, Placed) and result.order.outcome is Outcome.UNKNOWN
    assert await w.store.notices() == []
    assert [o.id for o in await w.store.orders.unfinished_of(USER)] == [result.order.id]


async def test_the_panel_balance_guard_refuses_a_customer_and_tells_admins_once() -> None:
    w = shop_world()
    await credit(w, USER, "5000")
    w.panel.balance_answer = Balance.parse({"balance": "1000", "currency": "IDR"})
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    assert await w.checkout.confirm(CUSTOMER, order, offered) is Refused.SHOP_CANNOT
    assert await w.checkout.confirm(CUSTOMER, order, offered) is Refused.SHOP_CANNOT
    assert w.panel.count("add") == 0 and await w.store.balance_of(USER) == Decimal("5000")
    notices = await w.store.notices()
    assert notices == [PanelShort(ADMIN, balance=Decimal("1000"), currency="IDR")]
    # an admin orders from the panel balance: the panel itself refuses what it cannot pay
    admin_order = draft(1)
    admin_offered, _ = await summarised(w, BOSS, admin_order)
    assert isinstance(await w.checkout.confirm(BOSS, admin_order, admin_offered), Placed)
    # the balance recovers (asked again once its answer is older than the TTL)
    w.panel.balance_answer = Balance.parse({"balance": "90000"})
    w.clock.advance(11)
    assert isinstance(await w.checkout.confirm(CUSTOMER, order, offered), Placed)
    assert await w.store.kv.get("panel_short_alerted") is None


async def test_lost_storage_refuses_before_the_panel_is_called() -> None:
    w = panel_world()
    order = draft(1)
    offered, _ = await summarised(w, ME, order)
    w.store.lost = True
    assert await w.checkout.confirm(ME, order, offered) is Refused.STORAGE_DOWN
    assert w.panel.count("add") == 0


async def test_the_intent_and_its_debit_are_one_unit_of_work() -> None:
    w = shop_world()
    await credit(w, USER, "5000")
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    w.store.fail(after=1)  # the intent is written, then the debit fails
    with pytest.raises(StorageFailed):
        await w.checkout.confirm(CUSTOMER, order, offered)
    assert await w.store.orders.by_intent(order.key, USER) is None  # rolled back with it
    assert await w.store.balance_of(USER) == Decimal("5000") and w.store.rollbacks == 1
    assert w.panel.count("add") == 0


async def test_a_placed_order_the_store_will_not_keep_stops_new_orders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checkout_module, "STORE_RETRY_PAUSES", (0.0, 0.0, 0.0))
    w = panel_world()
    order = draft(1)
    offered, _ = await summarised(w, ME, order)
    w.store.fail(times=3, after=1)  # the intent is written; storing the id fails 3 times
    result = await w.checkout.confirm(ME, order, offered)
    assert isinstance(result, OrderNotStored) and result.order_id == 1001
    assert w.store.lost
    second = draft(2)
    offered2, _ = await summarised(w, ME, second)
    assert await w.checkout.confirm(ME, second, offered2) is Refused.STORAGE_DOWN
    assert w.panel.count("add") == 1


async def test_a_refusal_the_store_would_not_keep_is_refunded_later_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checkout_module, "STORE_RETRY_PAUSES", (0.0, 0.0, 0.0))
    w = shop_world()
    await credit(w, USER, "5000")
    w.panel.add_answers = [PanelError("Service disabled")]
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    w.store.fail(times=3, after=2)  # intent and debit written; the outcome's write fails
    result = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(result, Placed) and result.order.outcome is Outcome.REJECTED
    assert await w.store.balance_of(USER) == Decimal("3518")  # not yet given back
    await w.unsaved.save()
    await w.unsaved.save()
    assert await w.store.balance_of(USER) == Decimal("5000")
    assert (await w.store.orders.get(result.order.id)).outcome is Outcome.REJECTED
    assert [e.kind for e in w.store.ledger_of(USER)].count(EntryKind.REFUND) == 1


async def test_interrupted_submissions_become_unknown_and_are_told() -> None:
    w = shop_world()
    await credit(w, USER, "5000")
    order = draft(1)
    offered, summary = await summarised(w, CUSTOMER, order)
    payment = await w.shop.payment(USER, 1, summary.quote.fields)
    row, _ = await checkout_module.record_intent(
        w.store, USER, order.key, summary.quote, "IDR", payment
    )  # the bot stopped here, before the panel answered
    assert await resolve_interrupted(w.store) == 1
    assert await resolve_interrupted(w.store) == 0
    stored = await w.store.orders.get(row.id)
    assert stored is not None and stored.outcome is Outcome.UNKNOWN
    told = await w.store.notices()
    assert [type(n) for n in told] == [Interrupted, UnknownPaid]
    assert told[0].to == USER and told[0].wallet
    assert await w.store.balance_of(USER) == Decimal("3518")
    again = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(again, Placed) and w.panel.count("add") == 0  # never sent after it


async def test_again_starts_a_draft_from_the_actors_own_order_only() -> None:
    w = panel_world()
    mine = await place(w, ME, 1, quantity=250)
    again = await w.checkout.again(ME, mine.id)
    assert again is not None and not isinstance(again, NotOffered)
    new_draft, offered = again
    assert new_draft.values == {"link": LINK, "quantity": "250"} and offered.id == 1
    assert new_draft.key != mine.intent_key
    assert await w.checkout.again(Actor(OTHER), mine.id) is None
    assert await w.checkout.again(BOSS, mine.id) is not None
    w.panel.service_list = [service(2, rate="7")]
    await w.catalog.refresh()
    assert await w.checkout.again(ME, mine.id) is NotOffered.GONE


async def test_a_confirm_without_a_summary_shown_places_nothing() -> None:
    w = panel_world()
    order = draft(1)
    offered = await w.checkout.offered(ME, 1)
    result = await w.checkout.confirm(ME, order, offered)
    assert isinstance(result, PriceChanged) and result.summary.quote.price == Decimal("0.25")
    assert (
        w.panel.count("add") == 0 and await w.store.orders.by_intent(order.key, ME.user_id) is None
    )


async def test_a_double_tap_while_the_panel_answers_sends_one_add() -> None:
    w = shop_world()
    await credit(w, USER, "5000")
    order = draft(1)
    offered, _ = await summarised(w, CUSTOMER, order)
    w.panel.hold["add"] = asyncio.Event()
    first = asyncio.create_task(w.checkout.confirm(CUSTOMER, order, offered))
    await w.panel.arrived("add").wait()
    second = await w.checkout.confirm(CUSTOMER, order, offered)
    assert isinstance(second, Placed) and second.order.outcome is Outcome.SUBMITTING
    w.panel.hold["add"].set()
    placed = await first
    assert isinstance(placed, Placed) and placed.order.outcome is Outcome.PLACED
    assert w.panel.count("add") == 1 and await w.store.balance_of(USER) == Decimal("3518")


async def test_an_admin_in_shop_mode_orders_from_the_panel_balance() -> None:
    w = shop_world()
    order = draft(1)
    offered, summary = await summarised(w, BOSS, order)
    assert summary.wallet is None and summary.balance == Decimal("1000000")
    assert summary.quote.price == Decimal("1234.5")  # the panel's price, not rounded
    result = await w.checkout.confirm(BOSS, order, offered)
    assert isinstance(result, Placed) and result.order.paid is None and result.order.cost is None
    assert w.store.ledger_of(ADMIN) == []
