"""Panel answers as tolerant pydantic models.

Real panels send numbers as strings or numbers, booleans in every spelling, names in any
case, and fields that come and go. Everything here accepts all of that; money is Decimal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any, ClassVar, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)


@lru_cache(maxsize=1024)
def _normalize_name(value: str) -> str:
    """Names repeat (every status of every order), so the normalized form is remembered."""
    return re.sub(r"[\s_\-]+", " ", value).strip().casefold()


_GROUPED_BY_COMMAS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")
_GROUPED_BY_DOTS = re.compile(r"-?\d{1,3}(\.\d{3})+(,\d*)?")


def _plain_number(text: str) -> str:
    """`1,650.00000` and `1.650,5` (thousands grouped, either convention) as `1650.00000` and
    `1650.5`; a lone comma is a decimal comma (`0,90`). A lone dot stays a decimal point."""
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    if _GROUPED_BY_COMMAS.fullmatch(text):
        return text.replace(",", "")
    grouped_by_dots = _GROUPED_BY_DOTS.fullmatch(text) and ("," in text or text.count(".") > 1)
    if grouped_by_dots or ("," in text and "." not in text):
        return text.replace(".", "").replace(",", ".")
    return text


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        number = Decimal(_plain_number(str(value)))
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not an integer")
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise ValueError("not an integer")
    return int(number)


def _optional(convert: Any) -> Any:
    def parse(value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip() in ("", "null")):
            return None
        return convert(value)

    return parse


_TRUE = {"1", "true", "yes", "y", "on", "t"}
_FALSE = {"0", "false", "no", "n", "off", "f", ""}


def to_bool(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value != 0
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


_CURRENCY_CODE = re.compile(r"[A-Za-z]{3}")
_NOT_IN_A_SYMBOL = re.compile(r"[\s<>&\"'`;=/\\]")


def to_currency(value: Any) -> str:
    """A currency as a panel names it, kept only when it is a 3-letter code (`IDR`) or a short
    symbol (`Rp`, `$`); anything else (markup, sentences) reads as no currency."""
    return _currency_of("" if value is None else str(value))


@lru_cache(maxsize=256)
def _currency_of(written: str) -> str:
    """Cached: a bulk status answer names the same currency 100 times over."""
    text = written.strip()
    if _CURRENCY_CODE.fullmatch(text):
        return text.upper()
    if 0 < len(text) <= 3 and not _NOT_IN_A_SYMBOL.search(text):
        return text
    return ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


TOLERANT: dict[str, Callable[[Any], Any]] = {
    "money": to_decimal,
    "optional_money": _optional(to_decimal),
    "count": to_int,
    "optional_count": _optional(to_int),
    "flag": to_bool,
    "optional_flag": _optional(to_bool),
    "text": _text,
    "optional_text": _optional(_text),
}


class ServiceType(StrEnum):
    DEFAULT = "Default"
    PACKAGE = "Package"
    CUSTOM_COMMENTS = "Custom Comments"
    CUSTOM_COMMENTS_PACKAGE = "Custom Comments Package"
    MENTIONS = "Mentions"
    MENTIONS_WITH_HASHTAGS = "Mentions with Hashtags"
    MENTIONS_CUSTOM_LIST = "Mentions Custom List"
    MENTIONS_HASHTAG = "Mentions Hashtag"
    MENTIONS_USER_FOLLOWERS = "Mentions User Followers"
    MENTIONS_MEDIA_LIKERS = "Mentions Media Likers"
    COMMENT_LIKES = "Comment Likes"
    POLL = "Poll"
    COMMENT_REPLIES = "Comment Replies"
    INVITES_FROM_GROUPS = "Invites from Groups"
    SUBSCRIPTIONS = "Subscriptions"
    WEB_TRAFFIC = "Web Traffic"
    SEO = "SEO"
    UNKNOWN = "Unknown"

    @classmethod
    def parse(cls, raw: str) -> ServiceType:
        return _SERVICE_TYPES.get(_normalize_name(raw), cls.UNKNOWN)


_SERVICE_TYPES = {_normalize_name(t.value): t for t in ServiceType if t is not ServiceType.UNKNOWN}
_SERVICE_TYPES.update(
    {
        "custom comment": ServiceType.CUSTOM_COMMENTS,
        "custom comments packages": ServiceType.CUSTOM_COMMENTS_PACKAGE,
        "mentions with hashtag": ServiceType.MENTIONS_WITH_HASHTAGS,
        "comment like": ServiceType.COMMENT_LIKES,
        "subscription": ServiceType.SUBSCRIPTIONS,
        "invites from group": ServiceType.INVITES_FROM_GROUPS,
        "polls": ServiceType.POLL,
    }
)


class OrderState(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    PARTIAL = "Partial"
    CANCELED = "Canceled"
    REFUNDED = "Refunded"
    ERROR = "Error"
    FAIL = "Fail"
    UNKNOWN = "Unknown"

    @classmethod
    def parse(cls, raw: str) -> OrderState:
        return _ORDER_STATES.get(_normalize_name(raw), cls.UNKNOWN)

    @property
    def is_final(self) -> bool:
        return self in _FINAL_ORDER_STATES


_ORDER_STATES = {_normalize_name(s.value): s for s in OrderState if s is not OrderState.UNKNOWN}
_ORDER_STATES.update(
    {
        "cancelled": OrderState.CANCELED,
        "inprogress": OrderState.IN_PROGRESS,
        "in process": OrderState.IN_PROGRESS,
        "active": OrderState.IN_PROGRESS,  # subscriptions
        "success": OrderState.COMPLETED,  # Indonesian panels
        "complete": OrderState.COMPLETED,
        "failed": OrderState.FAIL,
        "refund": OrderState.REFUNDED,
    }
)
_FINAL_ORDER_STATES = frozenset(
    {
        OrderState.COMPLETED,
        OrderState.PARTIAL,
        OrderState.CANCELED,
        OrderState.REFUNDED,
        OrderState.ERROR,
        OrderState.FAIL,
    }
)


class RefillState(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "In progress"
    COMPLETED = "Completed"
    REJECTED = "Rejected"
    UNKNOWN = "Unknown"

    @classmethod
    def parse(cls, raw: str) -> RefillState:
        return _REFILL_STATES.get(_normalize_name(raw), cls.UNKNOWN)

    @property
    def is_final(self) -> bool:
        return self in (RefillState.COMPLETED, RefillState.REJECTED)


_REFILL_STATES = {_normalize_name(s.value): s for s in RefillState if s is not RefillState.UNKNOWN}
_REFILL_STATES.update({"canceled": RefillState.REJECTED, "cancelled": RefillState.REJECTED})


class _PanelModel(BaseModel):
    """Parsed natively (fast) when the answer is well-formed; `tolerant` first normalizes each
    field with its converter (numbers as text, booleans in every spelling...)."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    _converters: ClassVar[dict[str, str]] = {}
    """wire name -> kind of converter in TOLERANT"""

    @classmethod
    def tolerant(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            key: TOLERANT[cls._converters[key]](value) if key in cls._converters else value
            for key, value in data.items()
        }

    @classmethod
    def parse(cls, data: Any) -> Self:
        """The fast native parse, else the tolerant one; raises ValidationError or ValueError
        when even that fails."""
        try:
            return cls.model_validate(data)
        except ValidationError:
            return cls.model_validate(cls.tolerant(data))


MAX_RATE = Decimal(10) ** 9
"""A rate above this (per 1000, or per package) is no price a panel means."""


def sellable_rate(rate: Decimal) -> bool:
    """Whether a rate can price an order: finite, positive and not absurd. A negative rate
    would credit a wallet on every order, a zero one sell for nothing, and `1E+9999` breaks
    every page listing it."""
    return rate.is_finite() and 0 < rate <= MAX_RATE


class Service(_PanelModel):
    """Thousands at once: use `parse_services`, which takes the fast path when it can."""

    _converters: ClassVar[dict[str, str]] = {
        "service": "count",
        "name": "text",
        "type": "text",
        "category": "text",
        "rate": "money",
        "min": "count",
        "max": "count",
        "refill": "flag",
        "cancel": "flag",
        "dripfeed": "optional_flag",
        "desc": "optional_text",
        "description": "optional_text",
    }

    id: int = Field(alias="service")
    name: str
    type_raw: str = Field(default="Default", alias="type")
    category: str = ""
    rate: Decimal
    min: int = 1
    max: int = 2147483647
    refill: bool = False
    cancel: bool = False
    dripfeed: bool | None = None
    desc: str | None = Field(default=None, validation_alias=AliasChoices("desc", "description"))

    @property
    def type(self) -> ServiceType:
        return ServiceType.parse(self.type_raw)


class OrderStatus(_PanelModel):
    # Extra fields are dropped: a tracker cycle parses 100,000 of these and reads none of them.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    _converters: ClassVar[dict[str, str]] = {
        "status": "text",
        "charge": "optional_money",
        "start_count": "optional_count",
        "remains": "optional_count",
        "currency": "optional_text",
    }

    status_raw: str = Field(default="", alias="status")
    charge: Decimal | None = None
    start_count: int | None = None
    remains: int | None = None
    """Negative when the panel delivered more than ordered."""
    currency: str | None = None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str | None) -> str | None:
        return to_currency(value) or None if value else None

    @property
    def state(self) -> OrderState:
        return OrderState.parse(self.status_raw)


class RefillStatus(_PanelModel):
    _converters: ClassVar[dict[str, str]] = {"status": "text"}

    status_raw: str = Field(default="", alias="status")

    @property
    def state(self) -> RefillState:
        return RefillState.parse(self.status_raw)


class Balance(_PanelModel):
    _converters: ClassVar[dict[str, str]] = {"balance": "money", "currency": "text"}

    amount: Decimal = Field(alias="balance")
    currency: str = ""

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return to_currency(value)

    @classmethod
    def parse(cls, data: Any) -> Balance:
        """Also `{"status": true, "data": {"balance": ...}}`."""
        if isinstance(data, dict) and "balance" not in data and isinstance(data.get("data"), dict):
            data = data["data"]
        return super().parse(data)


_SERVICE_LIST = TypeAdapter(list[Service])


def parse_services(items: list[Any]) -> tuple[list[Service], int]:
    """The services of a `services` answer, and how many malformed ones were skipped."""
    try:
        return _SERVICE_LIST.validate_python(items), 0
    except ValidationError:
        pass
    services: list[Service] = []
    for item in items:
        try:
            services.append(Service.parse(item))
        except (ValidationError, ValueError, TypeError):
            continue
    return services, len(items) - len(services)
