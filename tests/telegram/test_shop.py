"""Shop mode through the bot: wallet orders with markup, top-ups, refunds, admins' tools."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.adapters.sandbox.panel import SandboxPanel, default_catalog
from bot.config import Settings
from bot.core.api import Service
from bot.core.checkout import record_intent
from bot.core.drafts import OrderDraft, quote
from bot.telegram import callback as cb
from tests.harness import ADMIN, OTHER, STRANGER, TOKEN, USER, Harness
from tests.telegram.walks import (
    LINK,
    SHOP,
    credit,
    money_block,
    photo_update,
    summary_of,
    summary_of_link,
    wallet_of,
)


async def test_a_customer_sees_the_markup_and_pays_from_the_wallet(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        done = await credit(bot, USER, 100_000)
        assert "now <b>IDR100,000</b>" in done.text
        card = await bot.tap(USER, cb.SERVICE(1))
        assert "IDR18,750" in card.text  # 15,000 per 1000 plus 25 %
        await bot.say(USER, "/start")
        found = await bot.say(USER, "followers")  # the customer's search: the same prices
        assert "IDR18,750/1K" in str(found.buttons)
        first = bot.sandbox.services[0]
        bot.sandbox.services[0] = first.model_copy(update={"rate": Decimal(16000)})
        await bot.catalog.refresh()  # the panel's new rate: the customers' view follows
        assert "IDR20,000" in (await bot.tap(USER, cb.SERVICE(1))).text
        bot.sandbox.services[0] = first
        await bot.catalog.refresh()
        summary = await summary_of(bot, 101)  # 101 × 18.75 = 1,893.75, charged 1,894
        assert "Price: <b>IDR1,894</b>" in summary.text
        assert "Wallet: IDR100,000 → after the order: IDR98,106" in summary.text
        placed = await bot.tap(USER, summary.button("✅"))
        assert "Order placed" in placed.text and "Paid: IDR1,894" in placed.text
        assert "Charge" not in placed.text  # the panel's charge is the shop's cost
        assert await wallet_of(bot) == Decimal(98_106)
        balance = await bot.say(USER, "/balance")
        assert "Wallet: <b>IDR98,106</b>" in balance.text
        assert any(text.startswith("➕ Top up") for text, _ in balance.buttons)
        admin_card = await bot.tap(ADMIN, cb.SERVICE(1))
        assert "IDR15,000" in admin_card.text  # admins: the panel's prices, the panel balance
        admin_balance = await bot.say(ADMIN, "/balance")
        assert "Balance: <b>" in admin_balance.text
        stats = await bot.say(ADMIN, "/stats")  # the cost: 101 at the panel's 15,000 per 1000
        assert money_block(stats.text, "Today") == {
            "Top-ups": "IDR0",
            "Credited by admins": "IDR100,000",
            "Taken by admins": "IDR0",
            "Sales": "IDR1,894",
            "Refunded to wallets": "IDR0",
            "Panel cost": "IDR1,515",
            "Profit (sales − refunds − discounts − referral shares − panel cost)": "IDR379",
        }
        page = await bot.say(ADMIN, f"/wallet {USER}")
        assert "−IDR1,894 · order #1001" in page.text and "+IDR100,000 · credit" in page.text


async def test_an_order_above_the_wallet_never_reaches_the_panel(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 1000)
        summary = await summary_of(bot, 100)  # 1,875
        assert "Your wallet is IDR875 short" in summary.text
        assert not any(text.startswith("✅") for text, _ in summary.buttons)
        assert summary.button("➕ Top up IDR10,000") == cb.TOP_UP_AMOUNT(10_000)  # the minimum
        draft = bot.data(USER).draft
        refused = await bot.tap(USER, cb.CONFIRM(draft.key, draft.turn))  # an older button
        assert "Not enough money in your wallet: IDR875 missing" in refused.text
        assert refused.button("➕ Top up IDR10,000") == cb.TOP_UP_AMOUNT(10_000)
        assert bot.sandbox.calls["add"] == 0
        assert await wallet_of(bot) == Decimal(1000)
        assert await bot.orders_of(USER) == []


async def test_a_refusal_refunds_at_once_and_cancel_and_partial_refund_as_told(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        bot.sandbox.fail_next("refuse", action="add", message="Link is private")
        refused = await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        assert "Link is private" in refused.text
        assert await wallet_of(bot) == Decimal(100_000)
        first = await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        second = await bot.tap(
            USER, (await summary_of_link(bot, "https://instagram.com/p/two", 1000)).button("✅")
        )
        assert "Order placed" in first.text and "Order placed" in second.text
        assert await wallet_of(bot) == Decimal(100_000 - 1875 - 18_750)
        orders = {o.quantity: o for o in await bot.orders_of(USER)}
        bot.sandbox.set_status(orders[100].panel_order_id, "Canceled", remains=100)
        bot.sandbox.set_status(orders[1000].panel_order_id, "Partial", remains=333)
        for _ in range(2):  # a repeated status never refunds twice
            await bot.state.tracker.run_cycle(bot.app.bot)
        # 1,875 back; 18,750 × 333 / 1000 = 6,243.75, rounded down
        assert await wallet_of(bot) == Decimal(100_000 - 18_750 + 6243)
        told = [c.text for c in bot.request.sent(USER) if "went back to your wallet" in c.text]
        assert len(told) == 2
        assert not any("The panel refunds" in text for text in told)  # the wallet is told
        assert any("IDR1,875 went back" in text for text in told)
        assert any("IDR6,243 went back" in text for text in told)
        card = await bot.tap(USER, cb.ORDER(orders[1000].id))
        assert "Paid: IDR18,750" in card.text and "Refunded to your wallet: IDR6,243" in card.text


async def test_a_top_up_with_its_proof_is_credited_once_however_often_approved(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        balance = await bot.say(USER, "/balance")
        choose = await bot.tap(USER, balance.button("➕"))
        assert "At least IDR10,000" in choose.text
        typed_too_small = await bot.say(USER, "5000")
        assert "The smallest top-up is IDR10,000" in typed_too_small.text
        instructions = await bot.say(USER, "150.000")
        assert "Top-up of <b>IDR150,000</b>" in instructions.text
        assert "BCA 123456" in instructions.text
        await bot.process(photo_update(bot, USER))
        assert "An admin checks your payment" in bot.last(USER).text
        card = bot.request.sent(ADMIN)[-1]
        assert card.method == "sendPhoto" and card.params["photo"] == "file-big"
        assert "Top-up #1" in card.params["caption"] and f"user {USER}" in card.params["caption"]
        approve = card.button("✅")
        await bot.tap(ADMIN, approve)
        await bot.tap(ADMIN, approve)  # twice: credited once
        assert "decided already" in bot.answers()[-1].params["text"]
        assert await wallet_of(bot) == Decimal(150_000)
        assert "was credited" in bot.last(USER).text
        assert [t for t, _ in bot.last(USER).buttons] == ["🛒 New order", "🏠 Menu"]  # a way on
        assert sum("was credited" in c.text for c in bot.request.sent(USER)) == 1
        # a text proof, rejected
        await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
        await bot.tap(USER, cb.TOP_UP_AMOUNT(50_000))
        await bot.say(USER, "ref 8812")
        card = bot.request.sent(ADMIN)[-1]
        assert "Proof: ref 8812" in card.text
        await bot.tap(ADMIN, card.button("❌"))
        await bot.tap(OTHER, card.button("✅"))  # not an admin: nothing
        assert "not accepted" in bot.last(USER).text
        assert await wallet_of(bot) == Decimal(150_000)


async def test_an_unknown_outcome_keeps_the_money_until_an_admin_says(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 10_000)
        bot.sandbox.fail_next("timeout", action="add")
        unknown = await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        assert "the operator checks it. The money stays held" in unknown.text
        assert "/found" not in unknown.text and "panel's website" not in unknown.text
        assert not any("not placed" in text for text, _ in unknown.buttons)  # admins decide
        assert await wallet_of(bot) == Decimal(10_000 - 1875)  # held
        await bot.state.tracker.deliver(bot.app.bot)
        alert = bot.request.sent(ADMIN)[-1]
        assert "was paid IDR1,875 from the wallet" in alert.text
        refund = alert.button("↩️")
        await bot.tap(ADMIN, refund)
        await bot.tap(ADMIN, refund)  # twice: once
        await bot.tap(ADMIN, alert.button("✅"))  # and the other button: too late
        assert "resolved already" in bot.answers()[-1].params["text"]
        assert await wallet_of(bot) == Decimal(10_000)


async def test_an_unknown_outcome_an_admin_finds_placed_is_attached(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 10_000)
        bot.sandbox.fail_next("drop", action="add")
        await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        await bot.state.tracker.deliver(bot.app.bot)
        alert = bot.request.sent(ADMIN)[-1]
        asked = await bot.tap(ADMIN, alert.button("✅"))
        assert "Send the panel's id" in asked.text
        attached = await bot.say(ADMIN, str(max(bot.sandbox.orders)))
        assert "Attached" in attached.text
        await bot.tap(ADMIN, alert.button("↩️"))
        assert "resolved already" in bot.answers()[-1].params["text"]
        assert await wallet_of(bot) == Decimal(10_000 - 1875)


async def test_admin_tools_credit_debit_limit_wallet_markup_and_stats(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 5000)
        refused = await bot.say(ADMIN, f"/debit {USER} 6000")
        assert "would be IDR1,000 below its limit" in refused.text
        await bot.say(ADMIN, f"/limit {USER} 2000")
        done = await bot.say(ADMIN, f"/debit {USER} 6000 correction")
        assert "now <b>-IDR1,000</b>" in done.text
        lowered = await bot.say(ADMIN, f"/limit {USER} 0")
        assert "holds -IDR1,000 already" in lowered.text
        for n in range(10):
            await bot.say(ADMIN, f"/credit {USER} 1{n}00")
        page = await bot.say(ADMIN, f"/wallet {USER}")
        assert "Credit limit: IDR2,000" in page.text and "Page 1 of 2" in str(page.buttons)
        assert "correction" not in page.text  # newest first: on page 2
        page2 = await bot.tap(ADMIN, cb.WALLET_PAGE(USER, 1))
        assert "correction" in page2.text and "welcome" in page2.text
        usage = await bot.say(ADMIN, "/credit someone lots")
        assert "Usage: /credit" in usage.text
        assert "did not understand" in (await bot.say(USER, f"/credit {USER} 100")).text
        rules = await bot.say(ADMIN, "/markup service 1 10")
        assert "Service 1: 10%" in rules.text
        await bot.say(ADMIN, "/markup category Instagram Followers 40")
        assert "IDR16,500" in (await bot.tap(USER, cb.SERVICE(1))).text  # the service's rule
        await bot.say(ADMIN, "/markup service 1 off")
        assert "IDR21,000" in (await bot.tap(USER, cb.SERVICE(1))).text  # its category's
        assert "Usage: /markup" in (await bot.say(ADMIN, "/markup everything 5")).text
        stats = await bot.say(ADMIN, "/stats")
        assert "<b>Money</b>" in stats.text and "7 days" in stats.text


async def test_the_panel_balance_guard_refuses_and_tells_the_admins_once(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        bot.sandbox.balance = Decimal(100)
        bot.clock.advance(3600)  # the balance as last known is stale: asked again
        for _ in range(2):
            refused = await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
            assert "cannot take this order right now" in refused.text
        shown = await bot.say(USER, "/mass 1|https://instagram.com/p/m|100")
        refused = await bot.tap(USER, shown.button("✅"))
        assert "cannot take this mass order right now" in refused.text
        await bot.state.mass_job.wait()
        assert bot.sandbox.calls["add"] == 0 and await wallet_of(bot) == Decimal(100_000)
        await bot.state.tracker.deliver(bot.app.bot)
        alerts = [c for c in bot.request.sent(ADMIN) if "cannot pay for the customers" in c.text]
        assert len(alerts) == 1


async def test_open_signup_lets_anyone_in_with_an_empty_wallet(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP, open_signup="true") as bot:
        reply = await bot.say(STRANGER, "/balance")
        assert "Wallet: <b>IDR0</b>" in reply.text
    with pytest.raises(Exception, match="OPEN_SIGNUP=true needs WALLETS=on"):
        Settings(_env_file=None, bot_token=TOKEN, panel_url="sandbox", open_signup="true")  # type: ignore[call-arg]


async def test_with_wallets_off_nothing_changes(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        placed = await bot.tap(USER, (await summary_of(bot, 100)).button("✅"))
        assert "Charge: IDR1,500" in placed.text and "Paid" not in placed.text
        assert "did not understand" in (await bot.say(ADMIN, f"/credit {USER} 100")).text


async def test_a_mass_order_from_a_wallet_sends_only_what_the_wallet_pays(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 2000)
        lines = "\n".join(f"1|https://instagram.com/p/w{n}|100" for n in range(2))
        shown = await bot.say(USER, "/mass\n" + lines)
        assert "| 100 | IDR1,875" in bot.request.sent(USER)[-1].text  # with the markup
        assert "2 orders, total <b>IDR3,750</b>" in shown.text
        assert "Wallet: IDR2,000 → after these orders: -IDR1,750" in shown.text
        assert "Your wallet is IDR1,750 short" in shown.text
        await bot.tap(USER, shown.button("✅"))
        await bot.state.mass_job.wait()
        report = bot.last(USER)
        assert "1 of 2 placed" in report.text
        assert "2. ⏭ instagram.com/p/w1: not sent, not enough money in your wallet" in report.text
        assert bot.sandbox.calls["add"] == 1
        assert await wallet_of(bot) == Decimal(125)


async def test_an_order_interrupted_by_a_restart_keeps_its_money_for_the_admins(
    tmp_path: Path,
) -> None:
    sandbox = SandboxPanel()
    async with Harness(tmp_path, sandbox, **SHOP) as bot:
        await credit(bot, USER, 10_000)
        index = await bot.state.shop.catalog_for(USER)
        draft = OrderDraft(service_id=1, values={"link": LINK, "quantity": "100"})
        payment = await bot.state.shop.payment(USER, 1, draft.fields())
        offer = quote(draft, index.by_id[1])
        await record_intent(bot.store, USER, draft.key, offer, "IDR", payment)
        # the bot is killed here, before the panel answered
    async with Harness(tmp_path, sandbox, **SHOP) as bot:  # the restart
        await bot.state.tracker.deliver(bot.app.bot)
        notice = next(c for c in bot.request.sent(USER) if "interrupted" in c.text)
        assert "The operator checks it; the money stays held" in notice.text
        assert "/found" not in notice.text
        alert = next(c for c in bot.request.sent(ADMIN) if "outcome is unknown" in c.text)
        assert "was paid IDR1,875 from the wallet" in alert.text
        assert await wallet_of(bot) == Decimal(10_000 - 1875)
        await bot.tap(ADMIN, alert.button("↩️"))
        assert await wallet_of(bot) == Decimal(10_000)


async def test_a_subscription_is_not_sold_from_a_wallet(tmp_path: Path) -> None:
    async with Harness(tmp_path, **SHOP) as bot:
        await credit(bot, USER, 1_000_000)
        refused = await bot.tap(USER, cb.START_ORDER(5))  # Instagram Auto Likes, per post
        assert "cannot be paid from a wallet" in refused.text
        assert bot.data(USER).draft is None
        asked = await bot.tap(ADMIN, cb.START_ORDER(5))  # admins: the panel balance, as before
        assert "cannot be paid" not in asked.text


async def test_forged_shop_buttons_and_odd_amounts_change_no_money(tmp_path: Path) -> None:
    async with Harness(tmp_path, **{**SHOP, "deposit_min": "0"}) as bot:
        await credit(bot, USER, 10_000)
        await bot.tap(USER, cb.TOP_UP_AMOUNT(0))  # a forged button: no top-up of nothing
        assert await bot.store.deposits.awaiting_proof(USER) is None
        for forged in (cb.DEPOSIT_APPROVE(1), cb.UNKNOWN_NOT_PLACED(1), cb.WALLET_PAGE(ADMIN, 0)):
            reply = await bot.tap(USER, forged)  # admins' buttons, tapped by a customer
            assert "expired" in reply.text
        for typed in ("-5000", "1e9", "١٠٠", "9" * 20, "12.345.678,9.1", "Rp 5.000,-"):
            await bot.tap(USER, (await bot.say(USER, "/balance")).button("➕"))
            reply = await bot.say(USER, typed)
            assert "That is not an amount" in reply.text, typed
        await bot.say(ADMIN, f"/credit {USER} -100")
        await bot.say(ADMIN, "/markup all 5000")
        assert await wallet_of(bot) == Decimal(10_000)
        assert (await bot.state.shop.markup_rules()) == {}


async def test_customers_never_see_the_suppliers_price_tags(tmp_path: Path) -> None:
    tagged = dict(
        default_catalog()[0],
        service=77,
        category="Instagram Likes",
        name="Instagram Likes [ Max 15k ] [ 0.4$/K ] [ No Refill ]",
    )
    sandbox = SandboxPanel(services=[Service.model_validate(tagged)])
    async with Harness(tmp_path, sandbox, **SHOP) as bot:
        await credit(bot, USER, 100_000)
        listing = await bot.say(USER, "/order")
        services = await bot.tap(USER, listing.buttons[0][1])
        assert all("$" not in text for text, _ in services.buttons)
        card = await bot.tap(USER, cb.SERVICE(77))
        assert "Instagram Likes [ Max 15k ] [ No Refill ]" in card.text and "0.4$" not in card.text
        found = await bot.say(USER, "instagram likes")
        assert "0.4$" not in found.text + str(found.buttons)
        await bot.say(USER, LINK)
        placed = await bot.tap(USER, (await bot.say(USER, "1000")).button("✅"))
        assert "Order placed" in placed.text and "0.4$" not in placed.text
        (order,) = await bot.orders_of(USER)
        assert order.service_name == "Instagram Likes [ Max 15k ] [ No Refill ]"
        team = await bot.tap(ADMIN, cb.SERVICE(77))
        assert "[ 0.4$/K ]" in team.text  # the operator sees what the panel says
