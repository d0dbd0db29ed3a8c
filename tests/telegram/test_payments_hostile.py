"""Attacks on the automatic top-ups through the bot: another user's buttons, stale and forged
buttons, Stars updates of someone else's top-up, and callbacks over the bot's own payments
server; nobody acts on a payment that is not theirs, and nothing is credited twice."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import httpx

from bot.telegram import callback as cb
from tests.adapters.payments.fake_tripay import FakeTripay
from tests.adapters.payments.test_qris import STATIC
from tests.harness import ADMIN, OTHER, USER, Harness
from tests.telegram.test_payments import (
    SHOP,
    answers_of,
    choose,
    open_tripay,
    paid_update,
    post,
    pre_checkout_update,
    tripay_settings,
    wallet_of,
)

EXPIRED = "This menu has expired"


async def test_another_users_check_button_is_expired_and_asks_nothing(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        shown, reference = await open_tripay(bot, tripay)
        check = shown.button("🔄")
        tripay.pay(reference)
        asked = len(tripay.requests)
        other = await bot.tap(OTHER, check)
        assert EXPIRED in other.text
        assert len(tripay.requests) == asked  # the gateway not even asked
        assert await wallet_of(bot, OTHER) == 0
        # a forged Check of a deposit that does not exist, or of absurd numbers
        for data in (cb.PAY_CHECK(999), cb.PAY_CHECK(0), "1Uc:999999999999", "1Uc:-1"):
            assert EXPIRED in (await bot.tap(OTHER, data)).text
        # its owner's Check credits, once however often
        await bot.tap(USER, check)
        await bot.tap(USER, check)
        await bot.state.tracker.delivered()
        assert await wallet_of(bot) == Decimal(50_000)
        assert sum("was credited" in c.text for c in bot.request.sent(USER)) == 1


async def test_forged_ways_to_pay_open_nothing(tmp_path: Path, tripay: FakeTripay) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        forged = [
            cb.PAY_WITH("tripay", "BRIVA", 50_000),  # a channel not offered
            cb.PAY_WITH("midtrans", "-", 50_000),  # a gateway not enabled
            cb.PAY_WITH("paypal", "-", 50_000),
            cb.PAY_WITH("qris", "-", 50_000),
        ]
        for data in forged:
            assert EXPIRED in (await bot.tap(USER, data)).text
        for amount in (0, 1, 999_999_999_999):
            reply = await bot.tap(USER, cb.PAY_WITH("tripay", "QRIS", amount))
            assert "top-up is" in reply.text  # the smallest / the largest
        assert tripay.transactions == {}
        assert answers_of(bot, "sendInvoice") == []
        # an admin (who orders from the panel balance) is offered no top-up
        await bot.tap(ADMIN, cb.PAY_WITH("tripay", "QRIS", 50_000))
        await bot.tap(ADMIN, cb.PAY_WITH("stars", "-", 50_000))
        assert tripay.transactions == {} and answers_of(bot, "sendInvoice") == []


async def test_a_double_tap_shows_one_payment(tmp_path: Path, tripay: FakeTripay) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        choices = await choose(bot)
        tap = choices.button("QRIS (Tripay)")
        await bot.tap(USER, tap)
        await bot.tap(USER, tap)
        assert len(tripay.transactions) == 1


async def test_stars_of_another_users_top_up_are_not_taken(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        await bot.tap(OTHER, (await bot.say(OTHER, "/balance")).button("➕"))
        await bot.tap(OTHER, (await bot.say(OTHER, "25000")).button("⭐"))
        # USER's client asks to pay OTHER's invoice (DEP-1)
        await bot.process(pre_checkout_update(bot, "DEP-1", 250))
        assert answers_of(bot, "answerPreCheckoutQuery")[-1]["ok"] is False
        await bot.process(paid_update(bot, "DEP-1", 250, "stxSTOLEN"))
        assert await wallet_of(bot, USER) == 0 and await wallet_of(bot, OTHER) == 0
        assert "could not be matched" in bot.last(USER).text
        await bot.process(pre_checkout_update(bot, "DEP-1", 250, currency="USD"))
        assert answers_of(bot, "answerPreCheckoutQuery")[-1]["ok"] is False


async def test_a_stale_or_foreign_i_have_paid_proves_nothing(tmp_path: Path) -> None:
    """The "I have paid" of a gateway-free QRIS names its top-up: tapped by someone else, or
    after its top-up was replaced by another, it proves nothing (the admins' card would name
    an amount the customer never paid)."""
    settings = {**SHOP, "payments": "qris,manual", "qris_static": STATIC}
    async with Harness(tmp_path, **settings) as bot:
        shown = await bot.tap(USER, (await choose(bot, 40_000)).button("QRIS"))
        paid = shown.button("✅ I have paid")
        assert cb.QRIS_PAID.parse(paid) == (1,)
        # another customer, with a top-up of their own waiting for its receipt
        await bot.tap(OTHER, (await bot.say(OTHER, "/balance")).button("➕"))
        await bot.tap(OTHER, (await bot.say(OTHER, "30000")).button("🧾"))
        cards = len(bot.request.sent(ADMIN))
        assert EXPIRED in (await bot.tap(OTHER, paid)).text
        # the customer replaces it with a manual top-up, then taps the old button
        await bot.tap(USER, (await choose(bot, 20_000)).button("🧾"))
        assert EXPIRED in (await bot.tap(USER, paid)).text
        assert EXPIRED in (await bot.tap(USER, cb.QRIS_PAID(999))).text
        assert len(bot.request.sent(ADMIN)) == cards  # no admin was asked to approve anything
        assert (await bot.store.deposits.get(2)).state == "awaiting_proof"  # type: ignore[union-attr]
        # their own QRIS top-up's button still works
        shown = await bot.tap(USER, (await choose(bot, 40_000)).button("QRIS"))
        await bot.tap(USER, shown.button("✅ I have paid"))
        assert len(bot.request.sent(ADMIN)) == cards + 1


async def test_callbacks_raced_over_http_credit_once(tmp_path: Path, tripay: FakeTripay) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        _, reference = await open_tripay(bot, tripay)
        tripay.pay(reference)
        body, headers = tripay.callback(reference)
        responses = await asyncio.gather(*(post(bot, "tripay", body, headers) for _ in range(30)))
        assert {r.status_code for r in responses} == {200}
        assert await wallet_of(bot) == Decimal(50_000)
        assert sum("was credited" in c.text for c in bot.request.sent(USER)) == 1


async def test_hostile_http_at_the_bot_s_payments_server_credits_nothing(
    tmp_path: Path, tripay: FakeTripay
) -> None:
    async with Harness(tmp_path, **tripay_settings(tripay)) as bot:
        _, reference = await open_tripay(bot, tripay)
        tripay.pay(reference)
        body, headers = tripay.callback(reference)
        server = bot.parts.payments_server
        assert server is not None
        async with httpx.AsyncClient() as http:
            url = f"{server.url}/payments/tripay"
            assert (await http.get(url)).status_code == 405
            assert (await http.put(url, content=body, headers=headers)).status_code == 405
            other = await http.post(f"{server.url}/payments/stripe", content=body, headers=headers)
            assert other.status_code == 404
            wrong = await http.post(url, content=b"{", headers={"Content-Type": "text/plain"})
            assert wrong.status_code == 200 and wrong.json() == {"success": False}
            form = await http.post(url, data={"status": "PAID", "reference": reference})
            assert form.json() == {"success": False}
        assert await wallet_of(bot) == 0
        assert (await post(bot, "tripay", body, headers)).json() == {"success": True}
        assert await wallet_of(bot) == Decimal(50_000)
