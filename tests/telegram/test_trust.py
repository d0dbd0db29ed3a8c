"""Shop mode against customers who try things and panels that answer nonsense: every amount
shown is the amount that moves, and nobody takes what is not theirs (one test per finding)."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from unittest.mock import AsyncMock

import pytest

from bot.commands import wallets_problem
from bot.core import checkout as ordering
from bot.core.api import OrderStatus
from bot.core.catalog import CatalogIndex
from bot.core.mass_order import LineResult
from bot.core.ports import StorageFailed
from bot.core.records import Order, Outcome
from bot.telegram import callback as cb
from tests.harness import ADMIN, OTHER, USER, Harness
from tests.telegram.walks import (
    SHOP,
    credit,
    money_block,
    photo_update,
    summary_of,
    summary_of_link,
    wallet_of,
)


async def set_rate(bot: Harness, rate: str) -> None:
    first = bot.sandbox.services[0]
    bot.sandbox.services[0] = first.model_copy(update={"rate": Decimal(rate)})
    await bot.catalog.refresh()


# -- a hostile or broken panel moves no money -------------------------------------------------


@pytest.mark.parametrize("rate", ["-15000", "0", "1E+9999"])
async def test_a_rate_no_order_can_have_makes_the_service_unsellable(
    tmp_path: Path, rate: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 10_000)
        await set_rate(bot, rate)
        await bot.catalog.refresh()  # a second refresh: logged once
        assert sum("left out for a rate" in r.getMessage() for r in caplog.records) == 1
        assert "no longer offered" in (await bot.tap(USER, cb.START_ORDER(1))).text
        assert "expired" in (await bot.tap(USER, cb.SERVICE(1))).text
        listing = await bot.tap(USER, cb.CATEGORIES(0))  # every page still lists
        category = listing.button_of(cb.CATEGORY, 0, 0)
        await bot.tap(USER, category)
        await bot.say(USER, "followers")
        assert bot.sandbox.calls["add"] == 0
        assert await wallet_of(bot) == Decimal(10_000)


async def test_a_status_in_another_currency_keeps_the_orders_own(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        await bot.tap(USER, (await summary_of(bot, 1000)).button("✅"))
        (order,) = await bot.orders_of(USER)
        bot.sandbox.currency = "USD"
        bot.sandbox.set_status(order.panel_order_id, "Partial", remains=333)
        await bot.state.tracker.run_cycle(bot.app.bot)
        (order,) = await bot.orders_of(USER)
        assert order.currency == "IDR"
        assert order.refunded == Decimal(6243)  # whole rupiah, never a fraction
        assert await wallet_of(bot) == Decimal(100_000 - 18_750 + 6243)
        told = bot.request.sent(USER)[-1].text
        assert "IDR6,243 went back to your wallet" in told


async def test_hostile_statuses_give_back_no_more_than_was_paid(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        await bot.tap(USER, (await summary_of(bot, 1000)).button("✅"))
        (order,) = await bot.orders_of(USER)
        tracking = bot.tracking
        for hostile in (
            {"status": "Partial", "remains": "999999999", "charge": "1000000000000"},
            {"status": "Partial", "remains": "-50"},
            {"status": "Refunded", "remains": "0", "charge": "-5"},
            {"status": "Canceled", "remains": "1000"},
        ):
            order = await tracking.record(order, OrderStatus.parse(hostile))
        assert order.refunded == Decimal(18_750)  # everything paid, once
        assert await wallet_of(bot) == Decimal(100_000)
        stats = await bot.say(ADMIN, "/stats")
        today = money_block(stats.text, "Today")
        assert today["Panel cost"] == "IDR0"  # canceled: the panel gave it all back
        assert today["Sales"] == today["Refunded to wallets"] == "IDR18,750"


async def test_check_fails_on_an_entry_that_moves_money_against_its_kind(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 10_000)
        await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        settings = bot.settings
    assert await wallets_problem(settings) is None
    conn = sqlite3.connect(settings.database_path)  # an order that credited its wallet
    conn.execute("UPDATE ledger SET amount = '1875' WHERE kind = 'debit_order'")
    conn.execute("UPDATE wallets SET balance = '11875'")
    conn.commit()
    conn.close()
    problem = await wallets_problem(settings)
    assert problem is not None and "1 ledger entr(y/ies) move money against their kind" in problem


# -- taking what is not yours -------------------------------------------------------------------


def website_order(bot: Harness, service: int = 1, quantity: int = 100) -> int:
    """An order someone places on the panel's website, outside the bot."""
    form = {"key": "sandbox", "action": "add", "service": str(service)}
    form |= {"link": "https://instagram.com/p/operator", "quantity": str(quantity)}
    status, body, _ = bot.sandbox.respond(form)
    assert status == 200
    return int(json.loads(body)["order"])


async def lost_order(bot: Harness, user: int = USER, quantity: int = 100) -> Order:
    """An order the panel took, its answer lost on the way back (its outcome is unknown)."""
    bot.sandbox.fail_next("drop", action="add")
    await bot.tap(user, (await summary_of(bot, quantity, user)).button("✅"))
    (order,) = [o for o in await bot.orders_of(user) if o.panel_order_id is None]
    return order


async def test_a_customer_cannot_attach_a_panel_order_to_their_paid_order(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 10_000)
        order = await lost_order(bot)
        operators = website_order(bot)
        refused = await bot.say(USER, f"/found {order.id} {operators}")
        assert "the operator checks on the panel" in refused.text
        assert (await bot.store.orders.get(order.id)).outcome is Outcome.UNKNOWN
        assert "not found" in (await bot.say(USER, f"/status {operators}")).text
        bot.sandbox.set_status(operators, "Canceled", remains=100)
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert await wallet_of(bot) == Decimal(10_000 - 1875)  # held, not refunded


async def test_an_admin_cannot_attach_a_panel_id_another_order_has(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        await credit(bot, OTHER, 100_000)
        await bot.tap(OTHER, (await summary_of(bot, 100, OTHER)).button("✅"))
        (others,) = await bot.orders_of(OTHER)
        order = await lost_order(bot)
        await bot.state.tracker.deliver(bot.app.bot)
        alert = bot.request.sent(ADMIN)[-1]
        await bot.tap(ADMIN, alert.button("✅"))
        refused = await bot.say(ADMIN, str(others.panel_order_id))
        assert "already one of the bot's orders" in refused.text
        assert (await bot.store.orders.get(order.id)).outcome is Outcome.UNKNOWN
        bot.sandbox.set_status(others.panel_order_id, "Canceled", remains=100)
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert await wallet_of(bot, OTHER) == Decimal(100_000)  # one refund, to its owner
        assert await wallet_of(bot) == Decimal(100_000 - 1875)
        # the id it really has: attached, the owner told, and followed
        real = max(bot.sandbox.orders)
        attached = await bot.say(ADMIN, str(real))
        assert "Attached" in attached.text
        await bot.state.tracker.delivered()
        assert f"was placed after all: it is order {real}" in bot.last(USER).text


async def test_found_checks_all_the_api_allows(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:  # a team: no wallets, /found is theirs
        older = website_order(bot)  # before the bot's newest order: it cannot be a later one
        await bot.tap(OTHER, (await summary_of(bot, 100, OTHER)).button("✅"))
        (others,) = await bot.orders_of(OTHER)
        order = await lost_order(bot)
        real = max(bot.sandbox.orders)
        dearer = website_order(bot, quantity=5000)  # newer, but charged 75,000 not 1,500
        cases = {
            others.panel_order_id: "already one of the bot's orders",
            older: "is older than order",
            real + 1000: "The panel does not know order",
            dearer: "The panel charged more",
        }
        for panel_id, answer in cases.items():
            assert answer in (await bot.say(USER, f"/found {order.id} {panel_id}")).text
            assert (await bot.store.orders.get(order.id)).outcome is Outcome.UNKNOWN
        attached = await bot.say(USER, f"/found {order.id} {real}")
        assert f"Order #{real} is attached" in attached.text
        again = await bot.say(USER, f"/found {order.id} {real}")
        assert "not waiting for a panel order id" in again.text


# -- the price shown is the price taken ---------------------------------------------------------


async def test_confirm_takes_the_price_the_summary_showed_or_nothing(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        summary = await summary_of(bot, 1000)
        assert "Price: <b>IDR18,750</b>" in summary.text
        await bot.say(ADMIN, "/markup all 300")  # the admin changes the markup meanwhile
        changed = await bot.tap(USER, summary.button("✅"))
        assert "The price changed since the summary" in changed.text
        assert "Price: <b>IDR60,000</b>" in changed.text
        assert bot.sandbox.calls["add"] == 0 and await wallet_of(bot) == Decimal(100_000)
        await set_rate(bot, "20000")  # and the panel's rate changes too
        again = await bot.tap(USER, changed.button("✅"))
        assert "Price: <b>IDR80,000</b>" in again.text and bot.sandbox.calls["add"] == 0
        placed = await bot.tap(USER, again.button("✅"))  # what it showed last: taken
        assert "Order placed" in placed.text and "Paid: IDR80,000" in placed.text
        assert await wallet_of(bot) == Decimal(20_000)


async def test_the_summary_shows_the_wallet_and_the_credit_limit_apart(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 101_280)
        await bot.say(ADMIN, f"/limit {USER} 50000")
        summary = await summary_of(bot, 1000)
        assert "Wallet: IDR101,280 → after the order: IDR82,530" in summary.text
        assert "Credit limit: IDR50,000" in summary.text
        big = await summary_of(bot, 7000)  # 131,250: within the limit
        assert "Wallet: IDR101,280 → after the order: -IDR29,970" in big.text
        assert "short" not in big.text and big.button("✅")
        too_big = await summary_of(bot, 9000)  # 168,750: 17,470 beyond the limit
        assert "Your wallet is IDR17,470 short" in too_big.text
        assert not any(text.startswith("✅") for text, _ in too_big.buttons)
        opened = await bot.tap(USER, too_big.button("➕ Top up IDR17,470"))
        assert "Top-up of <b>IDR17,470</b>" in opened.text


async def test_without_top_ups_a_short_wallet_is_told_to_ask_the_operator(tmp_path: Path) -> None:
    async with Harness(tmp_path, **{**SHOP, "deposit_instructions": ""}) as bot:
        await credit(bot, USER, 1000)
        summary = await summary_of(bot, 100)
        assert "Ask the operator to top up your wallet" in summary.text
        assert not any(text.startswith(("✅", "➕")) for text, _ in summary.buttons)


# -- top-ups --------------------------------------------------------------------------------------


async def test_top_ups_have_a_cap_wait_one_at_a_time_and_reach_admins_clean(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, **SHOP, deposit_max="1000000") as bot:
        await bot.tap(USER, cb.TOP_UP())
        assert "The largest top-up is IDR1,000,000" in (await bot.say(USER, "999999999999")).text
        assert "are whole" in (await bot.say(USER, "25.000,50")).text
        await bot.say(USER, "50.000")
        bidi = "Budi \u202e000.001pR\u200b"
        await bot.say(USER, f"ref 8812 {bidi}")
        card = bot.request.sent(ADMIN)[-1]
        assert "\u202e" not in card.text and "\u200b" not in card.text
        assert "Top-up #1" in card.text
        again = await bot.tap(USER, cb.TOP_UP())  # one waiting at a time
        assert "is waiting for an admin" in again.text
        assert "is waiting for an admin" in (await bot.tap(USER, cb.TOP_UP_AMOUNT(60_000))).text
        balance = await bot.say(USER, "/balance")
        assert "⏳ Top-up waiting: IDR50,000, sent" in balance.text
        cards = [c for c in bot.request.sent(ADMIN) if "Top-up #" in c.text]
        assert len(cards) == 1
        listed = await bot.say(ADMIN, "/deposits")
        assert "1 top-up waiting" in listed.text and "#1 · IDR50,000" in listed.text
        reopened = await bot.tap(ADMIN, listed.button("#1"))
        assert "Top-up #1" in reopened.text and reopened.button("✅")


async def test_top_ups_count_against_the_users_limit(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        for _ in range(15):
            await bot.tap(USER, cb.TOP_UP_AMOUNT(50_000))
        assert "going too fast" in bot.last(USER).text


async def test_a_deposit_card_is_never_lost_to_a_bot_api_error(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await bot.tap(USER, cb.TOP_UP_AMOUNT(50_000))
        error = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
        expired = {"ok": False, "error_code": 400, "description": "Bad Request: wrong file id"}
        bot.request.fail_with["sendPhoto"] = [(500, error), (400, expired)]
        await bot.process(photo_update(bot, USER))
        assert "An admin checks your payment" in bot.last(USER).text
        assert not [c for c in bot.request.sent(ADMIN) if "Top-up #1" in c.text]
        await bot.state.tracker.run_cycle(bot.app.bot)  # the next cycle: the photo fails,
        card = bot.request.sent(ADMIN)[-1]  # so the card goes as text
        assert card.method == "sendMessage" and "Top-up #1" in card.text
        assert "photo could not be shown" in card.text
        await bot.tap(ADMIN, card.button("✅"))
        assert await wallet_of(bot) == Decimal(50_000)
        assert "was credited" in bot.last(USER).text


async def test_wallets_hold_whole_rupiah_only(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        refused = await bot.say(ADMIN, f"/credit {USER} 25.000,50")
        assert "are whole" in refused.text
        assert "are whole" in (await bot.say(ADMIN, f"/limit {USER} 100,5")).text
        assert await wallet_of(bot) == Decimal(0)
        assert "now <b>IDR25,000</b>" in (await bot.say(ADMIN, f"/credit {USER} 25.000")).text


async def test_a_mass_order_takes_the_prices_its_preview_showed(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 1_000_000)
        lines = "\n".join(f"1|https://instagram.com/p/m{n}|1000" for n in range(3))
        shown = await bot.say(USER, "/mass\n" + lines)
        assert "3 orders, total <b>IDR56,250</b>" in shown.text
        await bot.say(ADMIN, "/markup all 1000")
        again = await bot.tap(USER, shown.button("✅"))
        assert "Prices changed since the preview" in again.text
        assert "3 orders, total <b>IDR495,000</b>" in again.text
        assert "expired" in (await bot.tap(USER, shown.button("✅"))).text  # the old one
        assert bot.sandbox.calls["add"] == 0 and await wallet_of(bot) == Decimal(1_000_000)
        await bot.tap(USER, again.button("✅"))  # what it showed: taken
        await bot.state.mass_job.wait()
        assert bot.sandbox.calls["add"] == 3
        assert await wallet_of(bot) == Decimal(1_000_000 - 495_000)


async def test_a_price_changed_while_a_mass_order_runs_skips_its_lines(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 1_000_000)
        lines = "\n".join(f"1|https://instagram.com/p/m{n}|1000" for n in range(3))
        shown = await bot.say(USER, "/mass\n" + lines)
        (key,) = cb.MASS_CONFIRM.parse(shown.button("✅"))
        mass = bot.state.mass
        batch = await mass.start(key, USER, USER, 1)

        async def raise_the_markup_after_the_first_line(done: int, total: int) -> None:
            if done == 1:
                await bot.state.shop.set_markup("all", "", Decimal(1000))

        reports = await mass.run(batch, raise_the_markup_after_the_first_line)
        assert [r.result for r in reports] == [
            LineResult.PLACED,
            LineResult.PRICE_CHANGED,
            LineResult.PRICE_CHANGED,
        ]
        assert bot.sandbox.calls["add"] == 1
        assert await wallet_of(bot) == Decimal(1_000_000 - 18_750)
        again = await mass.run(await mass.get(key, USER), raise_the_markup_after_the_first_line)
        assert bot.sandbox.calls["add"] == 1 and again == reports  # a restart: nothing more


async def test_a_service_dropped_during_a_mass_order_fails_its_lines_alone(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 1_000_000)
        text = "1|https://instagram.com/p/a|1000\n4|https://instagram.com/p/b|1\n1|https://instagram.com/p/c|1000"
        shown = await bot.say(USER, "/mass\n" + text)
        catalog = bot.catalog
        before = await catalog.get()
        after = CatalogIndex([s for s in before.services if s.id != 1], before.fetched_at)
        real_add = bot.sandbox.respond

        def refresh_without_service_one(form: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
            if form.get("action") == "add":  # a refresh between two lines drops service 1
                catalog.get = AsyncMock(return_value=after)  # type: ignore[method-assign]
            return real_add(form)

        bot.sandbox.respond = refresh_without_service_one  # type: ignore[method-assign]
        await bot.tap(USER, shown.button("✅"))
        await bot.state.mass_job.wait()
        report = bot.last(USER).text
        assert "Mass order done</b>: 2 of 3 placed" in report
        assert "3. ⏭ instagram.com/p/c: not sent, the service is no longer offered" in report
        assert await bot.store.mass.running() == []  # finished, not stuck "running"
        orders = await bot.orders_of(USER)
        assert len(orders) == 2  # the dropped line took nothing
        assert await wallet_of(bot) == Decimal(1_000_000) - sum(o.paid or 0 for o in orders)


# -- failures that leave money stuck, everyone's fair share ---------------------------------------


async def test_a_refusal_the_database_would_not_store_is_refunded_by_the_bot_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ordering, "STORE_RETRY_PAUSES", (0.0, 0.0, 0.0))
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 10_000)
        orders = bot.store.orders
        real = ordering.end_submission
        failing = {"left": 4}  # three tries at once, then the first cycle

        async def end_submission(*args: object) -> Order:
            if failing["left"]:
                failing["left"] -= 1
                raise StorageFailed("disk I/O error")
            return await real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(ordering, "end_submission", end_submission)
        bot.sandbox.fail_next("refuse", action="add", message="Link is private")
        refused = await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        assert "Link is private" in refused.text  # the user reads the refusal at once
        assert await wallet_of(bot) == Decimal(10_000 - 1875)  # not stored yet
        await bot.state.tracker.run_cycle(bot.app.bot)  # still failing: kept
        await bot.state.tracker.run_cycle(bot.app.bot)  # stored now: refunded
        assert await wallet_of(bot) == Decimal(10_000)
        for _ in range(3):
            await bot.state.tracker.run_cycle(bot.app.bot)
        assert await wallet_of(bot) == Decimal(10_000)  # once
        (order,) = [o for o in await orders.by_ids([1])]
        assert order.outcome is Outcome.REJECTED and order.refunded == Decimal(1875)


async def test_confirm_counts_against_the_users_limit(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 1_000_000)
        for n in range(12):
            summary = await summary_of_link(bot, f"https://instagram.com/p/l{n}", 100)
            await bot.tap(USER, summary.button("✅"))
        assert "going too fast" in bot.last(USER).text
        assert bot.sandbox.calls["add"] <= 10
        text = "\n".join(f"1|https://instagram.com/p/x{n}|100" for n in range(2))
        shown = await bot.say(USER, "/mass\n" + text)
        assert "going too fast" in (await bot.tap(USER, shown.button("✅"))).text
        await bot.state.mass_job.wait()
        assert bot.sandbox.calls["add"] <= 10


# -- screens that state something false -----------------------------------------------------------


async def test_refill_asks_the_panel_when_the_stored_status_is_not_final(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))  # service 1: refill
        (order,) = await bot.orders_of(USER)
        bot.sandbox.set_status(order.panel_order_id, "Completed", remains=0)  # not polled yet
        refill = await bot.say(USER, f"/refill {order.panel_order_id}")
        assert "refill requested" in refill.text
        (order,) = await bot.orders_of(USER)
        assert order.status == "Completed"  # what the panel said is kept


async def test_cancel_asks_the_panel_when_the_stored_status_is_not_final(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        (order,) = await bot.orders_of(USER)
        bot.sandbox.set_status(order.panel_order_id, "Completed", remains=0)
        ask = await bot.say(USER, f"/cancel {order.panel_order_id}")
        done = await bot.tap(USER, ask.button("Yes"))
        assert "already finished" in done.text and bot.sandbox.calls["cancel"] == 0


async def test_a_pending_drip_feed_is_no_progress_and_reads_as_its_runs(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(1))
        await bot.say(USER, "https://instagram.com/p/drip")
        question = await bot.say(USER, "500")
        await bot.tap(USER, question.button_of(cb.DRIP_FEED, 1))
        await bot.say(USER, "5")
        placed = await bot.tap(USER, (await bot.say(USER, "10")).button("✅"))
        assert "Quantity: 500 × 5 runs = 2,500" in placed.text
        (order,) = await bot.orders_of(USER)
        bot.sandbox.set_status(order.panel_order_id, "Pending", remains=500)
        sent = len(bot.request.sent(USER))
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert len(bot.request.sent(USER)) == sent  # pending: nothing delivered to tell
        assert "%" not in (await bot.tap(USER, cb.ORDER(order.id))).text
        listing = await bot.say(USER, "/orders")
        assert "500 × 5 runs = 2,500 · Instagram Followers" in listing.text
        bot.sandbox.set_status(order.panel_order_id, "Partial", remains=1000)
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert "quantity 500 × 5 runs = 2,500" in bot.last(USER).text


async def test_a_canceled_order_says_what_the_panel_refunded(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, (await summary_of(bot, 1000)).button("✅"))
        (order,) = await bot.orders_of(USER)
        bot.sandbox.set_status(order.panel_order_id, "Canceled", remains=1000)
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert "The panel refunds IDR15,000" in bot.last(USER).text
        card = await bot.tap(USER, cb.ORDER(order.id))
        assert "Charge: IDR15,000" in card.text and "Refunded by the panel: IDR15,000" in card.text


async def test_forged_filters_and_absurd_user_ids_are_expired_or_usage(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        assert "expired" in (await bot.tap(USER, cb.ORDERS(0, 9, 0))).text
        assert "expired" in (await bot.tap(ADMIN, cb.ORDERS(0, 999, 0))).text
        huge = "9" * 23
        assert "Usage: /credit" in (await bot.say(ADMIN, f"/credit {huge} 5000")).text
        assert "Usage: /wallet" in (await bot.say(ADMIN, f"/wallet {huge}")).text
        assert "Your orders" in (await bot.say(ADMIN, f"/orders {huge}")).text
        assert not [c for c in bot.request.sent() if "Something went wrong" in c.text]
