"""MyOrders over the fakes: a page of one's own orders with every view's count, finding one,
its card and its refresh; another user's orders are invisible (an admin sees any)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.actor import Actor
from bot.core.my_orders import FOUND_SHOWN
from bot.core.panel import OrderOutcomeUnknown, PanelError, PanelUnavailable
from bot.core.records import OrderFilter
from tests.core.fakes import ADMIN, OTHER, USER, World, place, service, status, world

ME = Actor(USER)
THEM = Actor(OTHER)
BOSS = Actor(ADMIN, is_admin=True)


def orders_world() -> World:
    return world(
        [
            service(1, name="Instagram Followers Refill 30D", rate="2", refill=True, cancel=True),
            service(2, name="TikTok Views", rate="1", category="TikTok"),
        ]
    )


async def test_a_page_holds_only_the_actors_orders_newest_first_with_counts() -> None:
    w = orders_world()
    mine = [await place(w, ME, 1, f"https://instagram.com/p/{n}") for n in range(5)]
    await place(w, THEM, 1, "https://instagram.com/p/theirs")
    w.panel.add_answers = [PanelError("Link is private")]
    await place(w, ME, 2, "https://tiktok.com/@x/video/1")  # refused: not in the lists
    w.panel.statuses_of[mine[0].panel_order_id] = status("Completed", remains=0)
    w.panel.statuses_of[mine[1].panel_order_id] = status("Partial", remains=30)
    w.panel.statuses_of[mine[2].panel_order_id] = status("Canceled")
    await w.tracking.poll()
    page = await w.orders.page(ME, None, OrderFilter.ALL, 0, 2)
    assert page is not None and page.owner == USER
    assert [o.id for o in page.orders] == [mine[4].id, mine[3].id]
    assert page.counts == {
        OrderFilter.ALL: 5,
        OrderFilter.ACTIVE: 2,
        OrderFilter.COMPLETED: 1,
        OrderFilter.PARTIAL: 1,
        OrderFilter.CANCELED: 1,
    }
    last = await w.orders.page(ME, None, OrderFilter.ALL, 99, 2)  # clamped to the last page
    assert last is not None and last.page == 2 and [o.id for o in last.orders] == [mine[0].id]
    active = await w.orders.page(ME, None, OrderFilter.ACTIVE, 0, 10)
    assert active is not None and active.in_view == 2
    assert {o.id for o in active.orders} == {mine[3].id, mine[4].id}
    empty = await w.orders.page(THEM, None, OrderFilter.PARTIAL, 0, 10)
    assert empty is not None and empty.orders == [] and empty.page == 0


async def test_only_an_admin_lists_another_users_orders() -> None:
    w = orders_world()
    mine = await place(w, ME, 1)
    assert await w.orders.page(THEM, USER, OrderFilter.ALL, 0, 10) is None
    seen = await w.orders.page(BOSS, USER, OrderFilter.ALL, 0, 10)
    assert seen is not None and seen.owner == USER and [o.id for o in seen.orders] == [mine.id]
    own = await w.orders.page(ME, USER, OrderFilter.ALL, 0, 10)  # naming oneself is fine
    assert own is not None and len(own.orders) == 1


async def test_find_by_panel_id_row_id_link_or_words_among_ones_own() -> None:
    w = orders_world()
    first = await place(w, ME, 1, "https://instagram.com/p/cat")
    second = await place(w, ME, 2, "https://tiktok.com/@dog/video/2")
    theirs = await place(w, THEM, 1, "https://instagram.com/p/cat")
    assert (await w.orders.find(ME, f"#{first.panel_order_id}")).orders == [first]
    assert (await w.orders.find(ME, str(second.id))).orders == [second]
    assert (await w.orders.find(ME, "www.instagram.com/p/cat/")).orders == [first]
    assert (await w.orders.find(ME, "tiktok DOG")).orders == [second]
    found = await w.orders.find(ME, str(theirs.panel_order_id))
    assert found.orders == [] and found.total == 0  # another's order is not found by its id
    assert (await w.orders.find(THEM, "instagram.com/p/cat")).orders == [theirs]


async def test_find_shows_the_first_few_and_counts_all() -> None:
    w = orders_world()
    for n in range(FOUND_SHOWN + 3):
        await place(w, ME, 2, f"https://tiktok.com/@a/video/{n}")
    found = await w.orders.find(ME, "tiktok")
    assert len(found.orders) == FOUND_SHOWN and found.total == FOUND_SHOWN + 3


async def test_a_card_is_shown_to_its_owner_and_admins_only() -> None:
    w = orders_world()
    mine = await place(w, ME, 1)
    assert await w.orders.order(THEM, mine.id) is None
    assert await w.orders.card(THEM, mine.id) is None
    assert await w.orders.refresh(THEM, mine.id) is None
    assert await w.orders.card(ME, 404) is None
    card = await w.orders.card(ME, mine.id)
    assert card is not None and card.order == mine and card.refill is None
    assert card.can_cancel and not card.can_refill  # pending: nothing delivered to refill
    assert (await w.orders.card(BOSS, mine.id)) == card


async def test_a_card_offers_what_the_order_allows_now() -> None:
    w = orders_world()
    mine = await place(w, ME, 1)
    plain = await place(w, ME, 2, "https://tiktok.com/@x/video/1")
    w.panel.statuses_of[mine.panel_order_id] = status("Completed", remains=0)
    refreshed = await w.orders.refresh(ME, mine.id)
    assert refreshed is not None
    card, changed = refreshed
    assert changed and card.order.status == "Completed" and card.order.final
    assert card.can_refill and not card.can_cancel
    plain_card = await w.orders.card(ME, plain.id)
    assert plain_card is not None and not plain_card.can_refill and not plain_card.can_cancel
    refilled = await w.actions.refill_orders(ME, [mine.panel_order_id])
    card = await w.orders.card(ME, mine.id)
    assert card is not None and card.refill is not None
    assert card.refill.panel_refill_id == refilled[mine.panel_order_id]
    assert not card.can_refill  # one is under way


async def test_refresh_says_whether_anything_changed_and_announces_nothing() -> None:
    w = orders_world()
    mine = await place(w, ME, 1)
    result = await w.orders.refresh(ME, mine.id)
    assert result is not None and result[1] is False  # still Pending
    w.panel.statuses_of[mine.panel_order_id] = status("In progress", remains=40, start_count=7)
    result = await w.orders.refresh(ME, mine.id)
    assert result is not None and result[1] is True
    assert result[0].order.remains == 40 and result[0].order.start_count == 7
    assert await w.store.notices() == []


async def test_refresh_of_an_order_of_unknown_outcome_asks_nothing() -> None:
    w = orders_world()
    w.panel.add_answers = [OrderOutcomeUnknown("timeout")]
    unknown = await place(w, ME, 1)
    result = await w.orders.refresh(ME, unknown.id)
    assert result is not None and result[1] is False
    assert w.panel.count("status") == 0


async def test_refresh_raises_when_the_panel_cannot_answer() -> None:
    w = orders_world()
    mine = await place(w, ME, 1)
    w.panel.failing["status"] = PanelUnavailable("timeout")
    with pytest.raises(PanelUnavailable):
        await w.orders.refresh(ME, mine.id)


async def test_any_tells_whether_the_actor_ever_ordered() -> None:
    w = orders_world()
    assert not await w.orders.any(ME)
    await place(w, THEM, 1)
    assert not await w.orders.any(ME)
    order = await place(w, ME, 1)
    assert await w.orders.any(ME) and order.price == Decimal("0.2")
