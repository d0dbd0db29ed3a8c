"""Who acts: a user as the bot knows them (an admin or not, paying from a wallet or not), and
the one rule of who may see or act on an order."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.records import Order, Refill


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    is_admin: bool = False
    pays_from_wallet: bool = False
    """Shop mode: everyone but the admins (who order from the panel balance)."""

    def may_see(self, order: Order | Refill) -> bool:
        """A user sees and acts only on the orders (and refills) placed by them through the
        bot; an admin on any."""
        return self.is_admin or order.user_id == self.user_id

    def may_ask_about(self, panel_id: int, order: Order | None) -> bool:
        """Whether this actor may ask the panel about an order id: their own order of the bot,
        or any id for an admin (orders placed on the panel's website too)."""
        return self.is_admin or (order is not None and order.user_id == self.user_id)


@dataclass(frozen=True, slots=True)
class Access:
    """Who may use the bot at all, and who pays from a wallet (the operator's settings)."""

    admin_ids: frozenset[int]
    allowed_ids: frozenset[int]
    open_signup: bool
    wallets: bool

    def allows(self, user_id: int) -> bool:
        return self.open_signup or user_id in self.admin_ids or user_id in self.allowed_ids

    def actor(self, user_id: int) -> Actor:
        is_admin = user_id in self.admin_ids
        return Actor(user_id, is_admin=is_admin, pays_from_wallet=self.wallets and not is_admin)
