"""Compact, versioned, validated callback data.

`<version><code>:<arg>:<arg>`, at most 64 bytes. Each button kind is a `Button` with typed
arguments; `Button.parse` returns None for anything it did not make, so a stale or forged
button is answered with "expired", never a traceback. Bump `VERSION` when a button's
meaning changes: every button of an older version then reads as expired.
"""

from __future__ import annotations

import re
from typing import Any

VERSION = "1"
MAX_BYTES = 64

_ARG_PATTERNS = {
    int: r"\d{1,12}",
    str: r"[A-Za-z0-9_\-]{1,24}",
}


_CODES: set[str] = set()
"""Every button's code: two kinds with one code would take each other's taps."""


class Button:
    """One kind of button and the types of its arguments."""

    __slots__ = ("_regex", "args", "code")

    def __init__(self, code: str, args: tuple[type, ...] = ()) -> None:
        if code in _CODES:
            raise ValueError(f"two kinds of button have the code {code!r}")
        _CODES.add(code)
        self.code = code
        self.args = args
        parts = [re.escape(VERSION + code)] + [f"({_ARG_PATTERNS[kind]})" for kind in args]
        self._regex = re.compile("^" + ":".join(parts) + "$")

    def __call__(self, *args: Any) -> str:
        if len(args) != len(self.args):
            raise TypeError(f"{self.code} takes {len(self.args)} arguments")
        data = ":".join([VERSION + self.code, *(str(a) for a in args)])
        if len(data.encode()) > MAX_BYTES or not self.matches(data):
            raise ValueError(f"bad callback data {data!r}")
        return data

    def matches(self, data: object) -> bool:
        return isinstance(data, str) and self._regex.match(data) is not None

    def parse(self, data: object) -> tuple[Any, ...] | None:
        if not isinstance(data, str):
            return None
        found = self._regex.match(data)
        if found is None:
            return None
        return tuple(kind(value) for kind, value in zip(self.args, found.groups(), strict=True))


# Main menu
MENU = Button("m")
HELP = Button("h")
BALANCE = Button("b")
LANGUAGES = Button("l")
SET_LANGUAGE = Button("L", (str,))
NOTIFICATIONS = Button("n", (int,))
NOTIFICATIONS_MENU = Button("N")

# Ordering
NEW_ORDER = Button("o")
CATEGORIES = Button("c", (int,))
CATEGORY = Button("k", (str, int, int))
"""A category's page; the last argument: 0 in the panel's order, 1 cheapest first."""
SEARCH_PAGE = Button("q", (int,))
SERVICE = Button("s", (int,))
FAVOURITES = Button("j")
RECENT = Button("i")
STAR = Button("A", (int,))
"""Star or unstar a service (from its card)."""
FOUND_SERVICE = Button("Q", (int, int))
"""A service from the search results' page n: its Back returns to those results."""
START_ORDER = Button("S", (int,))
# The buttons of a question or summary carry the draft's turn first: an older
# message's buttons are recognised as such.
DRIP_FEED = Button("d", (int, int))
CHOICE = Button("C", (int, str))
SKIP = Button("K", (int,))
NUMBER = Button("Nu", (int, int))
"""A number answering the question of that turn: a quantity preset, or a number typed at the
menu offered to the order waiting for it."""
BACK = Button("B", (int,))
ABORT = Button("x")
CONFIRM = Button("y", (str, int))
EDIT = Button("e", (int, str))
RESUME = Button("u")
PLACING = Button("p")
"""The summary's only button while its order is being placed."""

# Orders
ORDERS = Button("O", (int, int, int))
"""Whose orders (0: one's own; an admin may name a user), the view (`OrderFilter`), the page."""
ORDER = Button("r", (int,))
OPEN_ORDER = Button("v", (int,))
"""An order's card in a new message (from a notification, which stays)."""
ORDER_AGAIN = Button("a", (int,))
"""A new draft with that order's service and answers, at its summary."""
REFRESH = Button("R", (int,))
REFRESH_SEEN = Button("Rs", (int, int))
"""Refresh, with the fingerprint of the card it is on (`bot.core.my_orders.fingerprint`)."""
REFILL_ASK = Button("f", (int,))
REFILL = Button("F", (int,))
CANCEL_ASK = Button("z", (int,))
CANCEL = Button("Z", (int,))
RETRY = Button("t")
NOT_PLACED_ASK = Button("g", (int,))
NOT_PLACED = Button("G", (int,))
CANCEL_LISTED = Button("W")
KEEP_LISTED = Button("w")

# Mass order
MASS = Button("M")
MASS_CONFIRM = Button("X", (str,))
"""Place the previewed batch with this key (once: it starts once)."""
MASS_DROP = Button("D", (str,))

# Shop mode
TOP_UP = Button("T")
TOP_UP_CANCEL = Button("Tx")
"""Cancel the top-up whose instructions are shown (before its proof is sent)."""
TOP_UP_AMOUNT = Button("V", (int,))
"""A top-up of this amount, in the currency's smallest unit (cents of a dollar; rupiah)."""
DEPOSIT_APPROVE = Button("P", (int,))
DEPOSIT_REJECT = Button("J", (int,))
DEPOSIT_OPEN = Button("Y", (int,))
"""An admin's /deposits: one waiting top-up's card."""
UNKNOWN_PLACED = Button("H", (int,))
"""An admin: an order of unknown outcome paid from a wallet was placed (asks for its id)."""
UNKNOWN_NOT_PLACED = Button("I", (int,))
"""An admin: it was not placed (the wallet gets its money back)."""
WALLET_PAGE = Button("E", (int, int))
"""An admin's /wallet: the user, the page."""

# Automatic top-ups
PAY_WITH = Button("U", (str, str, int))
"""A top-up paid this way: the method, its channel ("-": none), the amount in the currency's
smallest unit."""
PAY_CHECK = Button("Uc", (int,))
"""Ask the gateway now whether a top-up was paid."""
QRIS_PAID = Button("Uq", (int,))
"""The customer says they paid a gateway-free QRIS top-up: the admins get its card."""

# Referrals, support tickets
REFERRALS = Button("Uf")
SUPPORT = Button("Us")
SUPPORT_ORDER = Button("Uo", (int,))
"""A ticket about one of the user's orders (its row id)."""
TICKET_REPLY = Button("Ur", (int,))
TICKET_CLOSE = Button("Ux", (int,))
TICKET_OPEN = Button("Ut", (int,))

# Broadcasts
BROADCAST_AUDIENCE = Button("Ba", (int, str))
BROADCAST_SEND = Button("Bs", (int,))
BROADCAST_CANCEL = Button("Bx", (int,))
