"""Typed notices: what the bot tells someone unasked (an order changed, a top-up to decide, the
panel is down), each a frozen dataclass with its recipient and one JSON codec. They are written
to the outbox in the same transaction as what they announce, and rendered by their type.

`to` is a Telegram user id, or `ADMINS` for a notice every admin reads (done when one has it).
A notice's fields are its payload's keys, so an outbox written by an earlier version of the
bot reads the same.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import typing
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar

log = logging.getLogger(__name__)

ADMINS = 0
"""The recipient that stands for every admin (no Telegram user has id 0)."""


@dataclass(frozen=True, slots=True)
class Notice:
    to: int
    kind: ClassVar[str] = ""
    always: ClassVar[bool] = False
    """Sent whatever /notifications says (admins' alerts and cards, answers about money)."""


# -- to a user about their order --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderChanged(Notice):
    """A new status, or progress past another quarter."""

    kind: ClassVar[str] = "order"
    order: int = 0
    """The order's row id (its card's button)."""
    panel_id: int = 0
    service: str = ""
    link: str | None = None
    runs: int | None = None
    old: str | None = None
    new: str = ""
    quantity: int | None = None
    remains: int | None = None
    charge: Decimal | None = None
    """The panel's charge, for an order from the panel balance (a wallet's is the shop's
    cost, not told)."""
    panel_refund: Decimal | None = None
    """What the panel gives back to its balance for what it did not deliver."""
    currency: str = ""
    wallet: bool = False
    refund: Decimal | None = None
    """What went back to the wallet with this change."""


@dataclass(frozen=True, slots=True)
class RefillChanged(Notice):
    kind: ClassVar[str] = "refill"
    refill: int = 0
    panel_id: int = 0
    order: int | None = None
    old: str | None = None
    new: str = ""


@dataclass(frozen=True, slots=True)
class Interrupted(Notice):
    """The bot stopped while placing the order: it may or may not exist."""

    kind: ClassVar[str] = "interrupted"
    order: int = 0
    service: str = ""
    link: str = ""
    wallet: bool = False


@dataclass(frozen=True, slots=True)
class UnknownResolved(Notice):
    """An admin decided the customer's order of unknown outcome (`panel_id`: placed as that
    order; None: not placed)."""

    kind: ClassVar[str] = "unknown_resolved"
    always: ClassVar[bool] = True
    order: int = 0
    panel_id: int | None = None
    service: str = ""
    link: str = ""
    currency: str = ""
    refund: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DepositDecided(Notice):
    kind: ClassVar[str] = "deposit_decided"
    always: ClassVar[bool] = True
    deposit: int = 0
    approved: bool = False
    amount: Decimal = Decimal(0)
    balance: Decimal = Decimal(0)
    currency: str = ""
    bonus: Decimal | None = None
    """A promo code's bonus, credited with the top-up."""


@dataclass(frozen=True, slots=True)
class PaymentClosed(Notice):
    """A top-up paid through a gateway closed unpaid: it expired, or the gateway failed it."""

    kind: ClassVar[str] = "payment_closed"
    always: ClassVar[bool] = True
    deposit: int = 0
    amount: Decimal = Decimal(0)
    currency: str = ""
    expired: bool = True


@dataclass(frozen=True, slots=True)
class StarsRefunded(Notice):
    """An admin gave the Stars of a top-up back, and took its amount from the wallet."""

    kind: ClassVar[str] = "stars_refunded"
    always: ClassVar[bool] = True
    deposit: int = 0
    stars: int = 0
    amount: Decimal = Decimal(0)
    balance: Decimal = Decimal(0)
    currency: str = ""


@dataclass(frozen=True, slots=True)
class WalletAdjusted(Notice):
    """An admin's /credit (positive `amount`) or /debit (negative) of the customer's wallet."""

    kind: ClassVar[str] = "wallet_adjusted"
    always: ClassVar[bool] = True
    amount: Decimal = Decimal(0)
    balance: Decimal = Decimal(0)
    currency: str = ""
    note: str = ""


# -- to admins ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnknownPaid(Notice):
    """An order paid from a wallet whose outcome is unknown: was it placed?"""

    kind: ClassVar[str] = "unknown_paid"
    always: ClassVar[bool] = True
    order: int = 0
    user: int = 0
    service: str = ""
    link: str = ""
    paid: Decimal = Decimal(0)
    currency: str = ""


@dataclass(frozen=True, slots=True)
class DepositCard(Notice):
    """A top-up to approve or reject (with its receipt's photo, when it is one)."""

    kind: ClassVar[str] = "deposit"
    always: ClassVar[bool] = True
    deposit: int = 0
    user: int = 0
    name: str = ""
    amount: Decimal = Decimal(0)
    currency: str = ""
    proof_kind: str | None = None
    proof: str | None = None
    promo: str = ""
    """The promo code held with the top-up: its bonus comes with the approval."""
    bonus: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PanelDown(Notice):
    kind: ClassVar[str] = "panel_down"
    always: ClassVar[bool] = True
    since: float = 0.0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PanelUp(Notice):
    kind: ClassVar[str] = "panel_up"
    always: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class BadKeyAlert(Notice):
    kind: ClassVar[str] = "bad_key"
    always: ClassVar[bool] = True
    message: str = ""


@dataclass(frozen=True, slots=True)
class StorageLostAlert(Notice):
    kind: ClassVar[str] = "storage_lost"
    always: ClassVar[bool] = True
    path: str = ""


@dataclass(frozen=True, slots=True)
class LowBalance(Notice):
    kind: ClassVar[str] = "low_balance"
    always: ClassVar[bool] = True
    balance: Decimal = Decimal(0)
    currency: str = ""
    threshold: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class PanelShort(Notice):
    """The panel balance cannot pay for the customers' orders."""

    kind: ClassVar[str] = "panel_short"
    always: ClassVar[bool] = True
    balance: Decimal = Decimal(0)
    currency: str = ""


@dataclass(frozen=True, slots=True)
class PaymentAlert(Notice):
    """What a gateway said that credited nothing: a callback whose signature is wrong, a
    reference the bot never gave, another amount or currency, a refund at the gateway."""

    kind: ClassVar[str] = "payment_alert"
    always: ClassVar[bool] = True
    method: str = ""
    problem: str = ""
    """`bot.core.topups.Problem`'s value."""
    reference: str = ""
    deposit: int | None = None
    amount: Decimal | None = None
    """What the gateway said was paid."""
    currency: str = ""
    detail: str = ""


# -- support tickets ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketCard(Notice):
    """To an admin: a customer's message on a ticket (the first one with who they are and
    their last orders), to reply to or close."""

    kind: ClassVar[str] = "ticket_card"
    always: ClassVar[bool] = True
    ticket: int = 0
    user: int = 0
    name: str = ""
    first: bool = False
    order: int | None = None
    """The panel's id of the order it is about (or the bot's row id when it has none)."""
    orders: list[list[Any]] = dataclasses.field(default_factory=list)
    """The customer's last orders: [panel id or row id, service, status]."""
    message_kind: str = "text"
    body: str = ""
    caption: str = ""


@dataclass(frozen=True, slots=True)
class TicketReply(Notice):
    """To the customer: an admin's reply on their ticket."""

    kind: ClassVar[str] = "ticket_reply"
    always: ClassVar[bool] = True
    ticket: int = 0
    message_kind: str = "text"
    body: str = ""
    caption: str = ""


@dataclass(frozen=True, slots=True)
class TicketClosed(Notice):
    kind: ClassVar[str] = "ticket_closed"
    always: ClassVar[bool] = True
    ticket: int = 0
    by_admin: bool = True


@dataclass(frozen=True, slots=True)
class BroadcastReport(Notice):
    """To the admin who sent a broadcast: how it went."""

    kind: ClassVar[str] = "broadcast_report"
    always: ClassVar[bool] = True
    broadcast: int = 0
    total: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0


KINDS: dict[str, type[Notice]] = {
    cls.kind: cls
    for cls in (
        OrderChanged,
        RefillChanged,
        Interrupted,
        UnknownResolved,
        DepositDecided,
        WalletAdjusted,
        UnknownPaid,
        DepositCard,
        PanelDown,
        PanelUp,
        BadKeyAlert,
        StorageLostAlert,
        LowBalance,
        PanelShort,
        PaymentClosed,
        StarsRefunded,
        PaymentAlert,
        TicketCard,
        TicketReply,
        TicketClosed,
        BroadcastReport,
    )
}


# -- the codec ----------------------------------------------------------------------------------


def encode(notice: Notice) -> tuple[str, str]:
    """The notice's kind and its payload as JSON text (money as exact decimal text)."""
    payload = {name: getattr(notice, name) for name in _payload_fields(type(notice))}
    return notice.kind, _JSON.encode(payload)


def decode(to: int, kind: str, payload: str) -> Notice | None:
    """The notice stored as `kind` and `payload`, or None for one this version does not know
    (it is dropped, logged, never sent half-understood)."""
    cls = KINDS.get(kind)
    if cls is None:
        log.warning("outbox: a notice of unknown kind %r is dropped", kind)
        return None
    data: dict[str, Any] = json.loads(payload)
    decimals = _decimal_fields(cls)
    names = {field.name for field in dataclasses.fields(cls)}
    values = {
        name: Decimal(value) if name in decimals and value is not None else value
        for name, value in data.items()
        if name in names and name != "to"
    }
    return cls(to, **values)


def _exact_text(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not part of a notice's payload")


_JSON = json.JSONEncoder(ensure_ascii=False, default=_exact_text)
"""One encoder for every notice: `json.dumps` with options builds a new one per call."""


@cache
def _payload_fields(cls: type[Notice]) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls) if field.name != "to")


@cache
def _decimal_fields(cls: type[Notice]) -> frozenset[str]:
    hints = typing.get_type_hints(cls)
    return frozenset(
        name for name, hint in hints.items() if hint is Decimal or Decimal in typing.get_args(hint)
    )
