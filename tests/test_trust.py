"""Shop mode against customers who try things and panels that answer nonsense: every amount
shown is the amount that moves, and nobody takes what is not theirs (one test per finding)."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from bot.__main__ import wallets_problem
from bot.domain import Order, Outcome
from bot.panel.models import OrderStatus
from bot.ui import callback as cb
from tests.harness import ADMIN, OTHER, USER, Harness
from tests.test_shop import SHOP, credit, money_block, summary_of, wallet_of


async def set_rate(bot: Harness, rate: str) -> None:
    first = bot.sandbox.services[0]
    bot.sandbox.services[0] = first.model_copy(update={"rate": Decimal(rate)})
    await bot.state.catalog.refresh()


# -- a hostile or broken panel moves no money -------------------------------------------------


@pytest.mark.parametrize("rate", ["-15000", "0", "1E+9999"])
async def test_a_rate_no_order_can_have_makes_the_service_unsellable(
    tmp_path: Path, rate: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 10_000)
        await set_rate(bot, rate)
        await bot.state.catalog.refresh()  # a second refresh: logged once
        assert sum("left out for a rate" in r.getMessage() for r in caplog.records) == 1
        assert "expired" in (await bot.tap(USER, cb.START_ORDER(1))).text
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
        tracking = bot.state.tracking
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
        assert (await bot.state.store.orders.get(order.id)).outcome is Outcome.UNKNOWN
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
        assert (await bot.state.store.orders.get(order.id)).outcome is Outcome.UNKNOWN
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
            assert (await bot.state.store.orders.get(order.id)).outcome is Outcome.UNKNOWN
        attached = await bot.say(USER, f"/found {order.id} {real}")
        assert f"Order #{real} is attached" in attached.text
        again = await bot.say(USER, f"/found {order.id} {real}")
        assert "not waiting for a panel order id" in again.text
