"""Money rules: a currency's smallest unit, rounding, markup, what a wallet is owed back, what
an order costs the shop, and the money of a period. Decimal throughout, never float."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from babel.numbers import get_currency_precision

from bot.core.api import OrderState, Service
from bot.core.records import EntryKind, LedgerEntry, PlacedCost

WHOLE_UNITS = frozenset({"IDR", "VND", "KRW", "JPY", "CLP", "HUF", "ISK", "PYG", "UGX"})
"""Currencies whose whole amounts are shown without decimals."""


def currency_unit(currency: str) -> Decimal:
    """The smallest amount a wallet holds in this currency: 1 for whole-unit currencies
    (rupiah), else the currency's minor unit (0.01 when the currency is not known)."""
    if currency in WHOLE_UNITS:
        return Decimal(1)
    digits = get_currency_precision(currency) if currency else 2
    return Decimal(1).scaleb(-digits)


@dataclass(frozen=True, slots=True)
class WalletPayment:
    """An order paid from a wallet: what the user pays, and what the panel charges for it
    (the shop's cost, kept for the money in /stats)."""

    amount: Decimal
    """What the wallet pays in all (a promo code's discount taken off)."""
    cost: Decimal
    discount: Decimal = Decimal(0)
    """A promo code's discount (`promo`): the order's price is `amount + discount`."""
    promo: str | None = None
    referral_percent: Decimal = Decimal(0)
    """REFERRAL_PERCENT: the referrer's share of what the order is paid, if the user has one."""
    checked_at: float = 0.0
    """When the promo code was checked (its expiry is checked again at that moment)."""

    def __post_init__(self) -> None:
        if not (self.amount > 0 and self.cost >= 0):  # a wallet is never credited by an order
            raise ValueError(f"not a payment: {self.amount} for a cost of {self.cost}")


class InsufficientFunds(Exception):
    """The wallet cannot pay: nothing was sent, nothing was taken."""

    def __init__(self, missing: Decimal) -> None:
        super().__init__(f"{missing} missing")
        self.missing = missing


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


def placed_cost(placed: PlacedCost) -> Decimal:
    """What a wallet-paid order placed costs the shop on the panel (`panel_cost`)."""
    state = OrderState.parse(placed.status)
    return panel_cost(placed.cost, placed.charge, placed.quantity, state, placed.remains)


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
        """Sales less refunds, promo discounts, referral shares (net of those taken back)
        and the panel's cost."""
        return (
            self.of(EntryKind.DEBIT_ORDER)
            - self.of(EntryKind.REFUND)
            - self.of(EntryKind.PROMO_DISCOUNT)
            - self.referral_net
            - self.panel_cost
        )

    @property
    def referral_net(self) -> Decimal:
        return self.of(EntryKind.REFERRAL) - self.of(EntryKind.REFERRAL_BACK)

    @property
    def net(self) -> Decimal:
        """What the period's entries added to the wallets in all."""
        return sum(self.entries.values(), Decimal(0))


MONEY_OUT = frozenset({EntryKind.DEBIT_ORDER, EntryKind.ADJUSTMENT, EntryKind.REFERRAL_BACK})
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


ALL, CATEGORY, SERVICE = "all", "category", "service"
"""The scopes of markup rules; a service's rule wins over its category's, which wins over
the rule for all, which wins over MARKUP_PERCENT."""
MAX_MARKUP = Decimal(1000)


def markup_of(
    service: Service, rules: Mapping[tuple[str, str], Decimal], default: Decimal
) -> Decimal:
    """The markup percent of a service: its own rule, else its category's, else the rule for
    all, else MARKUP_PERCENT (`default`)."""
    for key in ((SERVICE, str(service.id)), (CATEGORY, service.category), (ALL, "")):
        if key in rules:
            return rules[key]
    return default
