"""The one rule of who sees and acts on an order, and who may use the bot at all."""

from __future__ import annotations

from bot.core.actor import Access, Actor
from bot.core.records import Refill
from tests.core.fakes import ADMIN, OTHER, USER


def refill_of(user_id: int) -> Refill:
    return Refill(1, 2, user_id, "Pending", False)


def test_a_user_sees_their_own_an_admin_any() -> None:
    assert Actor(USER).may_see(refill_of(USER))
    assert not Actor(USER).may_see(refill_of(OTHER))
    assert Actor(ADMIN, is_admin=True).may_see(refill_of(OTHER))


def test_asking_the_panel_about_an_id() -> None:
    assert not Actor(USER).may_ask_about(42, None)  # not the bot's: only admins ask
    assert Actor(ADMIN, is_admin=True).may_ask_about(42, None)


def test_access_and_who_pays_from_a_wallet() -> None:
    access = Access(
        admin_ids=frozenset({ADMIN}), allowed_ids=frozenset({USER}), open_signup=False, wallets=True
    )
    assert access.allows(ADMIN) and access.allows(USER) and not access.allows(OTHER)
    assert access.actor(USER) == Actor(USER, is_admin=False, pays_from_wallet=True)
    assert access.actor(ADMIN) == Actor(ADMIN, is_admin=True, pays_from_wallet=False)
    open_bot = Access(frozenset(), frozenset(), open_signup=True, wallets=False)
    assert open_bot.allows(OTHER) and not open_bot.actor(OTHER).pays_from_wallet
