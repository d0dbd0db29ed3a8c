"""What the gateway adapters share on the wire: a request sent once, failing in plain words;
every answer and callback hostile until checked, field by field; a gateway's words reaching an
error only cleaned, shortened and with any secret it echoes blanked out."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx

from bot.core.payments import MAX_CALLBACK_BYTES, BadCallback, GatewayUnavailable, PaymentRequest

WORDS_LENGTH = 200
"""The most of a gateway's message kept for the customer, the admins and the log."""
MAX_TEXT = 1024
"""The longest text field believed (a QRIS is at most 512 characters, a URL far less)."""
MIN_REDACTED = 8
"""A secret shorter than this would blank words, not a secret (no gateway's key is)."""
_AMOUNT = re.compile(r"\d{1,15}(\.\d{1,2})?", re.ASCII)
_EARLIEST, _LATEST = 946_684_800, 4_102_444_800
"""The Unix times believed: from 2000 to 2100."""


class Unreadable(ValueError):
    """A field that is missing or not of its shape; the message is the field's name."""


@contextmanager
def reading(what: str, failure: type[Exception] = GatewayUnavailable) -> Iterator[None]:
    """Fields read from outside: one that is not readable fails the whole as `failure`
    (`GatewayUnavailable` for an answer, `BadCallback` for a callback), naming the field."""
    try:
        yield
    except Unreadable as exc:
        raise failure(f"{what} without a readable {exc}") from None


async def send(
    http: httpx.AsyncClient, gateway: str, method: str, url: str, *, within: float, **kwargs: Any
) -> httpx.Response:
    """One request, sent once: a gateway that is slow or out of reach is `GatewayUnavailable`
    in plain words (httpx's own error would carry the request, headers and all)."""
    try:
        return await http.request(method, url, timeout=within, **kwargs)
    except httpx.TimeoutException:
        raise GatewayUnavailable(f"{gateway} did not answer within {within:g} s") from None
    except httpx.HTTPError as exc:
        raise GatewayUnavailable(f"{gateway} could not be reached ({type(exc).__name__})") from None


def customer_name(request: PaymentRequest) -> str:
    """The customer's name as a gateway takes it: short, never empty."""
    return " ".join(request.customer_name.split())[:50] or "Telegram user"


def loads(data: bytes) -> Any:
    """JSON with its fractional numbers as `Decimal`, never float; NaN and Infinity refused."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is no amount")

    try:
        return json.loads(data, parse_float=Decimal, parse_constant=refuse)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def answer_json(gateway: str, response: httpx.Response) -> Any:
    """The JSON of an answer; `GatewayUnavailable` for a 5xx, an HTML page or anything that is
    not JSON. A refusal (4xx, or 200 saying no) is for the adapter to read."""
    status = response.status_code
    if status >= 500:
        raise GatewayUnavailable(f"{gateway} answered HTTP {status}")
    content = response.content.strip()
    if content.startswith(b"<"):
        raise GatewayUnavailable(f"{gateway} answered an HTML page, not JSON (HTTP {status})")
    try:
        return loads(content)
    except ValueError:
        raise GatewayUnavailable(
            f"{gateway} answered something that is not JSON (HTTP {status})"
        ) from None


def callback_fields(body: bytes) -> dict[str, Any]:
    """A callback body's JSON object; `BadCallback` for anything else."""
    if len(body) > MAX_CALLBACK_BYTES:
        raise BadCallback(f"a body of {len(body)} bytes, more than {MAX_CALLBACK_BYTES}")
    try:
        payload = loads(body)
    except ValueError:
        raise BadCallback("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadCallback("the body is not a JSON object")
    return payload


def words(value: Any, secrets: Iterable[str]) -> str | None:
    """A gateway's message fit for a person and a log: text only (a list of texts joined), on
    one line, secrets blanked, shortened; None when there is none."""
    if isinstance(value, list):
        value = "; ".join(item for item in value if isinstance(item, str))
    if not isinstance(value, str):
        return None
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    for secret in secrets:
        if len(secret) >= MIN_REDACTED:
            text = text.replace(secret, "**********")
    if len(text) > WORDS_LENGTH:
        text = text[: WORDS_LENGTH - 1] + "…"
    return text or None


def text(fields: Mapping[str, Any], name: str) -> str:
    """A field that must be a short printable text, not empty."""
    value = fields.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT or not value.isprintable():
        raise Unreadable(name)
    return value


def optional_text(fields: Mapping[str, Any], name: str) -> str | None:
    """A field that may be absent or null, and is a text when it is there."""
    return None if fields.get(name) is None else text(fields, name)


def code(fields: Mapping[str, Any], name: str) -> str | None:
    """A code made of digits and letters that a gateway may send as a JSON number or a text
    (a virtual account number), or None when absent."""
    value = fields.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return optional_text(fields, name)


def link(fields: Mapping[str, Any], name: str) -> str | None:
    """A web address, or None when the field is absent or anything but an http(s) URL (a
    hostile one is dropped, not shown)."""
    value = fields.get(name)
    if (
        isinstance(value, str)
        and len(value) <= MAX_TEXT
        and value.isprintable()
        and value.startswith(("https://", "http://"))
        and " " not in value
    ):
        return value
    return None


def amount(fields: Mapping[str, Any], name: str) -> Decimal:
    """A sum of money as a gateway writes it: a JSON integer (Tripay) or digits with up to two
    decimals in a string (Midtrans's "10000.00"); never negative, never a float."""
    value = fields.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**15:
        return Decimal(value)
    if isinstance(value, str) and _AMOUNT.fullmatch(value):
        return Decimal(value)
    raise Unreadable(name)


def unix_time(fields: Mapping[str, Any], name: str) -> float | None:
    """A Unix time (an integer, or digits in a string), or None when absent or not believable."""
    value = fields.get(name)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and _EARLIEST < value < _LATEST:
        return float(value)
    return None


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value whatever the case of its name ("" when absent)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), "")


def same_signature(expected: str, given: str) -> bool:
    """Whether a hex signature is the expected one, compared in constant time."""
    return hmac.compare_digest(
        expected.lower().encode(), given.strip().lower().encode("utf-8", "replace")
    )
