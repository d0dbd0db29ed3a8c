"""What the bot keeps of orders, refills, users and notices: the types the core, storage and
the user interface share. Storage maps rows to these; ui renders them. No Telegram here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from bot.panel.errors import NotFound
from bot.panel.models import OrderState, OrderStatus

NOT_YOURS = NotFound("not yours", from_panel=False)
"""What a user reads of an order or refill that is not theirs: the same as of one the panel
does not know."""


class Outcome(StrEnum):
    """What became of an order submission."""

    SUBMITTING = "submitting"
    """The intent is stored and the `add` call may be under way."""
    PLACED = "placed"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    """The answer was lost (or the bot stopped mid-call): the order may exist."""
    NOT_PLACED = "not_placed"
    """Of unknown outcome at first, then marked as not placed (the panel has no such order)."""

    @property
    def is_order(self) -> bool:
        """Whether it is (or may be) an order: what the lists show and count."""
        return self in (Outcome.SUBMITTING, Outcome.PLACED, Outcome.UNKNOWN)


@dataclass(frozen=True, slots=True)
class UserRecord:
    user_id: int
    language: str | None
    """Chosen with /language."""
    telegram_language: str | None
    """The language of their Telegram, as last seen."""
    notifications: bool
    blocked: bool


def target_of(fields: Mapping[str, str]) -> str | None:
    """What an order is for, as its user knows it: its link, or its username."""
    return fields.get("link") or fields.get("username") or None


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    intent_key: str
    user_id: int
    panel_order_id: int | None
    service_id: int
    service_name: str
    service_type: str
    category: str
    rate: Decimal
    can_refill: bool
    can_cancel: bool
    fields: dict[str, str]
    quantity: int | None
    price: Decimal
    charge: Decimal | None
    currency: str
    outcome: Outcome
    error: str | None
    status: str | None
    remains: int | None
    start_count: int | None
    final: bool
    created_at: float
    updated_at: float
    cancel_requested_at: float | None

    @property
    def state(self) -> OrderState | None:
        return OrderState.parse(self.status) if self.status else None

    @property
    def target(self) -> str | None:
        return target_of(self.fields)


class TrackedOrder(NamedTuple):
    """What the tracker needs of an order, read cheaply for many orders at once."""

    id: int
    panel_order_id: int
    user_id: int
    status: str | None
    remains: int | None
    quantity: int | None
    created_at: float
    service_name: str


class Check(NamedTuple):
    """The result of polling one order: its new status (None: unchanged or unreadable), and
    when to poll it next (None: every cycle)."""

    order_id: int
    """The order's row id (not the panel's id: a row id is the table's own key)."""
    status: OrderStatus | None
    next_check_at: float | None


@dataclass(frozen=True, slots=True)
class Notice:
    """A message to send: who to, what kind, and what it says (rendered when sent)."""

    user_id: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    user_id: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Refill:
    panel_refill_id: int
    panel_order_id: int
    user_id: int
    status: str | None
    final: bool
