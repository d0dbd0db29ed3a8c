"""What can go wrong when talking to a panel, as typed values.

Three families, kept apart on purpose:

- `PanelError`: the panel answered and said no (`{"error": "..."}`). Nothing happened.
- `PanelUnavailable`: no usable answer (timeout, 5xx, an HTML page, invalid JSON) for a call
  that is safe to repeat, or a call that provably never left this machine.
- `OutcomeUnknown`: a call that changes something (`add`, `refill`, `cancel`) was sent but
  its answer was lost. It may or may not have happened; it must not be repeated blindly.
"""

from __future__ import annotations


class PanelFailure(Exception):
    """Base of every failure of a panel call."""


class PanelError(PanelFailure):
    """The panel refused the request with an error message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class PanelUnavailable(PanelFailure):
    """No usable answer; `reason` is short and never contains the API key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutcomeUnknown(PanelFailure):
    """A state-changing call was sent and its answer was lost."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OrderOutcomeUnknown(OutcomeUnknown):
    """An `add` was sent and its answer was lost: the order may exist."""


_ERROR_KINDS: tuple[tuple[tuple[str, ...], type[PanelError]], ...] = (
    (("api key", "invalid key", "incorrect key"), BadKey),
    (("not enough funds", "insufficient", "low balance", "balance is low"), InsufficientFunds),
    (("service id", "incorrect service", "invalid service", "service not found"), UnknownService),
    (("active order",), DuplicateActiveOrder),
    (("incorrect link", "invalid link", "bad link", "link is"), BadLink),
    (("quantity",), BadQuantity),
    (("order id", "not found", "incorrect order", "invalid order", "incorrect refill"), NotFound),
)


def error_from_message(message: object) -> PanelError:
    """Map a panel's error text to the most specific `PanelError` subclass."""
    text = str(message).strip() or "Unknown error"
    lowered = text.casefold()
    for needles, kind in _ERROR_KINDS:
        if any(needle in lowered for needle in needles):
            return kind(text)
    return PanelError(text)
