"""An order being filled in, one answer at a time, and the quote it makes with a service: its
fields, quantity, price and the problems the service's rules find."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, Field

from bot.core.api import Service
from bot.core.order_types import (
    InvalidField,
    Issue,
    OrderType,
    check_field,
    check_order,
    fields_to_ask,
    order_type_of,
    price,
    quantity,
)

DRIP_FEED_STEP = "dripfeed"


QUANTITY_PRESETS = (10, 50, 100, 500, 1000, 5000, 10000, 50000, 100000, 500000, 1000000)
PRESETS_SHOWN = 4


def quantity_presets(low: int, high: int) -> list[int]:
    """The quantities offered as buttons for a service's range: round numbers within it,
    from 100 up when the range allows (100 · 500 · 1,000 · 5,000 for 50 to 100,000)."""
    inside = [n for n in QUANTITY_PRESETS if low <= n <= high]
    return ([n for n in inside if n >= 100] or inside)[:PRESETS_SHOWN]


def new_key() -> str:
    return secrets.token_urlsafe(9)


class OrderDraft(BaseModel):
    """An order being filled in, one answer at a time."""

    key: str = Field(default_factory=new_key)
    """The intent key: the order placed from this draft is stored under it."""
    service_id: int
    values: dict[str, str] = Field(default_factory=dict)
    """Answers in the panel's form; an optional field skipped is an empty string."""
    answered: list[str] = Field(default_factory=list)
    drip_feed: bool | None = None
    turn: int = 0
    """How many questions and summaries were shown: only the latest one's buttons act."""
    shown_price: Decimal | None = None
    """The price the latest summary showed: Confirm takes that or nothing."""
    promo: str | None = None
    """The promo code the user gave at the summary (shop mode)."""
    service_name: str = ""
    """The service's name, for the menu's Continue button."""
    waiting_for: str = ""
    """The question the draft waits for ("" at its summary), for the menu."""
    waiting_number: bool = False
    """Whether that question's answer is a number (one typed at the menu is offered to it)."""
    back: str = ""
    """Where the first question's Back goes (the list the service was chosen from)."""

    def next_turn(self) -> int:
        self.turn += 1
        return self.turn

    def is_current(self, turn: int) -> bool:
        """Whether a button of turn `turn` belongs to the latest question. A number beyond
        the stored one is a question shown just before a crash lost the draft's last
        save: it is the latest."""
        if turn < self.turn:
            return False
        self.turn = turn
        return True

    def next_step(self, order_type: OrderType) -> str | None:
        """The field to ask next, or None when the order is complete. Drip-feed is never
        asked: it is an option of the summary (`choose_drip_feed`), its runs and interval
        asked once it is chosen."""
        remaining = fields_to_ask(order_type, self.values, drip_feed=bool(self.drip_feed))
        return remaining[0] if remaining else None

    @classmethod
    def again(cls, service_id: int, order_type: OrderType, fields: dict[str, str]) -> OrderDraft:
        """A new draft with an earlier order's answers, as if given again one by one: what
        was skipped is skipped again, and a required answer the order lacks is asked."""
        draft = cls(service_id=service_id)
        if order_type.has_drip_feed and "runs" in fields:
            draft.drip_feed = True
        while (step := draft.next_step(order_type)) is not None:
            if step in fields:
                draft.answer(step, fields[step])
            elif order_type.field(step).optional:
                draft.answer(step, "")
            else:
                break
        return draft

    def answer(self, name: str, value: str) -> None:
        self.values[name] = value
        self.answered.append(name)

    def choose_drip_feed(self, enabled: bool, order_type: OrderType | None = None) -> None:
        """Drip-feed on (its runs and interval are asked next) or off (their answers are
        forgotten: `order_type` names them)."""
        self.drip_feed = enabled
        self.answered.append(DRIP_FEED_STEP)
        if not enabled and order_type is not None:
            dripped = {s.name for s in order_type.fields if s.drip_feed}
            for name in dripped:
                self.values.pop(name, None)
            self.answered = [a for a in self.answered if a not in dripped]

    @property
    def started(self) -> bool:
        """Whether any answer was given."""
        return bool(self.answered)

    def step_back(self) -> bool:
        """Forget the last answer; False when there is none (back to the service)."""
        if not self.answered:
            return False
        last = self.answered.pop()
        if last == DRIP_FEED_STEP:
            self.drip_feed = None
        else:
            self.values.pop(last, None)
        return True

    def edit(self, name: str, order_type: OrderType) -> bool:
        """Forget one answer (and the answers only asked because of it) so it is asked again;
        False when the draft has no such answer."""
        if name not in self.values:
            return False
        dependent = {s.name for s in order_type.fields if s.ask_if and s.ask_if[0] == name}
        for field in (name, *dependent):
            self.values.pop(field, None)
        self.answered = [a for a in self.answered if a != name and a not in dependent]
        return True

    def renew_key(self) -> None:
        """After a refusal, a new confirmation is a new intent."""
        self.key = new_key()

    def fields(self) -> dict[str, str]:
        return {name: value for name, value in self.values.items() if value}


@dataclass(frozen=True, slots=True)
class Quote:
    service: Service
    fields: dict[str, str]
    quantity: int | None
    price: Decimal
    issues: list[Issue]


def delivered_quantity(order_type: OrderType, fields: dict[str, str]) -> int | None:
    """What the order delivers in all: the quantity, times the runs of a drip-feed (what
    the panel's remains count down from)."""
    amount = quantity(order_type, fields)
    runs = fields.get("runs", "")
    return amount * int(runs) if amount is not None and runs.isdigit() else amount


def quote(draft: OrderDraft, service: Service) -> Quote:
    """The order the draft makes with the service as the catalog has it now: only the fields
    of its order type, each checked again (the panel may have changed the service's range
    since the answer was given)."""
    order_type = order_type_of(service)
    answers = draft.fields()
    fields = {spec.name: answers[spec.name] for spec in order_type.fields if spec.name in answers}
    issues = []
    for spec in order_type.fields:
        if spec.name in fields:
            try:
                check_field(spec, fields[spec.name], service)
            except InvalidField as invalid:
                issues.append(invalid.issue)
    issues += check_order(order_type, fields, service)
    return Quote(
        service=service,
        fields=fields,
        quantity=delivered_quantity(order_type, fields),
        price=price(service, fields),
        issues=issues,
    )
