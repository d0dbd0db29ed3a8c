"""What the bot keeps of orders, refills, users and notices: the types the core, storage and
the user interface share. Storage maps rows to these; ui renders them. No Telegram here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import NamedTuple

from bot.core.api import OrderState, OrderStatus
from bot.core.notices import Notice
from bot.core.panel import NotFound

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


class EntryKind(StrEnum):
    """What moved money in or out of a wallet."""

    DEPOSIT = "deposit"
    """A top-up an admin approved."""
    CREDIT = "credit"
    """Added by an admin (/credit)."""
    DEBIT_ORDER = "debit_order"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    """Taken by an admin (/debit)."""
    REFERRAL = "referral"
    """The referrer's share of what a customer they brought spent on an order."""
    REFERRAL_BACK = "referral_back"
    """The share taken back for what that order refunded."""
    PROMO_BONUS = "promo_bonus"
    """A promo code's bonus on a top-up."""
    PROMO_DISCOUNT = "promo_discount"
    """A promo code's discount on an order (the order's debit is its full price)."""


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    user_id: int
    amount: Decimal
    """Signed: money in is positive."""
    kind: EntryKind
    order_id: int | None
    deposit_id: int | None
    admin_id: int | None
    note: str
    created_at: float
    panel_order_id: int | None = None
    """The panel's id of the order it is for, when it has one (what the user knows)."""


@dataclass(frozen=True, slots=True)
class Wallet:
    user_id: int
    balance: Decimal
    credit_limit: Decimal
    """How far below zero the wallet may go (a team member's credit)."""

    @property
    def available(self) -> Decimal:
        return self.balance + self.credit_limit

    def short_of(self, amount: Decimal) -> Decimal:
        """What is missing to pay this much (0: it can)."""
        return max(Decimal(0), amount - self.available)


class DepositState(StrEnum):
    AWAITING_PROOF = "awaiting_proof"
    PENDING = "pending"
    """Proven: waiting for an admin."""
    APPROVED = "approved"
    REJECTED = "rejected"
    AWAITING_PAYMENT = "awaiting_payment"
    """Paid through a gateway (`bot.core.payments`): credited when it says paid."""
    CLOSED = "closed"
    """Its payment expired or failed unpaid: nothing credited."""


@dataclass(frozen=True, slots=True)
class Deposit:
    id: int
    user_id: int
    amount: Decimal
    state: DepositState
    proof_kind: str | None
    """'photo' (the proof is Telegram's file id) or 'text'."""
    proof: str | None
    decided_by: int | None
    created_at: float = 0.0
    name: str = ""
    """The sender's name as Telegram gave it when they sent the proof."""
    method: str = "manual"
    """How it is paid (`bot.core.payments.PaymentMethod`)."""


_INVISIBLE = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160"
    r"\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def visible(text: str) -> str:
    """Text from a user as an admin may read it: without control characters, bidi overrides
    and zero-width characters (which can make "Rp10.000" read as "Rp100.00"); new lines and
    tabs stay."""
    return _INVISIBLE.sub("", text)


class BatchState(StrEnum):
    PREVIEW = "preview"
    """Shown, waiting for Confirm."""
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class BatchLine:
    """One valid line of a mass order: its number as typed, the service, the order's fields,
    and the price its preview showed (what the line may take: None for a batch stored by an
    older version, which showed none)."""

    number: int
    service_id: int
    fields: Mapping[str, str]
    price: Decimal | None = None


class Skipped(StrEnum):
    """Why a line of a running mass order was not sent (no intent was stored for it)."""

    GONE = "gone"
    """The service is no longer offered, or no longer takes the line's fields."""
    PRICE_CHANGED = "price_changed"
    NO_FUNDS = "no_funds"


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """A line of a mass order its preview refused, kept for the report: as typed (the
    quantity too, to say again what was wrong with it) and why (a `Problem`'s value)."""

    number: int
    link: str
    service_id: int | None
    problem: str
    other: int | None = None
    quantity: str = ""


@dataclass(frozen=True, slots=True)
class MassBatch:
    """A mass order: its lines, the message that shows its progress once started, the
    lines it did not send and why, and the lines its preview refused."""

    key: str
    user_id: int
    state: BatchState
    lines: tuple[BatchLine, ...]
    chat_id: int | None
    message_id: int | None
    skipped: Mapping[int, Skipped] = field(default_factory=dict)
    rejected: tuple[RejectedLine, ...] = ()


@dataclass(frozen=True, slots=True)
class UserRecord:
    user_id: int
    language: str | None
    """Chosen with /language."""
    telegram_language: str | None
    """The language of their Telegram, as last seen."""
    notifications: bool
    blocked: bool


DAY = 86_400.0
_NO_REFILL = re.compile(r"\bno[\s_-]*refill\b", re.IGNORECASE)
_LIFETIME = re.compile(r"\blife\s*time\b", re.IGNORECASE)
_REFILL_DAYS = (
    re.compile(r"\brefill\s*[:\-]?\s*(\d{1,3})\s*d(?:ays?)?\b", re.IGNORECASE),  # Refill 30D
    re.compile(r"\b(\d{1,3})\s*d(?:ays?)?\s*refill\b", re.IGNORECASE),  # 30 Days Refill
    re.compile(r"\bR(\d{1,3})\b"),  # R30
)


@dataclass(frozen=True, slots=True)
class RefillTerm:
    """How long refills can be asked, as a service's name states it."""

    days: int | None
    """0: no refill; None: for the order's lifetime."""


def stated_refill_term(service_name: str) -> RefillTerm | None:
    """The refill term a service's name states ("Refill 30D", "30 Days Refill", "R30",
    "Lifetime", "No Refill"), or None when it states none."""
    if _NO_REFILL.search(service_name):
        return RefillTerm(0)
    for pattern in _REFILL_DAYS:
        found = pattern.search(service_name)
        if found:
            return RefillTerm(int(found.group(1)))
    if _LIFETIME.search(service_name):
        return RefillTerm(None)
    return None


def target_of(fields: Mapping[str, str]) -> str | None:
    """What an order is for, as its user knows it: its link, or its username."""
    return fields.get("link") or fields.get("username") or None


def drip_runs(fields: Mapping[str, str]) -> int | None:
    """The runs of a drip-feed order (None: delivered at once)."""
    runs = fields.get("runs", "")
    return int(runs) if runs.isdigit() and int(runs) > 1 else None


def target_core(text: str) -> str:
    """A link (or username) without scheme, www, case and final slash."""
    text = text.strip().lower()
    for prefix in ("https://", "http://", "www.", "@"):
        text = text.removeprefix(prefix)
    return text.rstrip("/")


def same_target(first: str, second: str) -> bool:
    """Whether two links (or usernames) name the same thing."""
    return target_core(first) == target_core(second)


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
    paid: Decimal | None = None
    """What the user paid from their wallet (None: ordered from the panel balance)."""
    refunded: Decimal = Decimal(0)
    cost: Decimal | None = None
    """What the panel charges for it, as priced when ordered (shop mode)."""
    known_panel_id: int | None = None
    """The newest panel order id the bot knew when the intent was stored."""

    @property
    def state(self) -> OrderState | None:
        return OrderState.parse(self.status) if self.status else None

    @property
    def target(self) -> str | None:
        return target_of(self.fields)

    @property
    def refill_term(self) -> RefillTerm | None:
        return stated_refill_term(self.service_name) if self.can_refill else None

    @property
    def refill_until(self) -> float | None:
        """When the refill term its service states ends (None: no such end)."""
        term = self.refill_term
        if term is None or term.days is None:
            return None
        return self.created_at + term.days * DAY


class OrderFilter(IntEnum):
    """The views of a user's orders."""

    ALL = 0
    ACTIVE = 1
    COMPLETED = 2
    PARTIAL = 3
    CANCELED = 4
    """Canceled, refunded or failed: nothing (more) is delivered."""


_ENDED_SHORT = {OrderState.CANCELED, OrderState.REFUNDED, OrderState.FAIL, OrderState.ERROR}


class ListedOrder(NamedTuple):
    """What a list needs to know of each of a user's orders to filter and count them."""

    id: int
    final: bool
    status: str | None

    def matches(self, view: OrderFilter) -> bool:
        state = OrderState.parse(self.status) if self.status else None
        match view:
            case OrderFilter.ACTIVE:
                return not self.final
            case OrderFilter.COMPLETED:
                return state is OrderState.COMPLETED
            case OrderFilter.PARTIAL:
                return state is OrderState.PARTIAL
            case OrderFilter.CANCELED:
                return state in _ENDED_SHORT
        return True


class DueOrder(NamedTuple):
    """What the tracker compares a new status with, read for 100,000 orders at once (from an
    index alone: nothing else of the order is read until it has news)."""

    id: int
    panel_order_id: int
    status: str | None
    remains: int | None
    quantity: int | None
    created_at: float


class NoticeDetails(NamedTuple):
    """What a status notice tells of an order beyond its status, read for those with news."""

    user_id: int
    service_name: str
    paid: str | None
    """What its user paid from their wallet (shop mode; the panel's charge is not told)."""
    currency: str
    """The currency it was priced in (a status answer's own currency never replaces it)."""
    price: str
    fields: dict[str, str]
    """Its link or username (how the user tells their orders apart) and its runs."""


class Check(NamedTuple):
    """The result of polling one order: its new status (None: unchanged or unreadable), and
    when to poll it next (None: every cycle)."""

    order_id: int
    """The order's row id (not the panel's id: a row id is the table's own key)."""
    status: OrderStatus | None
    next_check_at: float | None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A notice waiting in the outbox, and its place there."""

    id: int
    notice: Notice


class PlacedCost(NamedTuple):
    """What the panel charged for a wallet-paid order, and how far it delivered (the shop's
    cost in /stats)."""

    created_at: float
    cost: Decimal
    """The panel's price when ordered."""
    charge: Decimal | None
    status: str
    quantity: int | None
    remains: int | None


@dataclass(frozen=True, slots=True)
class Refill:
    panel_refill_id: int
    panel_order_id: int
    user_id: int
    status: str | None
    final: bool


# -- referrals, promo codes, support tickets ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferralShare:
    """What an order's referrer is due: REFERRAL_PERCENT as it was when the order was paid,
    and what they were paid of it so far (net of what was taken back)."""

    order_id: int
    referrer_id: int
    percent: Decimal
    paid: Decimal


class PromoKind(StrEnum):
    TOP_UP = "top_up"
    """A bonus on a top-up."""
    ORDER = "order"
    """A discount on an order."""


@dataclass(frozen=True, slots=True)
class PromoCode:
    id: int
    code: str
    """Upper case, as customers type it (case does not matter to them)."""
    kind: PromoKind
    percent: Decimal | None
    """The bonus or discount as a percent of the amount; else `amount`."""
    amount: Decimal | None
    minimum: Decimal
    """The least top-up or order price it applies to."""
    expires_at: float | None
    total_limit: int | None
    per_user: int | None
    created_by: int
    active: bool = True
    uses: int = 0
    """How many times it was used (or is held by a top-up waiting for an admin)."""


class TicketState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    user_id: int
    order_id: int | None
    state: TicketState
    created_at: float
    updated_at: float
    name: str = ""
    """The customer's name as Telegram gave it."""


@dataclass(frozen=True, slots=True)
class TicketMessage:
    id: int
    ticket_id: int
    author_id: int
    from_admin: bool
    kind: str
    """'text', or 'photo' (the body is Telegram's file id; the caption in `caption`)."""
    body: str
    caption: str
    created_at: float


# -- broadcasts ------------------------------------------------------------------------------


class RecipientState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"


class BroadcastState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    DONE = "done"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str
    """'all', 'wallet', 'days' (`value`: N) or 'lang' (`value`: a language code)."""
    value: str = ""

    def code(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind

    @classmethod
    def parse(cls, code: str) -> Audience | None:
        kind, _, value = code.partition(":")
        if kind in ("all", "wallet") and not value:
            return cls(kind)
        if kind == "days" and value.isdigit() and 0 < int(value) <= 3650:
            return cls(kind, value)
        if kind == "lang" and re.fullmatch(r"[a-z]{2}", value):
            return cls(kind, value)
        return None


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    admin_id: int
    kind: str
    """'text' or 'photo' (`photo`: Telegram's file id)."""
    body: str
    """HTML, as Telegram gave the admin's message (a photo's caption)."""
    photo: str | None
    buttons: list[tuple[str, str]]
    audience: Audience | None
    state: BroadcastState
    chat_id: int | None = None
    message_id: int | None = None
    """The progress message, edited while it runs."""


@dataclass(frozen=True, slots=True)
class Tally:
    total: int
    pending: int
    sent: int
    blocked: int
    failed: int

    @property
    def done(self) -> int:
        return self.total - self.pending
