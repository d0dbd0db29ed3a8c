"""Panel answers as tolerant pydantic models.

Real panels send numbers as strings or numbers, booleans in every spelling, names in any
case, and fields that come and go. Everything here accepts all of that; money is Decimal.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _normalize_name(value: str) -> str:
    return re.sub(r"[\s_\-]+", " ", value).strip().casefold()


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        number = Decimal(str(value).strip().replace(",", ""))
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


Money = Annotated[Decimal, BeforeValidator(to_decimal)]
OptionalMoney = Annotated[Decimal | None, BeforeValidator(_optional(to_decimal))]
Count = Annotated[int, BeforeValidator(to_int)]
OptionalCount = Annotated[int | None, BeforeValidator(_optional(to_int))]
Flag = Annotated[bool, BeforeValidator(to_bool)]
OptionalFlag = Annotated[bool | None, BeforeValidator(_optional(to_bool))]
Text = Annotated[str, BeforeValidator(lambda v: "" if v is None else str(v))]


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
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class Service(_PanelModel):
    id: Count = Field(alias="service")
    name: Text
    type_raw: Text = Field(default="Default", alias="type")
    category: Text = ""
    rate: Money
    min: Count = 1
    max: Count = 2147483647
    refill: Flag = False
    cancel: Flag = False
    dripfeed: OptionalFlag = None
    desc: str | None = None

    @property
    def type(self) -> ServiceType:
        return ServiceType.parse(self.type_raw)


class OrderStatus(_PanelModel):
    status_raw: Text = Field(default="", alias="status")
    charge: OptionalMoney = None
    start_count: OptionalCount = None
    remains: OptionalCount = None
    currency: str | None = None

    @property
    def state(self) -> OrderState:
        return OrderState.parse(self.status_raw)


class RefillStatus(_PanelModel):
    status_raw: Text = Field(default="", alias="status")

    @property
    def state(self) -> RefillState:
        return RefillState.parse(self.status_raw)


class Balance(_PanelModel):
    amount: Money = Field(alias="balance")
    currency: Text = ""
