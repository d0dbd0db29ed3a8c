"""The guided order, as a user clicks through it, for every kind of service."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel, default_catalog
from bot.core.api import Service
from bot.core.records import Outcome
from bot.telegram import callback as cb
from tests.harness import OTHER, USER, Harness
from tests.telegram.walks import LINK, confirm, last_add, open_service


async def test_default_without_drip_feed(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        reply = await open_service(bot, 1)
        assert "Send the link" in reply.text
        reply = await bot.say(USER, LINK)
        assert "from 50 to 100,000" in reply.text
        reply = await bot.say(USER, "1000")
        assert "Quantity: 1,000" in reply.text  # typed 1000: grouped like every number
        assert "Price: <b>IDR15,000</b>" in reply.text  # 15000 per 1000
        assert "Balance: IDR1,000,000" in reply.text
        reply = await confirm(bot, reply)
        assert "Order placed" in reply.text and "Order 1001" in reply.text
        assert last_add(bot) == {"action": "add", "service": "1", "link": LINK, "quantity": "1000"}
        labels = [text for text, _ in reply.buttons]
        assert labels == [
            "🔄 Refresh",
            "✖️ Cancel order",
            "🔁 Order again",
            "🆘 Ask about it",
            "📦 My orders",
            "🏠 Menu",
        ]  # pending: no refill yet
        order = (await bot.store.orders.by_panel_ids([1001]))[1001]
        assert order.user_id == USER and order.outcome is Outcome.PLACED
        assert order.price == Decimal("15000") and order.currency == "IDR"


async def test_default_with_drip_feed(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 1)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "100")
        reply = await bot.tap(USER, reply.button("💧"))
        assert "How many runs" in reply.text
        assert "✖️ Cancel" in [t for t, _ in reply.buttons]
        reply = await bot.say(USER, "5")
        reply = await bot.say(USER, "30")
        assert "Drip-feed: 5 runs × 100 = <b>500</b> in all" in reply.text
        assert "Drip-feed runs: 5" not in reply.text  # said once, in the line above
        assert "IDR7,500" in reply.text  # 15000 x 100 x 5 runs / 1000
        placed = await confirm(bot, reply)
        order = (await bot.store.orders.by_panel_ids([1001]))[1001]
        assert order.quantity == 500  # what the panel's remains count down from
        assert "Quantity: 100 × 5 runs = 500" in placed.text  # as the list and notices say
        assert "Interval (minutes): 30" in placed.text  # the card lists every answer
        assert last_add(bot) == {
            "action": "add",
            "service": "1",
            "link": LINK,
            "quantity": "100",
            "runs": "5",
            "interval": "30",
        }


async def test_custom_comments_count_is_the_quantity(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 3)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "Great!\nLove it <3 & more\n\nNice")
        assert "Quantity: 3" in reply.text and "Love it &lt;3 &amp; more" in reply.text
        assert "IDR270" in reply.text  # 90000 x 3 / 1000
        await confirm(bot, reply)
        assert last_add(bot)["comments"] == "Great!\nLove it <3 & more\nNice"
        assert "quantity" not in last_add(bot)


async def test_package_costs_its_rate(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        reply = await open_service(bot, 4)
        reply = await bot.say(USER, "https://youtube.com/watch?v=x")
        assert "IDR45,000" in reply.text
        await confirm(bot, reply)
        assert last_add(bot) == {
            "action": "add",
            "service": "4",
            "link": "https://youtube.com/watch?v=x",
        }


async def test_subscriptions(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        reply = await open_service(bot, 5)
        assert "username" in reply.text
        await bot.say(USER, "@insta_user")
        await bot.say(USER, "100")
        reply = await bot.say(USER, "50")
        assert "from 100 to 10,000" in reply.text  # out of range: asked again
        reply = await bot.say(USER, "200")
        reply = await bot.tap(USER, reply.button("Skip"))  # posts
        reply = await bot.tap(USER, reply.button("Skip"))  # old posts
        assert "delay" in reply.text
        reply = await bot.tap(USER, reply.button("30 minutes"))
        reply = await bot.say(USER, "31/12/2099")
        assert "Delay (minutes): 30 minutes" in reply.text
        await confirm(bot, reply)
        assert last_add(bot) == {
            "action": "add",
            "service": "5",
            "username": "insta_user",
            "min": "100",
            "max": "200",
            "delay": "30",
            "expiry": "31/12/2099",
        }


async def test_subscriptions_min_above_max_is_asked_again(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 5)
        await bot.say(USER, "someone")
        await bot.say(USER, "5000")
        reply = await bot.say(USER, "200")  # checked now, not after six more questions
        assert "The maximum cannot be below the minimum (5,000)." in reply.text
        assert "Send the maximum quantity per post" in reply.text  # the same question again
        reply = await bot.say(USER, "6000")
        reply = await bot.tap(USER, reply.button_of(cb.SKIP))
        reply = await bot.tap(USER, reply.button_of(cb.SKIP))
        reply = await bot.tap(USER, reply.button_of(cb.CHOICE, "0"))
        summary = await bot.tap(USER, reply.button_of(cb.SKIP))
        assert "Posts: unlimited (until it expires or is canceled)" in summary.text
        assert "Expiry: none" in summary.text
        assert "Price: up to <b>" in summary.text and "per post" in summary.text


async def test_drip_feed_summary_shows_the_total_and_the_total_is_checked(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 1)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "1000")
        await bot.tap(USER, reply.button("💧"))
        reply = await bot.say(USER, "200")  # 200 x 1,000 is over the service's 100,000
        assert "more than this service delivers (100,000)" in reply.text
        assert "at most 100 runs" in reply.text
        await bot.say(USER, "50")
        reply = await bot.say(USER, "10080")  # 49 weeks
        assert "more than 90 days" in reply.text
        summary = await bot.say(USER, "60")
        assert "Drip-feed: 50 runs × 1,000 = <b>50,000</b> in all" in summary.text
        assert "One run every 60 min, over about 2 days" in summary.text
        assert "Price: <b>IDR750,000</b> (50,000 at IDR15,000 per 1000)" in summary.text
        reply = await confirm(bot, summary)
        assert last_add(bot)["runs"] == "50" and last_add(bot)["interval"] == "60"


async def test_mentions_with_hashtags(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 6)
        await bot.say(USER, LINK)
        await bot.say(USER, "500")
        reply = await bot.say(USER, "@alice\nbob")
        assert "hashtags" in reply.text
        reply = await bot.say(USER, "#one\n#two")
        await confirm(bot, reply)
        assert last_add(bot) == {
            "action": "add",
            "service": "6",
            "link": LINK,
            "quantity": "500",
            "usernames": "alice\nbob",
            "hashtags": "#one\n#two",
        }


async def test_poll(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 7)
        await bot.say(USER, "https://twitter.com/x/status/1")
        await bot.say(USER, "100")
        reply = await bot.say(USER, "2")
        await confirm(bot, reply)
        assert last_add(bot)["answer_number"] == "2"


async def test_every_other_type_can_be_ordered(tmp_path: Path) -> None:
    answers = {
        8: [LINK, "a\nb"],
        9: [LINK, "100", "alice"],
        10: [LINK, "alice\nbob"],
        11: [LINK, "100", "#tag"],
        12: [LINK, "100", "someone"],
        13: [LINK, "100", LINK],
        14: [LINK, "100", "owner"],
        15: [LINK, "owner", "reply one\nreply two"],
        16: ["https://t.me/x", "100", "group1\ngroup2"],
        18: ["https://site.test", "100", "seo\nsmm"],
    }
    async with Harness(tmp_path) as bot:
        for service_id, values in answers.items():
            reply = await open_service(bot, service_id)
            for value in values:
                reply = await bot.say(USER, value)
            reply = await confirm(bot, reply)
            assert "Order placed" in reply.text, (service_id, reply.text)
        assert bot.sandbox.calls["add"] == len(answers)


async def test_web_traffic_asks_the_keyword_for_google_traffic(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 17)
        await bot.say(USER, "https://site.test")
        await bot.say(USER, "1000")
        reply = await bot.say(USER, "US")
        reply = await bot.tap(USER, reply.button("Mobile (Android)"))
        reply = await bot.tap(USER, reply.button("Google keyword"))
        assert "Google keyword" in reply.text
        reply = await bot.say(USER, "buy followers")
        assert reply.button("💧")  # drip-feed: an option of the summary
        await confirm(bot, reply)
        assert last_add(bot) == {
            "action": "add",
            "service": "17",
            "link": "https://site.test",
            "quantity": "1000",
            "country": "US",
            "device": "2",
            "type_of_traffic": "1",
            "google_keyword": "buy followers",
        }


async def test_a_double_confirm_places_one_order(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 2)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "100")
        summary = reply
        data = summary.button("✅")
        first = await bot.tap(USER, data)
        second = await bot.tap(USER, data)
        third = await bot.tap(USER, data)
        assert bot.sandbox.calls["add"] == 1
        assert "Order 1001" in first.text and "Order 1001" in second.text
        assert "Order 1001" in third.text


async def test_confirm_after_the_service_changed_asks_again_and_sends_nothing(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 2)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "100")
        summary = reply
        raised = next(s for s in bot.sandbox.services if s.id == 2)
        bot.sandbox.services = [
            raised.model_copy(update={"min": 500}) if s.id == 2 else s for s in bot.sandbox.services
        ]
        await bot.catalog.refresh()  # the panel raised the minimum meanwhile
        reply = await bot.tap(USER, summary.button("✅"))
        assert bot.sandbox.calls["add"] == 0
        assert "from 500 to" in reply.text  # the quantity is asked again, with the new range
        reply = await bot.say(USER, "500")
        reply = await confirm(bot, reply)
        assert "Order 1001" in reply.text and last_add(bot)["quantity"] == "500"


async def test_concurrent_taps_of_confirm_place_one_order(tmp_path: Path) -> None:
    sandbox = SandboxPanel(latency=0.2)
    async with Harness(tmp_path, sandbox) as bot:
        await bot.tap(USER, cb.START_ORDER(4))
        summary = await bot.say(USER, LINK)
        data = summary.button("✅")
        await asyncio.gather(*(bot.tap(USER, data) for _ in range(5)))
        assert sandbox.calls["add"] == 1


async def test_a_timeout_on_add_says_outcome_unknown_and_sends_nothing_again(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(4))
        summary = await bot.say(USER, LINK)
        bot.sandbox.fail_next("timeout", action="add")
        reply = await bot.tap(USER, summary.button("✅"))
        assert "not known whether this went through" in reply.text
        assert "My orders" in reply.text
        assert (
            bot.sandbox.calls["add"] == 0
            and len([r for r in bot.sandbox.requests if r["action"] == "add"]) == 0
        )
        again = await bot.tap(USER, summary.button("✅"))
        assert "not known" in again.text
        rows = await bot.orders_of(USER)
        assert [r.outcome for r in rows] == [Outcome.UNKNOWN]


async def test_a_dropped_connection_after_the_panel_took_the_order(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(4))
        summary = await bot.say(USER, LINK)
        bot.sandbox.fail_next("drop", action="add")
        reply = await bot.tap(USER, summary.button("✅"))
        assert "not known" in reply.text
        await bot.tap(USER, summary.button("✅"))
        assert bot.sandbox.calls["add"] == 1 and len(bot.sandbox.orders) == 1


async def test_a_refusal_is_explained_and_a_new_confirm_is_a_new_intent(tmp_path: Path) -> None:
    sandbox = SandboxPanel(balance=Decimal("100"))
    async with Harness(tmp_path, sandbox) as bot:
        await bot.tap(USER, cb.START_ORDER(4), language="id")
        summary = await bot.say(USER, LINK, language="id")
        assert "Saldo Anda tidak cukup" in summary.text  # warned before confirming
        refused = await bot.tap(USER, summary.button("✅"), language="id")
        assert "Saldo panel tidak mencukupi" in refused.text
        assert "Rp45.000" in refused.text
        again = await bot.tap(USER, summary.button("✅"), language="id")  # the old button
        assert "Saldo panel tidak mencukupi" in again.text
        assert sandbox.calls["add"] == 1
        sandbox.balance = Decimal("100000")
        placed = await bot.tap(USER, refused.button("✅"), language="id")
        assert "Order berhasil dibuat" in placed.text
        assert sandbox.calls["add"] == 2 and len(sandbox.orders) == 1


async def test_invalid_answers_each_get_their_specific_message(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 1)
        reply = await bot.say(USER, "1.000")  # a quantity sent too early: not a link
        assert "That is not a link" in reply.text and "https://" in reply.text
        reply = await bot.say(USER, "just words")
        assert "not a link" in reply.text
        reply = await bot.say(USER, "https://x.com/" + "y" * 10_000)
        assert "too long" in reply.text
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "lots")
        assert "not a whole number" in reply.text
        reply = await bot.say(USER, "10")
        assert "Out of range: send a number from 50 to 100,000." in reply.text
        reply = await bot.say(USER, "x" * 10_000)
        assert "not a whole number" in reply.text
        reply = await bot.say(USER, "1.000")
        assert "Check your order" in reply.text  # drip-feed is an option of the summary
        reply = await bot.say(USER, "yes")
        assert "waiting for you above" in reply.text
        await open_service(bot, 3)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "\n \n")
        assert "cannot be empty" in reply.text
        reply = await bot.say(USER, "c" * 10_000)
        assert "Line 1 is too long" in reply.text
        await open_service(bot, 6)
        await bot.say(USER, LINK)
        await bot.say(USER, "100")
        reply = await bot.say(USER, "alice\nbad name!")
        assert "Line 2 is not a username" in reply.text
    assert bot.sandbox.calls["add"] == 0


async def test_invalid_answers_in_indonesian(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(1), language="id")
        reply = await bot.say(USER, "1.000", language="id")
        assert "Itu bukan link" in reply.text
        await bot.say(USER, LINK, language="id")
        reply = await bot.say(USER, "5", language="id")
        assert "Di luar batas: kirim angka dari 50 sampai 100.000." in reply.text


async def test_back_and_cancel_at_every_step(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 1)
        reply = await bot.say(USER, LINK)
        reply = await bot.tap(USER, reply.button("◀️"))
        assert "Send the link" in reply.text
        reply = await bot.tap(USER, reply.button("◀️"))
        assert "Choose a service" in reply.text  # back to the list it was chosen from
        assert bot.data(USER).draft is not None  # kept until another service is chosen
        reply = await bot.tap(USER, cb.SERVICE(1))
        assert "Service ID: 1" in reply.text and "Send the link" in reply.text
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "100")
        summary = reply
        reply = await bot.tap(USER, summary.button("◀️"))
        assert "Send the quantity" in reply.text
        reply = await bot.tap(USER, reply.button("✖️"))
        assert "Nothing was ordered" in reply.text
        reply = await bot.tap(USER, summary.button("✅"))  # a confirm from a cancelled draft
        assert "expired" in reply.text
        await bot.tap(USER, cb.START_ORDER(1))
        reply = await bot.say(USER, "/cancel")
        assert "Nothing was ordered" in reply.text
        reply = await bot.say(USER, "hello")
        assert "No service matches" in reply.text  # the conversation is over
    assert bot.sandbox.calls["add"] == 0


async def test_order_command_with_a_service_id(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        reply = await bot.say(USER, "/order 7")
        assert "Twitter Poll Votes" in reply.text
        reply = await bot.say(USER, "/order 424242")
        assert "Choose a category" in reply.text
        assert any("no service with id 424242" in c.text for c in bot.request.sent(USER))
        reply = await bot.say(USER, "/order abc")
        assert "Choose a category" in reply.text


async def test_search_by_typing_words(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.say(USER, "/order")
        reply = await bot.say(USER, "instagram MENTIONS")
        assert "6 services match" in reply.text
        reply = await bot.tap(USER, reply.buttons[0][1])
        assert "Service ID:" in reply.text
        await bot.say(USER, "/order")
        reply = await bot.say(USER, "<script>&amp;")
        assert "No service matches “&lt;script&gt;&amp;amp;”" in reply.text
        assert "Tips:" in reply.text


async def test_names_full_of_markup_and_very_long_names_render(tmp_path: Path) -> None:
    weird = dict(
        default_catalog()[0],
        service=99,
        category="<b>Bold</b> & <i>co</i> 🔥",
        name="<script>alert(1)</script> & 💥 " + "Followers " * 40,
    )
    sandbox = SandboxPanel(services=[Service.model_validate(weird)])
    async with Harness(tmp_path, sandbox) as bot:
        reply = await bot.say(USER, "/order")
        assert "<b>Bold</b> & <i>co</i> 🔥 (1)" in [t for t, _ in reply.buttons]
        reply = await bot.tap(USER, reply.buttons[0][1])
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;i&gt;co&lt;/i&gt;" in reply.text
        assert all(len(text) <= 64 for text, _ in reply.buttons)
        reply = await bot.tap(USER, cb.SERVICE(99))
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 💥" in reply.text
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "100")
        reply = await confirm(bot, reply)
        assert "Order placed" in reply.text


async def test_both_real_catalogs_browse_paginate_and_search(
    tmp_path: Path, catalogs: list[Path]
) -> None:
    for number, path in enumerate(catalogs):
        sandbox = SandboxPanel.from_catalog_file(path)
        async with Harness(tmp_path / str(number), sandbox) as bot:
            index = await bot.catalog.get()
            pages = -(-len(index.categories) // 8)
            seen = []
            for page in range(pages):
                reply = await bot.tap(USER, cb.CATEGORIES(page))
                assert f"Page {page + 1} of {pages}" in [t for t, _ in reply.buttons]
                seen += [d for _, d in reply.buttons if d.startswith("1k:")]
            assert len(seen) == len(index.categories)
            for data in seen:
                reply = await bot.tap(USER, data)
                assert "Choose a service" in reply.text
            biggest = max(index.categories, key=lambda c: len(c.services))
            last_page = (len(biggest.services) - 1) // 8
            reply = await bot.tap(USER, cb.CATEGORY(biggest.key, last_page, 0))
            services = [d for _, d in reply.buttons if d.startswith("1s:")]
            assert len(services) == len(biggest.services) - 8 * last_page
            for service in index.services[::25]:
                reply = await bot.tap(USER, cb.SERVICE(service.id))
                assert f"Service ID: {service.id}" in reply.text
            await bot.say(USER, "/order")
            reply = await bot.say(USER, "instagram followers")
            assert "match" in reply.text
            await bot.tap(USER, cb.SEARCH_PAGE(1))


async def test_the_conversation_times_out_with_a_message(tmp_path: Path) -> None:
    async with Harness(tmp_path, conversation_timeout=0.3) as bot:
        assert bot.app.job_queue is not None
        await bot.app.job_queue.start()
        try:
            await bot.tap(USER, cb.START_ORDER(1))
            await bot.say(USER, LINK)
            await asyncio.sleep(0.3)
            assert "expired" not in bot.last(USER).text  # the bot's clock: not yet
            bot.clock.advance(0.31)
            await asyncio.sleep(0.3)  # the sweep runs every 0.075 s
            assert "expired after a while" in bot.last(USER).text
            reply = await bot.say(USER, "100")  # no longer taken as the quantity: a search
            assert "matches “100”" in reply.text and bot.data(USER).draft is None
        finally:
            await bot.app.job_queue.stop()


async def test_only_an_order_in_progress_times_out_and_a_new_one_starts_after(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path, conversation_timeout=0.3) as bot:
        assert bot.app.job_queue is not None
        await bot.app.job_queue.start()
        try:
            await bot.tap(USER, cb.START_ORDER(1))
            await bot.say(OTHER, "/order")
            await bot.tap(OTHER, cb.START_ORDER(1))
            await bot.say(OTHER, "/orders")  # left: kept for Continue, never timed out
            bot.clock.advance(0.31)
            await asyncio.sleep(0.3)
            expired = [c for c in bot.request.sent() if "expired after a while" in c.text]
            assert [c.params["chat_id"] for c in expired] == [USER]  # once, to its user
            assert bot.data(OTHER).draft is not None
            question = await bot.tap(USER, cb.START_ORDER(1))  # a new start works at once
            assert "Send the link" in question.text
            reply = await bot.say(USER, LINK)
            assert "Send the quantity" in reply.text
        finally:
            await bot.app.job_queue.stop()


def toast(bot: Harness) -> str:
    """The text of the last answer to a tapped button (and nothing was sent after it)."""
    last = bot.request.calls[-1]
    assert last.method == "answerCallbackQuery", last
    return str(last.params.get("text", ""))


async def test_leaving_an_order_keeps_it_and_later_text_is_no_answer(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 1)
        menu = await bot.say(USER, "/start")
        assert "Your unfinished order is kept" in menu.text
        assert menu.buttons[0][0].startswith("▶️ Continue: Instagram Followers")
        assert menu.buttons[0][0].endswith("(link left)")  # named, with what it waits for
        reply = await bot.say(USER, LINK)  # typed at the menu: not an answer
        assert "No service matches" in reply.text
        assert bot.data(USER).draft is not None and bot.data(USER).draft.values == {}
        question = await bot.tap(USER, menu.button("▶️"))
        assert "Send the link" in question.text
        reply = await bot.say(USER, LINK)
        assert "Send the quantity" in reply.text
        await bot.say(USER, "/orders")  # another command leaves the order too
        offer = await bot.say(USER, "1234")  # a number typed at the menu: offered, not taken
        assert "is waiting for its quantity. Is 1,234 for it?" in offer.text
        assert bot.data(USER).draft.values == {"link": LINK}
        menu = await bot.tap(USER, cb.MENU())  # the Menu button: the same
        assert "Your unfinished order is kept" in menu.text
        assert menu.buttons[0][0].endswith("(quantity left)")
        categories = await bot.tap(USER, menu.button("🛒"))  # New order keeps the draft...
        assert bot.data(USER).draft is not None
        menu = await bot.tap(USER, categories.button("🏠"))
        assert menu.buttons[0][0].startswith("▶️ Continue")  # ...when nothing else is chosen
        summary = await bot.tap(USER, offer.button("▶️ Use 1,234"))  # the offer, taken
        assert "Check your order" in summary.text and "Quantity: 1,234" in summary.text
        await bot.tap(USER, cb.SERVICE(2))  # another service replaces it
        assert bot.data(USER).draft.service_id == 2


async def test_a_number_typed_at_the_menu_can_still_be_searched(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 1)
        await bot.say(USER, LINK)
        await bot.say(USER, "/start")
        offer = await bot.say(USER, "7", language="id")
        assert "Order Instagram Followers" in offer.text
        found = await bot.tap(USER, offer.button("🔍"))
        assert "Twitter Poll Votes" in found.buttons[0][0]  # service 7, by its id
        assert bot.data(USER).draft.values == {"link": LINK}


async def test_only_the_latest_questions_buttons_act(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        first = await open_service(bot, 2)
        second = await bot.say(USER, LINK)
        assert "Send the link" in (await bot.tap(USER, second.button("◀️"))).text
        reply = await bot.say(USER, LINK)  # the link again: at the quantity
        assert "Send the quantity" in reply.text
        await bot.tap(USER, first.button("◀️"))  # an older question's Back: nothing changes
        assert "answered already" in toast(bot)
        await bot.tap(USER, second.button("◀️"))  # used once, and older than the latest now
        assert "answered already" in toast(bot)
        assert bot.data(USER).draft.values == {"link": LINK}
        drip = await bot.say(USER, "100")
        summary = drip
        question = await bot.tap(USER, summary.button("✏️ Quantity"))
        assert "Send the quantity" in question.text
        reply = await bot.say(USER, "hello")  # not a number: asked again, same question
        assert "❌" in reply.text
        new_summary = await bot.say(USER, "200")
        assert "Check your order" in new_summary.text
        await bot.tap(USER, summary.button("✅"))  # the summary that said 100
        assert "answered already" in toast(bot) and bot.sandbox.calls["add"] == 0
        reply = await bot.say(USER, "what now?")  # text at the summary: a hint
        assert "waiting for you above" in reply.text
        reply = await confirm(bot, new_summary)
        assert "Order placed" in reply.text and last_add(bot)["quantity"] == "200"


async def test_the_latest_question_still_acts_after_leaving(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 2)
        await bot.say(USER, LINK)
        drip = await bot.say(USER, "100")
        balance = await bot.say(USER, "/balance")
        assert "Balance" in balance.text
        summary = drip
        assert "Check your order" in summary.text
        reply = await confirm(bot, summary)
        assert "Order placed" in reply.text


async def test_confirm_shows_placing_at_once_and_places_once(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 2)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "100")
        summary = reply
        before = len(bot.request.calls)
        placed = await confirm(bot, summary)
        calls = bot.request.calls[before:]
        methods = [c.method for c in calls]
        assert methods == ["answerCallbackQuery", "editMessageReplyMarkup", "editMessageText"]
        assert calls[1].buttons == [("⏳ Placing the order…", cb.PLACING())]
        assert "Order placed" in placed.text
        await bot.tap(USER, cb.PLACING())  # a late tap on it: told, nothing else
        assert "being placed" in bot.request.calls[-1].params["text"]
        assert bot.sandbox.calls["add"] == 1


async def test_service_buttons_say_what_the_price_is_for(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        index = await bot.catalog.get()
        for service_id, head in (
            (1, "#1 · IDR15,000/1K · ♻️ · max 100K · "),
            (4, "#4 · IDR45,000/pkg · "),
        ):
            category = index.place(service_id)[0]
            listing = await bot.tap(USER, cb.CATEGORY(category.key, 0, 0))
            texts = [text for text, data in listing.buttons if data == cb.SERVICE(service_id)]
            assert texts and texts[0].startswith(head), texts
        listing = await bot.tap(USER, cb.CATEGORY(index.place(4)[0].key, 0, 0), language="id")
        assert any(text.startswith("#4 · Rp45.000/paket · ") for text, _ in listing.buttons)


async def test_search_from_the_menu_by_id_first_and_back_to_the_results(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.say(USER, "/start")
        results = await bot.say(USER, "instagram mentions")  # typed at the menu: a search
        assert "6 services match “instagram mentions”" in results.text
        card = await bot.tap(USER, results.button("#11 · "))  # Instagram Mentions Hashtag
        assert "Service ID: 11" in card.text
        back = await bot.tap(USER, card.button("◀️"))
        assert back.text == results.text and back.buttons == results.buttons  # the results
        by_id = await bot.say(USER, "#14")
        assert by_id.buttons[0][1] == cb.FOUND_SERVICE(14, 0)  # that service first
        await bot.say(USER, "/order")
        by_id = await bot.say(USER, "4")  # in the order's browsing too
        assert by_id.buttons[0][1] == cb.FOUND_SERVICE(4, 0)


async def test_a_category_sorts_cheapest_first(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        index = await bot.catalog.get()
        key = index.place(3)[0].key  # Instagram Comments: 90,000, 8,000, 95,000
        listing = await bot.tap(USER, cb.CATEGORY(key, 0, 0))
        services = [data for _, data in listing.buttons if data.startswith("1s:")]
        assert services == [cb.SERVICE(3), cb.SERVICE(8), cb.SERVICE(15)]
        cheapest = await bot.tap(USER, listing.button("↕️ Cheapest first"))
        services = [data for _, data in cheapest.buttons if data.startswith("1s:")]
        assert services == [cb.SERVICE(8), cb.SERVICE(3), cb.SERVICE(15)]
        again = await bot.tap(USER, cheapest.button("↕️ The panel's order"))
        assert again.buttons == listing.buttons


async def test_the_delay_choices_fit_two_rows_in_both_languages(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        for language in ("en", "id"):
            await bot.tap(USER, cb.START_ORDER(5), language=language)
            await bot.say(USER, "someone", language=language)
            await bot.say(USER, "100", language=language)
            reply = await bot.say(USER, "200", language=language)
            reply = await bot.tap(USER, reply.button_of(cb.SKIP), language=language)
            reply = await bot.tap(USER, reply.button_of(cb.SKIP), language=language)
            keyboard = reply.params["reply_markup"]["inline_keyboard"]
            choice_rows = [row for row in keyboard if row[0]["callback_data"].startswith("1C:")]
            assert [len(row) for row in choice_rows] == [4, 3], keyboard
