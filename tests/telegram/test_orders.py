"""After the order: balance, status, my orders, refill, refill status, cancel; ownership."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel
from bot.core.balance import BALANCE_TTL
from bot.core.checkout import submit
from bot.core.drafts import OrderDraft, quote
from bot.core.panel import OrderRequest
from bot.core.records import OrderFilter
from bot.telegram import callback as cb
from bot.telegram.features.orders.handlers import parse_ids
from tests.harness import ADMIN, OTHER, USER, Call, Harness
from tests.telegram.walks import LINK, delivered, place


def test_ids_are_parsed_from_spaces_commas_and_new_lines() -> None:
    assert parse_ids("1 2,3\n4;;5 , 2 #6") == ([1, 2, 3, 4, 5, 6], [])
    assert parse_ids("12 abc 0 -5 1e3 ١٢") == ([12], ["abc", "0", "-5", "1e3", "١٢"])
    assert parse_ids("") == ([], [])


async def test_balance_in_the_users_locale(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        assert "Balance: <b>IDR1,000,000</b>" in (await bot.say(USER, "/balance")).text
        reply = await bot.say(USER, "/balance", language="id")
        assert "Saldo: <b>Rp1.000.000</b>" in reply.text
        reply = await bot.tap(USER, cb.BALANCE())
        assert "IDR1,000,000" in reply.text


async def test_balance_with_the_panel_down_offers_retry(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        bot.clock.advance(BALANCE_TTL)  # the balance learned at start is too old now
        bot.sandbox.fail_next("502", times=3)
        reply = await bot.say(USER, "/balance")
        assert "cannot be reached" in reply.text
        reply = await bot.tap(USER, reply.button("🔄"))
        assert "IDR1,000,000" in reply.text


async def test_status_cards_with_progress_and_not_found(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER, quantity=1000)
        bot.sandbox.set_status(order_id, "In progress", remains=250)
        reply = await bot.say(USER, f"/status {order_id}, 5")
        assert f"<b>#{order_id}</b>: In progress" in reply.text
        assert "remains 250" in reply.text and "▓▓▓▓▓▓▓▓░░ 75%" in reply.text
        assert "<b>#5</b>: not found" in reply.text
        stored = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        assert stored.status == "In progress" and stored.remains == 250


async def cancel(bot: Harness, user_id: int, ids: str) -> Call:
    """/cancel, and Yes to its question."""
    question = await bot.say(user_id, f"/cancel {ids}")
    return await bot.tap(user_id, question.button("Yes"))


async def test_cancel_by_command_asks_first(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        first, second = await place(bot, USER), await place(bot, USER)
        question = await bot.say(USER, f"/cancel {first}")
        assert f"Cancel order #{first}?" in question.text
        assert bot.sandbox.calls["cancel"] == 0
        kept = await bot.tap(USER, question.button("No"))
        assert "Nothing was canceled." in kept.text
        assert "expired" in (await bot.tap(USER, question.button("Yes"))).text  # answered
        assert bot.sandbox.calls["cancel"] == 0
        both = await bot.say(USER, f"/cancel {first} {second}", language="id")
        assert f"Batalkan 2 order ini: #{first}, #{second}?" in both.text
        done = await bot.tap(USER, both.button("Ya"), language="id")
        assert done.text.count("pembatalan diminta") == 2
        assert bot.sandbox.calls["cancel"] == 1
        assert "expired" in (await bot.tap(USER, both.button("Ya"))).text  # a double tap


async def test_another_users_order_answers_exactly_like_a_missing_one(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        mine = await place(bot, USER)
        theirs = await place(bot, OTHER)
        reply = await bot.say(USER, f"/status {theirs}")
        missing = await bot.say(USER, "/status 999999")
        assert reply.text.replace(str(theirs), "N") == missing.text.replace("999999", "N")
        calls = bot.sandbox.calls["status"]
        await bot.say(USER, f"/refill {theirs}")
        assert "not found" in (await cancel(bot, USER, str(theirs))).text
        assert bot.sandbox.calls["status"] == calls  # the panel is not even asked
        assert bot.sandbox.calls["cancel"] == 0 and bot.sandbox.calls["refill"] == 0
        row = (await bot.store.orders.by_panel_ids([theirs]))[theirs]
        reply = await bot.tap(USER, cb.REFRESH(row.id))
        assert "expired" in reply.text
        assert "Pending" in (await bot.say(USER, f"/status {mine}")).text


async def test_admins_act_on_any_order_id(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        theirs = await place(bot, USER)
        outside = await bot.panel.add(OrderRequest(1, {"link": LINK, "quantity": "100"}))
        reply = await bot.say(ADMIN, f"/status {theirs} {outside}")
        assert f"<b>#{theirs}</b>: Pending" in reply.text
        assert f"<b>#{outside}</b>: Pending" in reply.text  # placed on the panel's website
        reply = await cancel(bot, ADMIN, str(outside))
        assert "cancellation requested" in reply.text


async def test_250_ids_make_3_status_calls(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        ids = [await place(bot, USER) for _ in range(250)]
        before = bot.sandbox.calls["status"]
        await bot.say(USER, "/status " + " ".join(map(str, ids)))
        assert bot.sandbox.calls["status"] - before == 3
        texts = "\n".join(c.text for c in bot.request.sent(USER)[-5:])
        assert all(f"#{i}</b>" in texts for i in ids[-10:])
        assert all(len(c.text) <= 4096 for c in bot.request.sent(USER))


async def test_malformed_input(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER)
        reply = await bot.say(USER, "/status")
        assert "Usage: /status &lt;order id&gt;" in reply.text
        await bot.say(USER, f"/status abc,{order_id}\n{order_id} 💥")
        texts = [c.text for c in bot.request.sent(USER)[-2:]]
        assert "Not an id, ignored: abc, 💥" in texts[0]
        assert texts[1].count(f"#{order_id}") == 1  # duplicates removed
        reply = await bot.say(USER, "/refill_status x" + "y" * 5000)
        assert "Not an id" in reply.text and "Usage: /refill_status" in reply.text
        reply = await bot.say(USER, "/cancel")
        assert "Usage: /cancel" in reply.text


async def test_my_orders_newest_first_paginated_with_filters(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        ids = [await place(bot, USER) for _ in range(10)]
        bot.sandbox.set_status(ids[0], "Completed", remains=0)
        await bot.say(USER, f"/status {ids[0]}")
        reply = await bot.say(USER, "/orders")
        assert "<b>Your orders</b> · Active · 9 orders" in reply.text
        assert reply.buttons[0][0] == f"1. #{ids[-1]}"  # newest first
        filters = [text for text, _ in reply.buttons if "(" in text]
        assert filters == [
            "• Active (9)",
            "Completed (1)",
            "Partial (0)",
            "Canceled (0)",
            "All (10)",
        ]
        reply = await bot.tap(USER, reply.button("All"))
        assert "All · 10 orders" in reply.text
        reply = await bot.tap(USER, reply.button("▶️"))
        assert "Page 2 of 2" in [t for t, _ in reply.buttons]
        assert [t for t, _ in reply.buttons][:2] == [f"1. #{ids[1]}", f"2. #{ids[0]}"]
        assert f"2. <b>#{ids[0]}</b> · Completed" in reply.text
        completed = await bot.tap(USER, reply.button("Completed"))
        assert [t for t, _ in completed.buttons][:1] == [f"1. #{ids[0]}"]
        reply = await bot.tap(USER, reply.buttons[0][1])
        assert "Order" in reply.text and "Refresh" in reply.buttons[0][0]
        assert "Nothing" not in reply.text
        other = await bot.say(OTHER, "/orders")
        assert "No orders here." in other.text and "🔎" not in other.text
        assert "All (0)" in [text for text, _ in other.buttons]


async def test_typing_at_the_orders_list_finds_an_order(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        first = await place(bot, USER, service_id=1)
        second = await place(bot, USER, service_id=2)
        listing = await bot.say(USER, "/orders")
        assert "🔎 Type an order id" in listing.text
        found = await bot.say(USER, str(first))
        assert f"1 of your orders matches “{first}”" in found.text
        assert [text for text, _ in found.buttons][:1] == [f"1. #{first}"]
        found = await bot.say(USER, "likes")  # still at a list of orders: words of a service
        assert [text for text, _ in found.buttons][:1] == [f"1. #{second}"]
        found = await bot.say(USER, "instagram.com/p/abc/")
        assert "2 of your orders match" in found.text
        await bot.say(USER, "/start")
        services = await bot.say(USER, "likes")  # at the menu: the services again
        assert "match “likes”" in services.text and "of your orders" not in services.text
        await place(bot, OTHER)
        await bot.say(OTHER, "/orders")
        none = await bot.say(OTHER, str(first))  # not theirs: not found
        assert "None of your orders matches" in none.text


async def test_an_admin_sees_a_users_orders(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER)
        listing = await bot.say(ADMIN, f"/orders {USER}")
        assert f"<b>Orders of user {USER}</b>" in listing.text and f"#{order_id}" in listing.text
        everyone = await bot.tap(ADMIN, listing.button("All"))
        assert f"#{order_id}" in everyone.text
        card = await bot.tap(ADMIN, listing.button("1."))
        assert f"<b>Order {order_id}</b>" in card.text
        mine = await bot.say(OTHER, f"/orders {USER}")  # not an admin: their own, no one else's
        assert "<b>Your orders</b>" in mine.text and f"#{order_id}" not in mine.text
        forged = await bot.tap(OTHER, cb.ORDERS(USER, OrderFilter.ALL, 0))
        assert "expired" in forged.text


async def test_refresh_on_a_card_asks_the_panel(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER, quantity=1000)
        row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        bot.sandbox.set_status(order_id, "Partial", remains=100)
        reply = await bot.tap(USER, cb.REFRESH(row.id))
        assert "Status: Partial" in reply.text and "Remains: 100" in reply.text
        assert "90%" in reply.text
        labels = [t for t, _ in reply.buttons]
        assert labels == [
            "🔄 Refresh",
            "♻️ Refill",
            "🔁 Order again",
            "🆘 Ask about it",
            "📦 My orders",
            "🏠 Menu",
        ]
        assert "No change" not in reply.text
        again = await bot.tap(USER, cb.REFRESH(row.id))
        assert again.text.startswith("No change since the last look.")
        assert "Status: Partial" in again.text


async def test_refill_and_refill_status_by_command(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        refillable = await place(bot, USER, service_id=1)
        not_refillable = await place(bot, USER, service_id=2)
        await delivered(bot, refillable)
        reply = await bot.say(USER, f"/refill {refillable} {not_refillable} 77")
        assert f"<b>#{refillable}</b>: refill requested (refill id 501)" in reply.text
        assert f"<b>#{not_refillable}</b>: this service does not allow refills" in reply.text
        assert "<b>#77</b>: not found" in reply.text
        sent = [r["orders"] for r in bot.sandbox.requests if r["action"] == "refill"]
        assert sent == [str(refillable)]  # the bot's own checks answered for the others
        again = await bot.say(USER, f"/refill {refillable}")
        assert "a refill of this order is already under way" in again.text
        assert bot.sandbox.calls["refill"] == 1
        refills = await bot.store.refills.get_many([501])
        assert refills[501].user_id == USER
        bot.sandbox.set_refill_status(501, "Completed")
        reply = await bot.say(USER, "/refill_status 501 502", language="id")
        assert "Refill <b>501</b>: Selesai" in reply.text
        assert "Refill <b>502</b>: tidak ditemukan" in reply.text
        reply = await bot.say(OTHER, "/refill_status 501")
        assert "not found" in reply.text  # not theirs


async def test_cancel_by_command_with_per_item_errors(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        cancellable = await place(bot, USER, service_id=1)
        other = await place(bot, USER, service_id=1)
        not_cancellable = await place(bot, USER, service_id=4)
        del bot.sandbox.orders[other]  # the panel will not know it
        reply = await cancel(bot, USER, f"{cancellable},{other},{not_cancellable}")
        assert f"<b>#{cancellable}</b>: cancellation requested" in reply.text
        assert f"<b>#{other}</b>: not found" in reply.text  # the panel's per-item error
        refused = bot.request.sent(USER)[-3]  # known at once: said before the question
        assert f"<b>#{not_cancellable}</b>: this service does not allow cancelling" in refused.text
        assert bot.sandbox.calls["cancel"] == 1  # one bulk call, for the two it may cancel
        again = await bot.say(USER, f"/cancel {cancellable}")  # refused at once, no question
        assert "cancellation already requested" in again.text
        assert not any(text.startswith("Yes") for text, _ in again.buttons)
        assert bot.sandbox.calls["cancel"] == 1


async def test_refill_and_cancel_buttons_ask_first(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER, service_id=1)
        row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        card = await bot.tap(USER, cb.ORDER(row.id))
        cancel_ask = await bot.tap(USER, card.button("✖️"))
        assert f"Cancel order {order_id}?" in cancel_ask.text
        back = await bot.tap(USER, cancel_ask.button("No"))
        assert bot.sandbox.calls["cancel"] == 0 and "Order" in back.text
        await delivered(bot, order_id)
        card = await bot.tap(USER, cb.ORDER(row.id))
        ask = await bot.tap(USER, card.button("♻️"))
        assert f"refill order {order_id}?" in ask.text
        assert bot.sandbox.calls["refill"] == 0
        done = await bot.tap(USER, ask.button("Yes"))
        assert "refill requested" in done.text
        again = await bot.tap(USER, ask.button("Yes"))  # a double tap
        assert "already under way" in again.text
        assert bot.sandbox.calls["refill"] == 1
        late = await bot.tap(USER, cancel_ask.button("Yes"))  # the old question, now completed
        assert "already finished" in late.text and bot.sandbox.calls["cancel"] == 0


async def test_buttons_appear_only_where_the_service_allows(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER, service_id=4)
        row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        card = await bot.tap(USER, cb.ORDER(row.id))
        assert [t for t, _ in card.buttons] == [
            "🔄 Refresh",
            "🔁 Order again",
            "🆘 Ask about it",
            "📦 My orders",
            "🏠 Menu",
        ]
        full = await place(bot, USER, service_id=1)
        full_row = (await bot.store.orders.by_panel_ids([full]))[full]
        card = await bot.tap(USER, cb.ORDER(full_row.id))
        assert [t for t, _ in card.buttons] == [
            "🔄 Refresh",
            "✖️ Cancel order",
            "🔁 Order again",
            "🆘 Ask about it",
            "📦 My orders",
            "🏠 Menu",
        ]
        assert card.button("✖️") == cb.CANCEL_ASK(full_row.id)
        await delivered(bot, full, "Partial", remains=40)
        card = await bot.tap(USER, cb.ORDER(full_row.id))
        assert [t for t, _ in card.buttons] == [
            "🔄 Refresh",
            "♻️ Refill",
            "🔁 Order again",
            "🆘 Ask about it",
            "📦 My orders",
            "🏠 Menu",
        ]
        assert card.button("♻️") == cb.REFILL_ASK(full_row.id)


async def test_retry_runs_the_same_ids_after_a_restart(tmp_path: Path) -> None:
    sandbox = SandboxPanel()
    async with Harness(tmp_path, sandbox) as bot:
        first, second = await place(bot, USER), await place(bot, USER)
        await delivered(bot, first)
        reply = await bot.say(USER, f"/refill {first}")
        assert "refill id 501" in reply.text
        sandbox.fail_next("html", times=3)
        down = await bot.say(USER, "/refill_status 501 junk 502")
        assert "cannot be reached" in down.text
        sandbox.fail_next("html", times=3)
        down_status = await bot.say(USER, f"/status {second} {first}")
        assert "cannot be reached" in down_status.text
    async with Harness(tmp_path, sandbox) as bot:  # a new process: the Retry is kept
        reply = await bot.tap(USER, down_status.button("🔄"))
        assert reply.text.index(f"#{second}") < reply.text.index(f"#{first}")
        assert reply.text.count("Pending") == 1 and reply.text.count("Completed") == 1
        again = await bot.tap(USER, down_status.button("🔄"))
        assert "expired" in again.text  # once: the retry is used up
        reply = await bot.tap(USER, down.button("🔄"))
        assert "expired" in reply.text  # one Retry at a time: the latest command's


async def test_panel_down_keeps_everything_and_retry_works(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER)
        bot.sandbox.fail_next("html", times=3)
        reply = await bot.say(USER, f"/status {order_id}")
        assert "cannot be reached" in reply.text
        reply = await bot.tap(USER, reply.button("🔄"))
        assert f"<b>#{order_id}</b>: Pending" in reply.text
        bot.sandbox.fail_next("timeout", action="cancel")
        reply = await cancel(bot, USER, str(order_id))
        assert "not known whether this went through" in reply.text
        assert "🔄 Retry" not in [t for t, _ in reply.buttons]  # never repeat blindly


async def test_the_cards_buttons_follow_the_orders_state(tmp_path: Path) -> None:
    async with Harness(tmp_path, SandboxPanel(step_seconds=10**9)) as bot:
        order_id = await place(bot, USER, service_id=1)
        row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        card = await bot.tap(USER, cb.ORDER(row.id))
        labels = [text for text, _ in card.buttons]
        assert "♻️ Refill" not in labels and "✖️ Cancel order" in labels  # pending
        reply = await bot.say(USER, f"/refill {order_id}")
        assert "not delivered yet" in reply.text and bot.sandbox.calls["refill"] == 0
        bot.sandbox.set_status(order_id, "Completed", remains=0)
        card = await bot.tap(USER, card.button("🔄"))
        assert "♻️ Refill" in [text for text, _ in card.buttons]
        await bot.tap(USER, (await bot.tap(USER, card.button("♻️"))).button("Yes"))
        card = await bot.tap(USER, cb.ORDER(row.id))
        assert "♻️ Refill 501: Pending" in card.text  # the refill under way shows
        assert "♻️ Refill" not in [text for text, _ in card.buttons]
        canceled = await place(bot, USER, service_id=1)
        card = await bot.tap(USER, cb.ORDER(row.id + 1))
        await bot.tap(USER, (await bot.tap(USER, card.button("✖️"))).button("Yes"))
        card = await bot.tap(USER, cb.ORDER(row.id + 1))
        assert "✖️ Cancellation requested" in card.text
        assert [text for text, _ in card.buttons][:1] == ["🔄 Refresh"]  # no Cancel again
        bot.sandbox.set_status(canceled, "Canceled", remains=100)
        card = await bot.tap(USER, card.button("🔄"))
        assert "♻️ Refill" not in [text for text, _ in card.buttons]
        reply = await bot.say(USER, f"/refill {canceled}")
        assert "nothing to refill" in reply.text and bot.sandbox.calls["refill"] == 1


async def test_an_unknown_outcome_can_be_marked_not_placed_and_leaves_the_lists(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        await place(bot, USER)
        bot.sandbox.fail_next("timeout", action="add")
        index = await bot.catalog.get()
        draft = OrderDraft(service_id=1, values={"link": LINK, "quantity": "100"})
        unknown, _ = await submit(
            bot.store,
            bot.panel,
            user_id=USER,
            key=draft.key,
            offer=quote(draft, index.by_id[1]),
            currency="IDR",
            unsaved=bot.unsaved,
        )
        bot.sandbox.fail_next("refuse", action="add", message="Not enough funds")
        rejected_draft = OrderDraft(service_id=1, values={"link": LINK, "quantity": "100"})
        await submit(
            bot.store,
            bot.panel,
            user_id=USER,
            key=rejected_draft.key,
            offer=quote(rejected_draft, index.by_id[1]),
            currency="IDR",
            unsaved=bot.unsaved,
        )
        listing = await bot.say(USER, "/orders")
        assert "2 orders" in listing.text  # the refused attempt is not an order
        assert "outcome unknown" in listing.text and "🔗 instagram.com/p/abc" in listing.text
        assert "\n100 · Instagram" in listing.text
        card = await bot.tap(USER, listing.button("1. ❓"))  # the newest
        ask = await bot.tap(USER, card.button("🚫"))
        assert "only after checking that the panel has no such order" in ask.text
        done = await bot.tap(USER, ask.button("Yes"))
        assert "Marked as not placed." in done.text and "🚫" not in str(done.buttons)
        again = await bot.tap(USER, ask.button("Yes"))  # a second tap changes nothing
        assert "marked as not placed" in again.text
        listing = await bot.tap(USER, cb.ORDERS(0, OrderFilter.ALL, 0))
        assert "1 order" in listing.text and "❓" not in str(listing.buttons)
        reply = await bot.say(USER, f"/found {unknown.id} 4242")
        assert "not waiting for a panel order id" in reply.text


async def test_many_ids_not_found_are_one_line(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        mine = await place(bot, USER)
        reply = await bot.say(USER, f"/status 77 {mine} 78 79")
        assert reply.text.splitlines() == [
            f"<b>#{mine}</b>: Pending",
            "Not found: #77, #78, #79",
        ] or reply.text.startswith(f"<b>#{mine}</b>: Pending")
        assert (
            reply.text.endswith("Not found: #77, #78, #79") and reply.text.count("not found") == 0
        )
        reply = await bot.say(USER, f"/refill {mine} 77 78")
        assert reply.text.endswith("Not found: #77, #78")
        reply = await bot.say(USER, "/refill_status 901 902")
        assert reply.text == "Not found: #901, #902"
        reply = await bot.say(USER, "/status 77")
        assert reply.text == "<b>#77</b>: not found"  # one: its own line, as before
