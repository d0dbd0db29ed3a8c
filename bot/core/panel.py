"""The panel as the core sees it: the port (what a panel of API v2 can be asked) and what can
go wrong when talking to it, as typed values.

Three families, kept apart on purpose:

- `PanelError`: the panel answered and said no, at HTTP 200 or 4xx, in any of the dialects
  real panels speak (`bot.adapters.panel_http.dialects`). Nothing happened. `message` is the
  panel's own words.
- `PanelUnavailable`: no usable answer (timeout, 5xx, an HTML page, invalid JSON) for a call
  that is safe to repeat, or a call that provably never left this machine. `PanelBusy` is the
  panel's rate limit (429, or a Retry-After window the bot is still inside): nothing was done.
- `OutcomeUnknown`: a call that changes something (`add`, `refill`, `cancel`) was sent but
  its answer was lost. It may or may not have happened; it must not be repeated blindly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.core.api import Balance, OrderStatus, RefillStatus, Service


class PanelFailure(Exception):
    """Base of every failure of a panel call."""


class PanelError(PanelFailure):
    """The panel refused the request with an error message. `from_panel` is False where the
    bot itself put the words (an id missing from a bulk answer, an order not the user's)."""

    from_panel = True

    def __init__(self, message: str, *, from_panel: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if from_panel is not None:
            self.from_panel = from_panel


class BadKey(PanelError):
    """The API key is wrong or disabled."""


class InsufficientFunds(PanelError):
    """The balance does not cover the order."""


class UnknownService(PanelError):
    """The service id does not exist (any more)."""


class BadLink(PanelError):
    """The panel rejected the link."""


class BadQuantity(PanelError):
    """The panel rejected the quantity."""


class DuplicateActiveOrder(PanelError):
    """An active order with the same link already exists."""


class NotFound(PanelError):
    """The order or refill id is unknown to the panel."""


class NotSupported(PanelError):
    """The panel does not offer this action through its API (answered `null` or nothing)."""

    from_panel = False


class Unreadable(PanelError):
    """One item of a bulk answer could not be read; the others could."""

    from_panel = False


class PanelUnavailable(PanelFailure):
    """No usable answer; `reason` is short and never contains the API key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PanelBusy(PanelUnavailable):
    """The panel limits the rate of requests: nothing was sent or done; `retry_after` is how
    many seconds until the panel accepts requests again."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(0.0, retry_after)
        super().__init__(f"rate limited for {math.ceil(self.retry_after)} s")


class LostAnswer(StrEnum):
    """How the answer to a state-changing call was lost."""

    TIMEOUT = "timeout"
    ERROR_PAGE = "error_page"
    """A 5xx, an HTML page or a body that is not JSON."""
    CONNECTION = "connection"
    NO_ID = "no_id"
    """An answer that says neither which order (or refill) nor why not."""
    RESTART = "restart"
    """The bot stopped while the call was under way."""


class OutcomeUnknown(PanelFailure):
    """A state-changing call was sent and its answer was lost."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def lost(self) -> LostAnswer:
        """What happened, read from the reason (also as stored with an order)."""
        reason = self.reason.casefold()
        if "timeout" in reason:
            return LostAnswer.TIMEOUT
        if reason.startswith(("http ", "html page", "an answer that is not json")):
            return LostAnswer.ERROR_PAGE
        if "without a" in reason:
            return LostAnswer.NO_ID
        if "restart" in reason:
            return LostAnswer.RESTART
        return LostAnswer.CONNECTION


class OrderOutcomeUnknown(OutcomeUnknown):
    """An `add` was sent and its answer was lost: the order may exist."""


_ERROR_KINDS: tuple[tuple[tuple[str, ...], type[PanelError]], ...] = (
    (
        ("api key", "invalid key", "incorrect key", "wrong key", "unauthenticated", "apikey"),
        BadKey,
    ),
    (
        ("not enough funds", "insufficient", "low balance", "balance is low", "saldo tidak"),
        InsufficientFunds,
    ),
    (
        ("service id", "incorrect service", "invalid service", "service not found", "layanan"),
        UnknownService,
    ),
    (("active order", "duplicate"), DuplicateActiveOrder),
    (("incorrect link", "invalid link", "bad link", "link is", "link must"), BadLink),
    (("quantity",), BadQuantity),
    (
        ("order id", "not found", "incorrect order", "invalid order", "incorrect refill"),
        NotFound,
    ),
)
_KEY_SEPARATORS = re.compile(r"[._]+")


def error_from_message(message: object, *, http_status: int | None = None) -> PanelError:
    """Map a panel's error text to the most specific `PanelError` subclass. Translation keys
    (`neworder.error.link_duplicate`) read as words; a 401 is a bad key whatever it says."""
    text = str(message).strip() or "Unknown error"
    lowered = _KEY_SEPARATORS.sub(" ", text.casefold())
    if http_status == 401:
        return BadKey(text)
    for needles, kind in _ERROR_KINDS:
        if any(needle in lowered for needle in needles):
            return kind(text)
    return PanelError(text)


# -- a failure kept as text (the order table's `error` column) -----------------------------------

_UNAVAILABLE = "unavailable: "
_BUSY = "busy: "


def failure_to_text(failure: PanelFailure) -> str:
    """What is stored of a failed submission: the panel's words, or a tagged reason."""
    if isinstance(failure, PanelBusy):
        return f"{_BUSY}{math.ceil(failure.retry_after)}"
    if isinstance(failure, PanelUnavailable):
        return _UNAVAILABLE + failure.reason
    if isinstance(failure, PanelError):
        return failure.message
    return str(failure)


def failure_from_text(text: str) -> PanelFailure:
    """The failure `failure_to_text` stored, typed again for display."""
    if text.startswith(_BUSY) and text[len(_BUSY) :].isdigit():
        return PanelBusy(float(text[len(_BUSY) :]))
    if text.startswith(_UNAVAILABLE):
        return PanelUnavailable(text[len(_UNAVAILABLE) :])
    return error_from_message(text)


# -- the port --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What `add` sends besides key and action: the service and its type's fields."""

    service_id: int
    fields: Mapping[str, str]


class Panel(Protocol):
    """A panel speaking API v2. Every call raises `PanelFailure` when the whole call fails;
    the bulk calls answer an id the panel refused with a `PanelError` of its own. `add`,
    `refills` and `cancel` are never repeated by the client (no idempotency key)."""

    url: str
    last_success: float
    failures_in_a_row: int

    def busy_for(self) -> float: ...

    async def services(self) -> list[Service]: ...

    async def add(self, order: OrderRequest) -> int: ...

    async def status(self, order_id: int) -> OrderStatus: ...

    async def statuses(
        self, ids: Iterable[int], *, patient: bool = False
    ) -> dict[int, OrderStatus | PanelError]: ...

    async def refills(self, ids: Iterable[int]) -> dict[int, int | PanelError]: ...

    async def refill_statuses(self, ids: Iterable[int]) -> dict[int, RefillStatus | PanelError]: ...

    async def cancel(self, ids: Iterable[int]) -> dict[int, PanelError | None]: ...

    async def balance(self) -> Balance: ...

    async def aclose(self) -> None: ...
