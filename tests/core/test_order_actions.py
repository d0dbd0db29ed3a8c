"""OrderActions over the fakes: status, refill, refill status and cancel, each checked first,
refused with a reason or in the panel's words, one request per order in flight, never
retried; only on one's own orders (an admin: any id)."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.actor import Actor
from bot.core.api import OrderStatus, RefillStatus
from bot.core.order_actions import Refusal
from bot.core.panel import NotFound, OutcomeUnknown, PanelError, PanelUnavailable
from bot.core.records import DAY, NOT_YOURS
from tests.core.fakes import ADMIN, OTHER, USER, World, place, service, status, world

ME = Actor(USER)
THEM = Actor(OTHER)
BOSS = Actor(ADMIN, is_admin=True)


def actions_world() -> World:
    return world(
        [
            service(1, name="Followers Refill 30D", rate="2", refill=True, cancel=True),
            service(2, name="Views", rate="1"),
            service(3, name="Likes No Refill", rate="1", refill=True),
        ]
    )


async def placed_id(w: World, actor: Actor, service_id: int, n: int = 0) -> int:
    order = await place(w, actor, service_id, f"https://instagram.com/p/{service_id}-{n}")
    assert order.panel_order_id is not None
    return order.panel_order_id


async def test_status_answers_own_orders_and_stores_them() -> None:
    w = actions_world()
    mine, theirs = await placed_id(w, ME, 1), await placed_id(w, THEM, 1)
    w.panel.statuses_of[mine] = status("In progress", remains=25, charge="0.2")
    seen, owned = await w.actions.status(ME, [mine, theirs, 77])
    assert isinstance(seen[mine], OrderStatus) and seen[mine].remains == 25
    assert seen[theirs] is NOT_YOURS and seen[77] is NOT_YOURS
    assert list(owned) == [mine] and owned[mine].status == "In progress"
    assert w.panel.sent("statuses") == [[mine]]  # another's id is not even asked
    admin_seen, _ = await w.actions.status(BOSS, [theirs, 77])
    assert isinstance(admin_seen[theirs], OrderStatus)
    assert isinstance(admin_seen[77], NotFound)  # an admin asks about any id
    assert await w.store.notices() == []


async def test_status_raises_when_the_panel_cannot_answer() -> None:
    w = actions_world()
    mine = await placed_id(w, ME, 1)
    w.panel.failing["statuses"] = PanelUnavailable("timeout")
    with pytest.raises(PanelUnavailable):
        await w.actions.status(ME, [mine])


async def test_cancel_checks_first_then_sends_once_and_remembers() -> None:
    w = actions_world()
    ok, no_cancel = await placed_id(w, ME, 1), await placed_id(w, ME, 2)
    done, theirs = await placed_id(w, ME, 1, 1), await placed_id(w, THEM, 1)
    w.panel.statuses_of[done] = status("Completed", remains=0)
    result = await w.actions.cancel_orders(ME, [ok, no_cancel, done, theirs])
    assert result == {
        ok: None,
        no_cancel: Refusal.NOT_ALLOWED,
        done: Refusal.FINISHED,  # asked first: the panel says Completed
        theirs: NOT_YOURS,
    }
    assert w.panel.sent("cancel") == [[ok]]
    stored = await w.store.orders.by_panel_ids([ok])
    assert stored[ok].cancel_requested_at == w.clock()
    assert await w.actions.cancel_orders(ME, [ok]) == {ok: Refusal.REQUESTED}
    assert w.panel.count("cancel") == 1


async def test_a_cancel_refused_is_told_in_the_panels_words_and_not_remembered() -> None:
    w = actions_world()
    ok = await placed_id(w, ME, 1)
    refusal = PanelError("Order is already being processed")
    w.panel.cancel_answers[ok] = refusal
    assert await w.actions.cancel_orders(ME, [ok]) == {ok: refusal}
    assert (await w.store.orders.by_panel_ids([ok]))[ok].cancel_requested_at is None
    assert w.panel.count("cancel") == 1  # not retried by the bot


async def test_a_lost_cancel_answer_is_raised_and_not_repeated() -> None:
    w = actions_world()
    ok = await placed_id(w, ME, 1)
    w.panel.failing["cancel"] = OutcomeUnknown("timeout after sending")
    with pytest.raises(OutcomeUnknown):
        await w.actions.cancel_orders(ME, [ok])
    assert w.panel.count("cancel") == 1
    del w.panel.failing["cancel"]
    assert await w.actions.cancel_orders(ME, [ok]) == {ok: None}  # in flight no longer


async def test_one_cancel_in_flight_per_order() -> None:
    w = actions_world()
    ok = await placed_id(w, ME, 1)
    w.panel.hold["cancel"] = asyncio.Event()
    first = asyncio.create_task(w.actions.cancel_orders(ME, [ok]))
    await w.panel.arrived("cancel").wait()
    assert await w.actions.cancel_orders(ME, [ok]) == {ok: Refusal.REQUESTED}  # a double tap
    w.panel.hold["cancel"].set()
    assert await first == {ok: None}
    assert w.panel.count("cancel") == 1


async def test_refill_refusals_each_with_its_reason() -> None:
    w = actions_world()
    pending = await placed_id(w, ME, 1)
    canceled = await placed_id(w, ME, 1, 1)
    no_refill_flag = await placed_id(w, ME, 2)
    no_refill_name = await placed_id(w, ME, 3)
    w.panel.statuses_of[canceled] = status("Canceled")
    result = await w.actions.refill_orders(ME, [pending, canceled, no_refill_flag, no_refill_name])
    assert result == {
        pending: Refusal.NOT_YET,
        canceled: Refusal.NOT_DELIVERED,
        no_refill_flag: Refusal.NOT_ALLOWED,
        no_refill_name: Refusal.NOT_ALLOWED,  # the panel flags it, its name says no refill
    }
    assert w.panel.count("refills") == 0


async def test_a_refill_is_asked_once_followed_and_its_term_ends() -> None:
    w = actions_world()
    done = await placed_id(w, ME, 1)
    w.panel.statuses_of[done] = status("Completed", remains=0)  # stored: Pending; asked first
    result = await w.actions.refill_orders(ME, [done])
    refill_id = result[done]
    assert isinstance(refill_id, int) and refill_id == 501
    followed = await w.store.refills.latest_for(done)
    assert followed is not None and followed.user_id == USER and not followed.final
    assert await w.actions.refill_orders(ME, [done]) == {done: Refusal.REQUESTED}
    await w.store.refills.store_statuses({refill_id: "Completed"})
    w.clock.advance(31 * DAY)  # "Refill 30D"
    assert await w.actions.refill_orders(ME, [done]) == {done: Refusal.TERM_OVER}
    assert w.panel.count("refills") == 1


async def test_a_refill_refused_by_the_panel_is_in_its_words() -> None:
    w = actions_world()
    done = await placed_id(w, ME, 1)
    w.panel.statuses_of[done] = status("Completed", remains=0)
    refusal = PanelError("Refill is disabled for this service")
    w.panel.refill_answers[done] = refusal
    assert await w.actions.refill_orders(ME, [done]) == {done: refusal}
    assert await w.store.refills.latest_for(done) is None
    assert await w.actions.refill_orders(THEM, [done]) == {done: NOT_YOURS}
    assert w.panel.count("refills") == 1


async def test_an_admin_refills_a_panel_order_the_bot_does_not_know() -> None:
    w = actions_world()
    result = await w.actions.refill_orders(BOSS, [4242])
    refill_id = result[4242]
    assert isinstance(refill_id, int)
    followed = await w.store.refills.latest_for(4242)
    assert followed is not None and followed.user_id == ADMIN
    assert await w.actions.refill_orders(ME, [4242]) == {4242: NOT_YOURS}


async def test_refill_states_only_of_ones_own_refills() -> None:
    w = actions_world()
    done = await placed_id(w, ME, 1)
    w.panel.statuses_of[done] = status("Completed", remains=0)
    refill_id = (await w.actions.refill_orders(ME, [done]))[done]
    assert isinstance(refill_id, int)
    w.panel.refill_states[refill_id] = RefillStatus.parse({"status": "Completed"})
    mine = await w.actions.refill_states(ME, [refill_id, 999])
    assert isinstance(mine[refill_id], RefillStatus) and mine[999] is NOT_YOURS
    stored = await w.store.refills.get_many([refill_id])
    assert stored[refill_id].status == "Completed" and stored[refill_id].final
    assert await w.actions.refill_states(THEM, [refill_id]) == {refill_id: NOT_YOURS}
    admin = await w.actions.refill_states(BOSS, [refill_id, 999])
    assert isinstance(admin[999], NotFound)


async def test_one_refill_in_flight_per_order() -> None:
    w = actions_world()
    done = await placed_id(w, ME, 1)
    w.panel.statuses_of[done] = status("Completed", remains=0)
    await w.actions.status(ME, [done])
    gate = w.panel.hold["refills"] = asyncio.Event()
    first = asyncio.create_task(w.actions.refill_orders(ME, [done]))
    await w.panel.arrived("refills").wait()
    assert await w.actions.refill_orders(ME, [done]) == {done: Refusal.REQUESTED}
    gate.set()
    assert isinstance((await first)[done], int)
    assert w.panel.count("refills") == 1
