"""Power ordering: order again, the same-link warning, refill terms stated by service names."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel, default_catalog
from bot.core.api import Service
from bot.core.records import DAY, RefillTerm, stated_refill_term
from bot.telegram import callback as cb
from tests.harness import ADMIN, OTHER, USER, Call, Harness
from tests.telegram.walks import LINK, confirm, delivered, last_add, open_service, place


async def card_of(bot: Harness, panel_id: int, user_id: int = USER) -> Call:
    row = (await bot.store.orders.by_panel_ids([panel_id]))[panel_id]
    return await bot.tap(user_id, cb.ORDER(row.id))


async def test_order_again_opens_the_summary_with_the_same_answers(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 1)
        await bot.say(USER, LINK)
        await bot.tap(USER, (await bot.say(USER, "200")).button("💧"))
        await bot.say(USER, "3")
        first = await confirm(bot, await bot.say(USER, "15"))
        assert "Order placed" in first.text
        summary = await bot.tap(USER, first.button("🔁"))
        assert "Check your order" in summary.text  # straight at the summary
        assert "Drip-feed: 3 runs × 200 = <b>600</b> in all" in summary.text
        assert f"Link: {LINK}" in summary.text
        edited = await bot.tap(USER, summary.button("✏️ Quantity"))  # every answer editable
        summary = await bot.say(USER, "300")
        assert "3 runs × 300" in summary.text
        placed = await confirm(bot, summary)
        assert "Order 1002" in placed.text and "Send the quantity" in edited.text
        assert last_add(bot) == {
            "action": "add",
            "service": "1",
            "link": LINK,
            "quantity": "300",
            "runs": "3",
            "interval": "15",
        }
        assert bot.sandbox.calls["add"] == 2
        card = await card_of(bot, 1001, OTHER)
        assert "expired" in card.text  # not theirs: no card, no order again
        await bot.tap(OTHER, cb.ORDER_AGAIN(1))
        assert bot.data(OTHER).draft is None
        admin_summary = await bot.tap(ADMIN, cb.ORDER_AGAIN(1))  # an admin may, as themselves
        assert "Check your order" in admin_summary.text


async def test_order_again_keeps_skipped_answers_skipped_and_is_never_beside_a_maybe(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        await open_service(bot, 5)
        await bot.say(USER, "someone")
        await bot.say(USER, "100")
        reply = await bot.say(USER, "200")
        reply = await bot.tap(USER, reply.button_of(cb.SKIP))
        reply = await bot.tap(USER, reply.button_of(cb.SKIP))
        reply = await bot.tap(USER, reply.button_of(cb.CHOICE, "0"))
        placed = await confirm(bot, await bot.tap(USER, reply.button_of(cb.SKIP)))
        again = await bot.tap(USER, placed.button("🔁"))
        assert "Posts: unlimited" in again.text and "Expiry: none" in again.text
        bot.sandbox.fail_next("timeout", action="add")
        await open_service(bot, 2)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "100")
        unknown = await confirm(bot, reply)
        assert "not known" in unknown.text
        assert not any(text.startswith("🔁") for text, _ in unknown.buttons)


async def test_the_summary_warns_of_an_unfinished_order_for_the_same_link(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        first = await place(bot, USER, service_id=2)  # the same service: warned
        await open_service(bot, 2)
        await bot.say(USER, "http://www.Instagram.com/p/abc/")  # the same link, spelled apart
        reply = await bot.say(USER, "100")
        summary = reply
        assert f"unfinished order for this link (#{first})" in summary.text
        await open_service(bot, 2)
        await bot.say(USER, "https://instagram.com/p/other", language="id")
        reply = await bot.say(USER, "100", language="id")
        other = reply
        assert "⚠️" not in other.text
        await delivered(bot, first)
        await open_service(bot, 2)
        await bot.say(USER, LINK)
        reply = await bot.say(USER, "100")
        summary = reply
        assert "⚠️" not in summary.text  # completed: nothing to warn of


def test_refill_terms_are_read_from_service_names() -> None:
    cases = {
        "IG Followers [Refill 30D]": RefillTerm(30),
        "IG Followers | 30 Days Refill ♻️": RefillTerm(30),
        "IG Likes R60 | Instant": RefillTerm(60),
        "TikTok Views (Refill: 7 days)": RefillTerm(7),
        "YT Subscribers Lifetime Guarantee": RefillTerm(None),
        "IG Followers [No Refill]": RefillTerm(0),
        "IG Followers No-Refill R30": RefillTerm(0),  # "no refill" wins
        "IG Followers HQ": None,
        "Real Followers 1000R": None,
    }
    for name, term in cases.items():
        assert stated_refill_term(name) == term, name


async def test_refill_only_inside_the_term_the_service_states(tmp_path: Path) -> None:
    services = [Service.model_validate(s) for s in default_catalog()]
    services = [
        s.model_copy(update={"name": "Instagram Followers [Refill 30D]"}) if s.id == 1 else s
        for s in services
    ]
    async with Harness(tmp_path, SandboxPanel(services=services, step_seconds=10**9)) as bot:
        order_id = await place(bot, USER)
        await delivered(bot, order_id)
        card = await card_of(bot, order_id)
        assert "♻️ Refill can be asked until" in card.text
        assert any(text == "♻️ Refill" for text, _ in card.buttons)
        bot.clock.advance(31 * DAY)
        card = await card_of(bot, order_id)
        assert not any(text == "♻️ Refill" for text, _ in card.buttons)
        reply = await bot.say(USER, f"/refill {order_id}")
        assert "the refill term of this service is over" in reply.text
        assert bot.sandbox.calls["refill"] == 0


async def test_favourites_and_recent_at_the_top_of_new_order(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        menu = await bot.say(USER, "/order")
        assert not any(text.startswith(("⭐", "🕘")) for text, _ in menu.buttons)  # none yet
        card = await bot.tap(USER, cb.SERVICE(14))
        card = await bot.tap(USER, card.button("☆ Add to favourites"))
        assert "★ In favourites" in [text for text, _ in card.buttons]
        await bot.tap(USER, cb.STAR(7))
        await place(bot, USER, service_id=2)
        await place(bot, USER, service_id=1)
        await place(bot, USER, service_id=2)
        menu = await bot.say(USER, "/order")
        assert [text for text, _ in menu.buttons][:2] == ["⭐ Favourites", "🕘 Recent"]
        starred = await bot.tap(USER, menu.button("⭐"))
        assert [d for _, d in starred.buttons][:2] == [cb.SERVICE(7), cb.SERVICE(14)]
        recent = await bot.tap(USER, menu.button("🕘"))
        assert [d for _, d in recent.buttons][:2] == [cb.SERVICE(2), cb.SERVICE(1)]
        card = await bot.tap(USER, cb.SERVICE(7))
        card = await bot.tap(USER, card.button("★"))  # unstarred
        starred = await bot.tap(USER, cb.FAVOURITES())
        assert [d for _, d in starred.buttons][:1] == [cb.SERVICE(14)]
        other = await bot.say(OTHER, "/order")
        assert not any(text.startswith(("⭐", "🕘")) for text, _ in other.buttons)  # their own


async def test_the_same_link_check_takes_like_wildcards_literally(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await place(bot, USER)  # https://instagram.com/p/abc
        orders = bot.store.orders
        assert len(await orders.active_for(USER, "HTTPS://Instagram.com/p/abc/")) == 1
        assert await orders.active_for(USER, "instagram.com/p/a_c") == []  # "_" is no wildcard
        assert await orders.active_for(USER, "instagram.com/p/%") == []
        assert await orders.active_for(OTHER, LINK) == []


async def test_a_service_the_panel_dropped_ends_the_draft_and_order_again(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER, service_id=2)
        card = await card_of(bot, order_id)
        await open_service(bot, 2)
        bot.sandbox.services = [s for s in bot.sandbox.services if s.id != 2]
        await bot.catalog.refresh()
        reply = await bot.say(USER, LINK)
        assert "no longer offered by the panel" in reply.text
        assert bot.data(USER).draft is None
        reply = await bot.tap(USER, card.button("🔁"))
        assert "no longer offered by the panel" in reply.text
        assert bot.data(USER).draft is None
