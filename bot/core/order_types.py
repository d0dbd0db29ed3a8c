"""Every order type of API v2 as data: its fields, how each is checked, and the price.

The bot asks exactly the fields of a service's type, in order, checks each answer with
`check_field`, checks the whole order with `check_order`, and prices it with `price`.
Errors are structured (`Issue`) so that the user interface can explain them in any language.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bot.core.amounts import parse_int
from bot.core.api import Service, ServiceType

log = logging.getLogger(__name__)


class FieldKind(StrEnum):
    URL = "url"
    USERNAME = "username"
    INTEGER = "integer"
    LINES = "lines"
    USERNAME_LINES = "username_lines"
    HASHTAG = "hashtag"
    HASHTAG_LINES = "hashtag_lines"
    CHOICE = "choice"
    DATE = "date"
    TEXT = "text"


class Reason(StrEnum):
    REQUIRED = "required"
    NOT_INTEGER = "not_integer"
    OUT_OF_RANGE = "out_of_range"
    NO_SCHEME = "no_scheme"
    NOT_URL = "not_url"
    BAD_USERNAME = "bad_username"
    BAD_LINE = "bad_line"
    BAD_HASHTAG = "bad_hashtag"
    LINE_COUNT = "line_count"
    TOO_LONG = "too_long"
    NOT_CHOICE = "not_choice"
    BAD_DATE = "bad_date"
    DATE_PAST = "date_past"
    MIN_ABOVE_MAX = "min_above_max"
    RUNS_WITHOUT_INTERVAL = "runs_without_interval"
    TOTAL_ABOVE_MAX = "total_above_max"
    """Drip-feed: runs x quantity is more than the service delivers."""
    DRIP_TOO_LONG = "drip_too_long"
    """Drip-feed: the runs would last longer than `MAX_DRIP_DAYS`."""


@dataclass(frozen=True, slots=True)
class Issue:
    """Why one answer is not acceptable: the field, the reason and the bounds that apply."""

    field: str
    reason: Reason
    bounds: dict[str, int | str] = dataclasses.field(default_factory=dict)


class InvalidField(ValueError):
    def __init__(self, issue: Issue) -> None:
        super().__init__(f"{issue.field}: {issue.reason}")
        self.issue = issue


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: FieldKind
    optional: bool = False
    minimum: int | None = None
    maximum: int | None = None
    service_bounds: bool = False
    """An INTEGER, or the number of LINES, limited by the service's min and max."""
    choices: tuple[str, ...] = ()
    drip_feed: bool = False
    """Part of the optional drip-feed step."""
    ask_if: tuple[str, str] | None = None
    """Asked only when another field has this value."""


@dataclass(frozen=True, slots=True)
class OrderType:
    type: ServiceType
    fields: tuple[FieldSpec, ...]
    quantity_field: str | None = "quantity"
    package: bool = False

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def has_drip_feed(self) -> bool:
        return any(spec.drip_feed for spec in self.fields)


MAX_URL = 2048
MAX_TEXT = 300
MAX_LINE = 1000
MAX_LINES = 10_000
MAX_DRIP_DAYS = 90
MAX_DRIP_MINUTES = MAX_DRIP_DAYS * 24 * 60
SUBSCRIPTION_DELAYS = ("0", "5", "10", "15", "30", "60", "90")
WEB_TRAFFIC_DEVICES = ("1", "2", "3", "4", "5")
WEB_TRAFFIC_SOURCES = ("1", "2", "3")

LINK = FieldSpec("link", FieldKind.URL)
QUANTITY = FieldSpec("quantity", FieldKind.INTEGER, service_bounds=True)
RUNS = FieldSpec("runs", FieldKind.INTEGER, optional=True, minimum=2, maximum=1000, drip_feed=True)
INTERVAL = FieldSpec(
    "interval", FieldKind.INTEGER, optional=True, minimum=1, maximum=10_080, drip_feed=True
)
COMMENTS_AS_QUANTITY = FieldSpec("comments", FieldKind.LINES, service_bounds=True)
USERNAMES = FieldSpec("usernames", FieldKind.USERNAME_LINES, minimum=1, maximum=MAX_LINES)
USERNAME = FieldSpec("username", FieldKind.USERNAME)

ORDER_TYPES: dict[ServiceType, OrderType] = {
    t.type: t
    for t in (
        OrderType(ServiceType.DEFAULT, (LINK, QUANTITY, RUNS, INTERVAL)),
        OrderType(ServiceType.PACKAGE, (LINK,), quantity_field=None, package=True),
        OrderType(ServiceType.CUSTOM_COMMENTS, (LINK, COMMENTS_AS_QUANTITY), "comments"),
        OrderType(
            ServiceType.CUSTOM_COMMENTS_PACKAGE,
            (LINK, FieldSpec("comments", FieldKind.LINES, minimum=1, maximum=MAX_LINES)),
            quantity_field=None,
            package=True,
        ),
        OrderType(ServiceType.MENTIONS, (LINK, QUANTITY, USERNAMES)),
        OrderType(
            ServiceType.MENTIONS_WITH_HASHTAGS,
            (
                LINK,
                QUANTITY,
                USERNAMES,
                FieldSpec("hashtags", FieldKind.HASHTAG_LINES, minimum=1, maximum=MAX_LINES),
            ),
        ),
        OrderType(
            ServiceType.MENTIONS_CUSTOM_LIST,
            (LINK, FieldSpec("usernames", FieldKind.USERNAME_LINES, service_bounds=True)),
            "usernames",
        ),
        OrderType(
            ServiceType.MENTIONS_HASHTAG, (LINK, QUANTITY, FieldSpec("hashtag", FieldKind.HASHTAG))
        ),
        OrderType(ServiceType.MENTIONS_USER_FOLLOWERS, (LINK, QUANTITY, USERNAME)),
        OrderType(
            ServiceType.MENTIONS_MEDIA_LIKERS, (LINK, QUANTITY, FieldSpec("media", FieldKind.URL))
        ),
        OrderType(ServiceType.COMMENT_LIKES, (LINK, QUANTITY, USERNAME)),
        OrderType(
            ServiceType.POLL,
            (LINK, QUANTITY, FieldSpec("answer_number", FieldKind.INTEGER, minimum=1, maximum=100)),
        ),
        OrderType(
            ServiceType.COMMENT_REPLIES,
            (LINK, USERNAME, COMMENTS_AS_QUANTITY),
            "comments",
        ),
        OrderType(
            ServiceType.INVITES_FROM_GROUPS,
            (LINK, QUANTITY, FieldSpec("groups", FieldKind.LINES, minimum=1, maximum=MAX_LINES)),
        ),
        OrderType(
            ServiceType.SUBSCRIPTIONS,
            (
                USERNAME,
                FieldSpec("min", FieldKind.INTEGER, service_bounds=True),
                FieldSpec("max", FieldKind.INTEGER, service_bounds=True),
                FieldSpec("posts", FieldKind.INTEGER, optional=True, minimum=1, maximum=100_000),
                FieldSpec(
                    "old_posts", FieldKind.INTEGER, optional=True, minimum=0, maximum=100_000
                ),
                FieldSpec("delay", FieldKind.CHOICE, choices=SUBSCRIPTION_DELAYS),
                FieldSpec("expiry", FieldKind.DATE, optional=True),
            ),
            quantity_field="max",
        ),
        OrderType(
            ServiceType.WEB_TRAFFIC,
            (
                LINK,
                QUANTITY,
                RUNS,
                INTERVAL,
                FieldSpec("country", FieldKind.TEXT),
                FieldSpec("device", FieldKind.CHOICE, choices=WEB_TRAFFIC_DEVICES),
                FieldSpec("type_of_traffic", FieldKind.CHOICE, choices=WEB_TRAFFIC_SOURCES),
                FieldSpec("google_keyword", FieldKind.TEXT, ask_if=("type_of_traffic", "1")),
                FieldSpec("referring_url", FieldKind.URL, ask_if=("type_of_traffic", "2")),
            ),
        ),
        OrderType(
            ServiceType.SEO,
            (LINK, QUANTITY, FieldSpec("keywords", FieldKind.LINES, minimum=1, maximum=MAX_LINES)),
        ),
    )
}


def order_type_of(service: Service) -> OrderType:
    """The order type of a service; an unknown type is ordered as Default."""
    kind = service.type
    if kind is ServiceType.UNKNOWN:
        log.warning(
            "service %s has unknown type %r, ordered as Default", service.id, service.type_raw
        )
        kind = ServiceType.DEFAULT
    return ORDER_TYPES[kind]


def fields_to_ask(order_type: OrderType, values: dict[str, str], *, drip_feed: bool) -> list[str]:
    """The names of the fields still to ask, in order, given the answers so far."""
    wanted = []
    for spec in order_type.fields:
        if spec.drip_feed and not drip_feed:
            continue
        if spec.ask_if and values.get(spec.ask_if[0]) != spec.ask_if[1]:
            continue
        wanted.append(spec.name)
    return [name for name in wanted if name not in values]


_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+[^\s]*$", re.IGNORECASE)
_BARE_DOMAIN = re.compile(r"^(www\.)?[\w-]+(\.[\w-]+)+(/\S*)?$", re.IGNORECASE)
_TLD = re.compile(r"^[a-z]{2,24}$", re.IGNORECASE)
"""The last label of a host: letters only (a number's `1.000` has digits)."""
_USERNAME = re.compile(r"^[A-Za-z0-9._]{1,64}$")
_HASHTAG = re.compile(r"^#?\w{1,100}$")
"""One word of letters (any script), digits or underscores, with or without its #."""
_DATE_FORMATS = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")


def _bounds(spec: FieldSpec, service: Service) -> tuple[int | None, int | None]:
    if spec.service_bounds:
        return service.min, service.max
    return spec.minimum, spec.maximum


def _check_range(spec: FieldSpec, number: int, low: int | None, high: int | None) -> None:
    if (low is not None and number < low) or (high is not None and number > high):
        bounds: dict[str, int | str] = {}
        if low is not None:
            bounds["min"] = low
        if high is not None:
            bounds["max"] = high
        raise InvalidField(Issue(spec.name, Reason.OUT_OF_RANGE, bounds))


def _check_url(name: str, text: str) -> str:
    if len(text) > MAX_URL:
        raise InvalidField(Issue(name, Reason.TOO_LONG, {"max": MAX_URL}))
    if _URL.match(text):
        return text
    if _BARE_DOMAIN.match(text) and _TLD.match(text.split("/", 1)[0].rsplit(".", 1)[-1]):
        # `instagram.com/tokobudi.id`: a link without its scheme, taken with https:// added
        # (`1.000`, a number, is no link).
        return _check_url(name, "https://" + text)
    raise InvalidField(Issue(name, Reason.NOT_URL))


def _check_username(name: str, text: str) -> str:
    username = text.strip().removeprefix("@")
    if not _USERNAME.match(username):
        raise InvalidField(Issue(name, Reason.BAD_USERNAME))
    return username


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def check_field(spec: FieldSpec, raw: str, service: Service, *, today: date | None = None) -> str:
    """Check one answer; return it in the form the panel expects, or raise `InvalidField`."""
    text = raw.strip()
    if not text:
        raise InvalidField(Issue(spec.name, Reason.REQUIRED))
    low, high = _bounds(spec, service)
    if spec.kind is FieldKind.URL:
        return _check_url(spec.name, text)
    if spec.kind is FieldKind.USERNAME:
        return _check_username(spec.name, text)
    if spec.kind is FieldKind.HASHTAG:
        if not _HASHTAG.match(text):
            raise InvalidField(Issue(spec.name, Reason.BAD_HASHTAG))
        return text
    if spec.kind is FieldKind.INTEGER:
        number = parse_int(text) if len(text) <= 32 else None
        if number is None:
            raise InvalidField(Issue(spec.name, Reason.NOT_INTEGER))
        _check_range(spec, number, low, high)
        return str(number)
    if spec.kind in (FieldKind.LINES, FieldKind.USERNAME_LINES, FieldKind.HASHTAG_LINES):
        lines = _lines(text)
        for number, line in enumerate(lines, start=1):
            if len(line) > MAX_LINE:
                raise InvalidField(
                    Issue(spec.name, Reason.TOO_LONG, {"line": number, "max": MAX_LINE})
                )
        if spec.kind is FieldKind.USERNAME_LINES:
            for number, line in enumerate(lines, start=1):
                if not _USERNAME.match(line.removeprefix("@")):
                    raise InvalidField(Issue(spec.name, Reason.BAD_LINE, {"line": number}))
            lines = [line.removeprefix("@") for line in lines]
        if spec.kind is FieldKind.HASHTAG_LINES:
            for number, line in enumerate(lines, start=1):
                if not _HASHTAG.match(line):
                    raise InvalidField(Issue(spec.name, Reason.BAD_HASHTAG, {"line": number}))
        if (low is not None and len(lines) < low) or (high is not None and len(lines) > high):
            raise InvalidField(
                Issue(
                    spec.name,
                    Reason.LINE_COUNT,
                    {"count": len(lines), "min": low or 1, "max": high or MAX_LINES},
                )
            )
        return "\n".join(lines)
    if spec.kind is FieldKind.CHOICE:
        if text not in spec.choices:
            choices = ", ".join(spec.choices)
            raise InvalidField(Issue(spec.name, Reason.NOT_CHOICE, {"choices": choices}))
        return text
    if spec.kind is FieldKind.DATE:
        for fmt in _DATE_FORMATS:
            try:
                day = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            if day < (today or date.today()):
                raise InvalidField(Issue(spec.name, Reason.DATE_PAST))
            return day.strftime("%d/%m/%Y")
        raise InvalidField(Issue(spec.name, Reason.BAD_DATE))
    if len(text) > MAX_TEXT:
        raise InvalidField(Issue(spec.name, Reason.TOO_LONG, {"max": MAX_TEXT}))
    return text


def check_order(
    order_type: OrderType, values: dict[str, str], service: Service, *, complete: bool = True
) -> list[Issue]:
    """Checks across fields, each on the field whose answer completes it (so it is checked
    when that answer is given); `complete`: every field has been answered."""
    issues = []
    n = {k: int(v) for k, v in values.items() if k in _NUMBERS and v.isdigit()}
    subscription = order_type.type is ServiceType.SUBSCRIPTIONS
    if subscription and "min" in n and "max" in n and n["min"] > n["max"]:
        issues.append(Issue("max", Reason.MIN_ABOVE_MAX, {"min": n["min"]}))
    if "runs" in n and "quantity" in n and n["runs"] * n["quantity"] > service.max:
        most_runs = max(1, service.max // max(1, n["quantity"]))
        issues.append(
            Issue("runs", Reason.TOTAL_ABOVE_MAX, {"max": service.max, "runs": most_runs})
        )
    if "runs" in n and "interval" in n and (n["runs"] - 1) * n["interval"] > MAX_DRIP_MINUTES:
        issues.append(Issue("interval", Reason.DRIP_TOO_LONG, {"days": MAX_DRIP_DAYS}))
    if complete and ("runs" in values) != ("interval" in values):
        issues.append(Issue("runs", Reason.RUNS_WITHOUT_INTERVAL))
    return issues


_NUMBERS = frozenset({"min", "max", "runs", "quantity", "interval"})


def quantity(order_type: OrderType, values: dict[str, str]) -> int | None:
    """The order's quantity: asked, or derived (one comment a line); None for packages."""
    name = order_type.quantity_field
    if name is None or name not in values:
        return None
    if order_type.field(name).kind in (
        FieldKind.LINES,
        FieldKind.USERNAME_LINES,
        FieldKind.HASHTAG_LINES,
    ):
        return len(values[name].splitlines())
    return int(values[name])


def price(service: Service, values: dict[str, str]) -> Decimal:
    """rate x quantity / 1000 (x drip-feed runs, x posts of a subscription); the rate itself
    for package types. Decimal throughout."""
    order_type = order_type_of(service)
    if order_type.package:
        return service.rate
    amount = quantity(order_type, values) or 0
    multiplier = int(values.get("runs", 1))
    if order_type.type is ServiceType.SUBSCRIPTIONS:
        multiplier = int(values.get("posts", 1))
    return service.rate * amount * multiplier / Decimal(1000)
