"""Browsing and Accounts over the fakes: the catalog as each user sees it, favourites, the
services ordered last; users seen, their language, notifications, blocking."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.actor import Actor
from bot.core.panel import OrderOutcomeUnknown, PanelError, PanelUnavailable
from bot.core.records import UserRecord
from tests.core.fakes import ADMIN, OTHER, USER, place, service, world

ME = Actor(USER)


async def test_the_index_is_the_actors_view_of_the_catalog() -> None:
    w = world([service(1, rate="100"), service(2, rate="0")], wallets=True, markup="50")
    mine = await w.browsing.index(Actor(USER, pays_from_wallet=True))
    assert [(s.id, s.rate) for s in mine.services] == [(1, Decimal("150"))]  # 0: not sellable
    boss = await w.browsing.index(Actor(ADMIN, is_admin=True))
    assert [(s.id, s.rate) for s in boss.services] == [(1, Decimal("100"))]


async def test_no_catalog_at_all_is_a_panel_failure() -> None:
    w = world([service(1)])
    w.panel.failing["services"] = PanelUnavailable("timeout")
    with pytest.raises(PanelUnavailable):
        await w.browsing.index(ME)


async def test_favourites_toggle_the_latest_first_per_user() -> None:
    w = world([service(1), service(2), service(3)])
    assert await w.browsing.toggle_favourite(ME, 1)
    assert await w.browsing.toggle_favourite(ME, 3)
    assert await w.browsing.toggle_favourite(Actor(OTHER), 2)
    assert await w.browsing.favourites(ME) == [3, 1]
    assert not await w.browsing.toggle_favourite(ME, 3)
    assert await w.browsing.favourites(ME) == [1]
    assert await w.browsing.favourites(Actor(OTHER)) == [2]


async def test_recent_services_are_the_latest_orders_own_and_distinct() -> None:
    w = world([service(1), service(2), service(3)])
    assert not await w.browsing.has_orders(ME)
    await place(w, ME, 1, "https://instagram.com/p/a")
    await place(w, ME, 2, "https://instagram.com/p/b")
    await place(w, ME, 1, "https://instagram.com/p/c")
    w.panel.add_answers = [PanelError("Service disabled")]
    await place(w, ME, 3, "https://instagram.com/p/d")  # refused: not an order
    w.panel.add_answers = [OrderOutcomeUnknown("timeout")]
    await place(w, ME, 2, "https://instagram.com/p/e")  # may be one: it counts
    await place(w, Actor(OTHER), 3, "https://instagram.com/p/f")
    assert await w.browsing.recent(ME, 5) == [2, 1]
    assert await w.browsing.recent(ME, 1) == [2]
    assert await w.browsing.has_orders(ME)


async def test_accounts_remember_language_notifications_and_blocking() -> None:
    w = world()
    assert await w.accounts.get(USER) is None
    seen = await w.accounts.seen(USER, "id")
    assert seen == UserRecord(USER, None, "id", True, False)
    await w.accounts.set_language(USER, "en")
    await w.accounts.set_notifications(USER, False)
    await w.accounts.blocked(USER)
    user = await w.accounts.get(USER)
    assert user is not None and user.language == "en" and not user.notifications and user.blocked
    again = await w.accounts.seen(USER, "en")  # they wrote: no longer blocking the bot
    assert not again.blocked and again.language == "en" and again.telegram_language == "en"
    await w.accounts.seen(OTHER, None)
    assert set(await w.accounts.get_many([USER, OTHER, 99])) == {USER, OTHER}
