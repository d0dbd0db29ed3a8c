"""What the bot keeps of orders, refills, users and notices: the types the core, storage and
the user interface share. Storage maps rows to these; ui renders them. No Telegram here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import IntEnum, StrEnum
from typing import Any, NamedTuple

from bot.core.api import OrderState, OrderStatus
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


@dataclass(frozen=True, slots=True)
class WalletPayment:
    """An order paid from a wallet: what the user pays, and what the panel charges for it
    (the shop's cost, kept for the money in /stats)."""

    amount: Decimal
    cost: Decimal

    def __post_init__(self) -> None:
        if not (self.amount > 0 and self.cost >= 0):  # a wallet is never credited by an order
            raise ValueError(f"not a payment: {self.amount} for a cost of {self.cost}")


class InsufficientFunds(Exception):
    """The wallet cannot pay: nothing was sent, nothing was taken."""

    def __init__(self, missing: Decimal) -> None:
        super().__init__(f"{missing} missing")
        self.missing = missing


class DepositState(StrEnum):
    AWAITING_PROOF = "awaiting_proof"
    PENDING = "pending"
    """Proven: waiting for an admin."""
    APPROVED = "approved"
    REJECTED = "rejected"


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


_INVISIBLE = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160"
    r"\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def visible(text: str) -> str:
    """Text from a user as an admin may read it: without control characters, bidi overrides
    and zero-width characters (which can make "Rp10.000" read as "Rp100.00"); new lines and
    tabs stay."""
    return _INVISIBLE.sub("", text)


REFUND_ALL = frozenset(
    {OrderState.CANCELED, OrderState.REFUNDED, OrderState.FAIL, OrderState.ERROR}
)


def round_up(amount: Decimal, unit: Decimal) -> Decimal:
    return (amount / unit).to_integral_value(rounding=ROUND_CEILING) * unit


def round_down(amount: Decimal, unit: Decimal) -> Decimal:
    return (amount / unit).to_integral_value(rounding=ROUND_FLOOR) * unit


def with_markup(panel_amount: Decimal, markup_percent: Decimal) -> Decimal:
    """A rate or price as a customer sees it: the panel's plus the markup, exact (rounded up
    to the currency's unit only where it is charged)."""
    return panel_amount * (100 + markup_percent) / 100


def refund_due(
    paid: Decimal,
    refunded: Decimal,
    quantity: int | None,
    state: OrderState,
    remains: int | None,
    unit: Decimal,
) -> Decimal:
    """What is still owed back for an order paid from a wallet, in its new state: all of it
    when the panel canceled, refunded or failed it; for a partial, the share not delivered
    (price x remains / quantity, rounded down). Never more than was paid, never twice."""
    if state in REFUND_ALL:
        owed = paid
    elif state is OrderState.PARTIAL and quantity and remains is not None:
        owed = round_down(paid * max(0, min(remains, quantity)) / quantity, unit)
    else:
        return Decimal(0)
    return max(Decimal(0), min(owed, paid) - refunded)


def delivered_share(quantity: int | None, state: OrderState, remains: int | None) -> Decimal:
    """The share of an order the panel delivered (and keeps the money for), as its state says:
    none when canceled, refunded or failed, the delivered part of a partial, else all."""
    if state in REFUND_ALL:
        return Decimal(0)
    if state is OrderState.PARTIAL and quantity and remains is not None:
        return Decimal(quantity - max(0, min(remains, quantity))) / quantity
    return Decimal(1)


def panel_cost(
    cost: Decimal,
    charge: Decimal | None,
    quantity: int | None,
    state: OrderState,
    remains: int | None,
) -> Decimal:
    """What an order costs the shop on the panel: what the panel charged (its reported charge
    when it is a sane one, else the price when ordered), less what it gives back for what it
    did not deliver. Panels that lower the charge of a partial and panels that keep it both
    read right; a hostile charge (negative, or above the price) is not believed."""
    charged = charge if charge is not None and 0 <= charge <= cost else cost
    return min(charged, cost * delivered_share(quantity, state, remains))


def panel_refund(
    price: Decimal,
    charge: Decimal | None,
    quantity: int | None,
    state: OrderState,
    remains: int | None,
) -> Decimal:
    """What the panel gives back to its balance for an order in this state (ordered from the
    panel balance): what it charged, less what the delivered part costs."""
    charged = charge if charge is not None and 0 <= charge <= price else price
    return charged - panel_cost(price, charge, quantity, state, remains)


@dataclass(frozen=True, slots=True)
class Money:
    """The money of a period: every kind of ledger entry (as positive figures), the panel's
    cost of the orders placed in it, and what is left of the sales."""

    entries: Mapping[EntryKind, Decimal]
    panel_cost: Decimal

    def of(self, kind: EntryKind) -> Decimal:
        amount = self.entries.get(kind, Decimal(0))
        return -amount if kind in MONEY_OUT else amount

    @property
    def profit(self) -> Decimal:
        return self.of(EntryKind.DEBIT_ORDER) - self.of(EntryKind.REFUND) - self.panel_cost

    @property
    def net(self) -> Decimal:
        """What the period's entries added to the wallets in all."""
        return sum(self.entries.values(), Decimal(0))


MONEY_OUT = frozenset({EntryKind.DEBIT_ORDER, EntryKind.ADJUSTMENT})
"""The kinds of entries that take money from a wallet (the others bring money in)."""


def money_since(
    moment: float, entries: Iterable[LedgerEntry], costs: Iterable[tuple[float, Decimal]]
) -> Money:
    """The money since `moment`: the entries by kind and the panel's cost of the orders
    placed since ((time, cost) pairs)."""
    by_kind: dict[EntryKind, Decimal] = {}
    for entry in entries:
        if entry.created_at >= moment:
            by_kind[entry.kind] = by_kind.get(entry.kind, Decimal(0)) + entry.amount
    return Money(by_kind, sum((c for at, c in costs if at >= moment), Decimal(0)))


def wrong_sign(entry: LedgerEntry) -> bool:
    """An entry moving money the way its kind cannot (an order that credits a wallet)."""
    return entry.amount > 0 if entry.kind in MONEY_OUT else entry.amount < 0


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
class MassBatch:
    """A mass order: its lines, the message that shows its progress once started, and the
    lines it did not send and why."""

    key: str
    user_id: int
    state: BatchState
    lines: tuple[BatchLine, ...]
    chat_id: int | None
    message_id: int | None
    skipped: Mapping[int, Skipped] = field(default_factory=dict)


ADMINS = 0
"""The outbox's recipient that stands for every admin (no Telegram user has id 0)."""


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
    paid: str | None
    """What its user paid from their wallet (shop mode; the panel's charge is not told)."""
    currency: str
    """The currency it was priced in (a status answer's own currency never replaces it)."""
    price: str


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
