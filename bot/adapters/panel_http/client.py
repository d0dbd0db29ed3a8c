"""Async client of the SMM panel API v2: one method per action.

Every answer is read the same way (`_answer`): a JSON body that carries an error, at HTTP 200
or 4xx, is the panel's refusal (`PanelError`, in its own words); a 429 (or a 503 naming a
Retry-After) opens a window in which no request at all is sent to the panel (`PanelBusy`);
only a lost answer, a 5xx or an unreadable body is "no usable answer", which for `add`,
`refill` and `cancel` means the outcome is unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr, TypeAdapter, ValidationError

from bot.adapters.panel_http.dialects import refusal, refusal_message
from bot.core.api import (
    Balance,
    OrderStatus,
    RefillState,
    RefillStatus,
    Service,
    parse_services,
    to_bool,
    to_int,
)
from bot.core.panel import (
    NotFound,
    NotSupported,
    OrderOutcomeUnknown,
    OrderRequest,
    OutcomeUnknown,
    PanelBusy,
    PanelError,
    PanelUnavailable,
    Unreadable,
    error_from_message,
)

log = logging.getLogger(__name__)

BULK_LIMIT = 100
FORM = {"content-type": "application/x-www-form-urlencoded"}
DEFAULT_RATE_LIMIT_WAIT = 30.0
"""Seconds of silence after a 429 that names no Retry-After."""
MAX_RATE_LIMIT_WAIT = 900.0
"""A Retry-After longer than this is cut to it: the bot tries again rather than go silent."""
RECOVER_AFTER = 10
"""Bulk calls answered in a row before one more may be in flight again after a 429."""
MIN_REDACTED_KEY = 8
T = TypeVar("T")


class _Unusable(Exception):
    """No usable answer: a 5xx, an HTML page, a body that is not JSON."""

    def __init__(self, reason: str, http_status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


def chunks(ids: Iterable[int], size: int = BULK_LIMIT) -> list[list[int]]:
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header, as seconds (`60`) or an HTTP date, in seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


class AdaptiveLimit:
    """At most `limit` bulk calls in flight; halved on a 429, grown back by one after every
    `RECOVER_AFTER` answers in a row, up to `maximum`."""

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self._in_flight = 0
        self._answered = 0
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_flight < self.limit)
            self._in_flight += 1

    async def __aexit__(self, *exc: object) -> None:
        async with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def slow_down(self) -> None:
        if self.limit > 1:
            log.info("panel rate limit: %d bulk call(s) in flight from now", self.limit // 2)
        self.limit = max(1, self.limit // 2)
        self._answered = 0

    def answered(self) -> None:
        self._answered += 1
        if self._answered >= RECOVER_AFTER and self.limit < self.maximum:
            self.limit += 1
            self._answered = 0


class PanelClient:
    """One panel, one key. Read-only actions retry; `add`, `refill` and `cancel` never do."""

    def __init__(
        self,
        url: str,
        key: SecretStr | str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        attempts: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        concurrency: int = 8,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pause: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.url = url
        self._key = key if isinstance(key, SecretStr) else SecretStr(key)
        # A key short enough to be a common word would redact words, not a secret.
        key_bytes = self._key.get_secret_value().encode()
        self._key_bytes = key_bytes if len(key_bytes) >= MIN_REDACTED_KEY else b""
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._pause = pause
        """Wraps the parse of a whole service list (the runtime pauses the collector)."""
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._clock = clock
        self._sleep = sleep
        """Waits on the same timeline as `clock` (tests pass a simulated pair)."""
        self.bulk_limit = AdaptiveLimit(concurrency)
        self.quiet_until = 0.0
        """No request is sent before this moment (the panel's Retry-After)."""
        self.last_success: float | None = None
        self.failures_in_a_row = 0

    def __repr__(self) -> str:
        return f"PanelClient(url={self.url!r}, key=**********)"

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # -- transport ----------------------------------------------------------------------------

    def busy_for(self) -> float:
        """Seconds left in the panel's Retry-After window (0 outside it)."""
        return max(0.0, self.quiet_until - self._clock())

    async def _send(self, action: str, params: Mapping[str, str]) -> httpx.Response:
        wait = self.busy_for()
        if wait > 0:
            raise PanelBusy(wait)
        data = {"key": self._key.get_secret_value(), "action": action, **params}
        # Commas left as they are: bulk id lists then skip urlencode's per-character path.
        body = urlencode(data, safe=",").encode()
        return await self._http.post(self.url, content=body, headers=FORM)

    def _keep_quiet(self, response: httpx.Response) -> float:
        """Open (or extend) the window the panel asks for; returns its length."""
        now = self._clock()
        wait = retry_after_seconds(response.headers.get("retry-after"), now)
        if wait is None:
            wait = DEFAULT_RATE_LIMIT_WAIT if response.status_code == 429 else 0.0
        wait = min(wait, MAX_RATE_LIMIT_WAIT)
        if wait > 0:
            self.quiet_until = max(self.quiet_until, now + wait)
            log.warning(
                "panel answered HTTP %d: no request to it for %.0f s", response.status_code, wait
            )
        return wait

    def _answer(self, response: httpx.Response, accept: Callable[[Any], bool] | None = None) -> Any:
        """The JSON of a usable answer; raises the refusal it carries, `PanelBusy` for a
        429, `_Unusable` for anything else. `accept` names a success answer whatever else it
        holds (an order id next to an error field is still a placed order)."""
        status = response.status_code
        if status in (429, 503):
            wait = self._keep_quiet(response)
            if status == 429:
                raise PanelBusy(wait)
        # Users read the panel's words and logs keep them: a panel that echoes the key back
        # must not show it to either.
        content = response.content.strip()
        if self._key_bytes:
            content = content.replace(self._key_bytes, b"**********")
        payload: Any = None
        readable = False
        if content[:1] not in (b"<", b""):
            with contextlib.suppress(ValueError):
                payload, readable = json.loads(content), True
        if status >= 500:
            raise _Unusable(f"HTTP {status}", status)
        if not readable:
            kind = "HTML page" if content.startswith(b"<") else "an answer that is not JSON"
            raise _Unusable(f"{kind} (HTTP {status})", status)
        if accept is not None and accept(payload):
            return payload
        error = refusal(payload, status)
        if error is None and status >= 400:
            # A 4xx with JSON of an unforeseen shape: still a refusal, in whatever words it has.
            words = refusal_message({"status": False, "message": payload}) or f"HTTP {status}"
            error = error_from_message(words, http_status=status)
        if error is not None:
            raise error
        return payload

    def _record(self, ok: bool) -> None:
        if ok:
            self.last_success = time.time()
            self.failures_in_a_row = 0
        else:
            self.failures_in_a_row += 1

    async def _read(self, action: str, **params: str) -> Any:
        """A read-only call: timeouts, 5xx and garbage are retried with capped backoff; a
        refusal or a rate limit is final at once."""
        reason = ""
        for attempt in range(self._attempts):
            if attempt:
                delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
                await self._sleep(delay * random.uniform(0.5, 1.0))
            try:
                payload = self._answer(await self._send(action, params))
            except httpx.TimeoutException:
                reason = "timeout"
            except httpx.HTTPError as exc:
                reason = f"connection failed ({type(exc).__name__})"
            except _Unusable as exc:
                reason = exc.reason
                if 400 <= exc.http_status < 500:
                    break  # a 4xx page does not change by asking again
            except PanelError:
                self._record(True)
                raise
            else:
                self._record(True)
                return payload
            log.info(
                "panel %s failed (%s), attempt %d/%d", action, reason, attempt + 1, self._attempts
            )
        self._record(False)
        raise PanelUnavailable(reason)

    async def _write(
        self,
        action: str,
        unknown: type[OutcomeUnknown] = OutcomeUnknown,
        accept: Callable[[Any], bool] | None = None,
        **params: str,
    ) -> Any:
        """A state-changing call: sent once. A lost answer is `OutcomeUnknown`; a refusal or
        a 429 means nothing was done."""
        try:
            response = await self._send(action, params)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            self._record(False)
            raise PanelUnavailable(f"connection failed ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            self._record(False)
            raise unknown("timeout while waiting for the answer") from None
        except httpx.HTTPError as exc:
            self._record(False)
            raise unknown(f"connection lost ({type(exc).__name__})") from None
        try:
            payload = self._answer(response, accept)
        except _Unusable as exc:
            self._record(False)
            raise unknown(exc.reason) from None
        except PanelError:
            self._record(True)
            raise
        self._record(True)
        return payload

    # -- actions ------------------------------------------------------------------------------

    async def services(self) -> list[Service]:
        payload = await self._read("services")
        items = _service_items(payload)
        if items is None:
            raise PanelUnavailable("services answer is not a list")
        with self._pause():
            services, skipped = parse_services(items)
        if skipped:
            log.warning("skipped %d malformed service(s) of %d", skipped, len(items))
        return services

    async def add(self, order: OrderRequest) -> int:
        payload = await self._write(
            "add",
            OrderOutcomeUnknown,
            accept=lambda answer: _order_id(answer) is not None,
            service=str(order.service_id),
            **dict(order.fields),
        )
        order_id = _order_id(payload)
        if order_id is None:
            raise OrderOutcomeUnknown("answer without an order id")
        return order_id

    async def status(self, order_id: int) -> OrderStatus:
        payload = await self._read("status", order=str(order_id))
        return _single(_status_item(payload), "status")

    async def statuses(
        self, ids: Iterable[int], *, patient: bool = False
    ) -> dict[int, OrderStatus | PanelError]:
        """Bulk status, 100 ids a call, a bounded number of calls in flight (`bulk_limit`).
        A patient caller (the tracker) waits out the panel's rate limit and goes on; others
        get `PanelBusy` at once."""
        result: dict[int, OrderStatus | PanelError] = {}

        async def one(chunk: list[int]) -> None:
            while True:
                try:
                    async with self.bulk_limit:
                        payload = await self._read("status", orders=_joined(chunk))
                except PanelBusy as exc:
                    if not patient:
                        raise
                    self.bulk_limit.slow_down()
                    await self._sleep(max(exc.retry_after, self.busy_for()))
                    continue
                self.bulk_limit.answered()
                result.update(_statuses_of(payload, chunk))
                return

        tasks = [asyncio.ensure_future(one(chunk)) for chunk in chunks(ids)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        return result

    async def refill(self, order_id: int) -> int:
        payload = await self._write(
            "refill", accept=lambda answer: _refill_id_in(answer) is not None, order=str(order_id)
        )
        result = _refill_id_in(payload) or _refill_item(payload)
        if isinstance(result, Unreadable):
            raise OutcomeUnknown("answer without a refill id")
        if isinstance(result, PanelError):
            raise result
        return result

    async def refills(self, ids: Iterable[int]) -> dict[int, int | PanelError]:
        result: dict[int, int | PanelError] = {}
        for chunk in chunks(ids):
            payload = await self._write("refill", orders=_joined(chunk))
            items = _keyed(payload, ("order", "order_id"), chunk, "refill")
            for order_id in chunk:
                result[order_id] = _refill_item(items.get(order_id))
        return result

    async def refill_status(self, refill_id: int) -> RefillStatus:
        payload = await self._read("refill_status", refill=str(refill_id))
        return _single(_refill_status_item(payload), "refill status")

    async def refill_statuses(self, ids: Iterable[int]) -> dict[int, RefillStatus | PanelError]:
        result: dict[int, RefillStatus | PanelError] = {}
        for chunk in chunks(ids):
            payload = await self._read("refill_status", refills=_joined(chunk))
            items = _keyed(payload, ("refill", "refill_id", "id"), chunk, "status")
            for refill_id in chunk:
                result[refill_id] = _refill_status_item(items.get(refill_id))
        return result

    async def cancel(self, ids: Iterable[int]) -> dict[int, PanelError | None]:
        """None for each order whose cancellation the panel accepted."""
        result: dict[int, PanelError | None] = {}
        for chunk in chunks(ids):
            payload = await self._write("cancel", orders=_joined(chunk))
            if payload is None:
                for order_id in chunk:
                    result[order_id] = NotSupported("cancel is not offered by this panel's API")
                continue
            items = _keyed(payload, ("order", "order_id"), chunk, "cancel")
            for order_id in chunk:
                result[order_id] = _cancel_item(items.get(order_id))
        return result

    async def balance(self) -> Balance:
        payload = await self._read("balance")
        try:
            return Balance.parse(payload)
        except (ValidationError, ValueError):
            raise PanelUnavailable("balance answer without a balance") from None


# -- reading the answers of each action ----------------------------------------------------------


def _joined(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids)


def _data(payload: Any) -> Any:
    """Indonesian panels wrap answers: `{"status": true, "data": {...}}`."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict | list):
        return payload["data"]
    return payload


def _int_or_none(value: Any) -> int | None:
    try:
        return to_int(value) if value is not None and not isinstance(value, dict) else None
    except ValueError:
        return None


def _id_in(payload: Any, names: tuple[str, ...]) -> int | None:
    """An id under one of `names`, as a number or a string, at the top or inside `data`:
    `{"order": 23501}`, `{"order": "23501"}`, `{"order_id": 23501}`, `{"data": {...}}`."""
    for source in (payload, _data(payload)):
        if isinstance(source, dict):
            for name in names:
                found = _int_or_none(source.get(name))
                if found is not None and found > 0:
                    return found
    return None


def _order_id(payload: Any) -> int | None:
    return _id_in(payload, ("order", "order_id"))


def _refill_id_in(payload: Any) -> int | None:
    return _id_in(payload, ("refill", "refill_id"))


def _service_items(payload: Any) -> list[Any] | None:
    """The list of a services answer: a list, an object of services keyed by id, a wrapped
    list, or an empty marker (`{"status": "success", "data": "Empty Data"}`)."""
    if isinstance(payload, list):
        return payload
    if not isinstance(payload, dict):
        return None
    if "data" in payload:
        data = payload["data"]
        if isinstance(data, list):
            return data
        if isinstance(data, dict):
            return list(data.values())
        return [] if data is None or isinstance(data, str) else None
    if payload and all(isinstance(v, dict) for v in payload.values()):
        return list(payload.values())
    return [] if not payload else None


def _keyed(payload: Any, id_fields: tuple[str, ...], chunk: list[int], value_field: str) -> dict:
    """A bulk answer by id: an object keyed by id, or a list of items naming their id. A
    single-id call answered with that one item (`{"cancel": 1}`) counts as that id's."""
    payload = _data(payload) if not isinstance(payload, list) else payload
    items: dict[int, Any] = {}
    if isinstance(payload, dict):
        if len(chunk) == 1 and value_field in payload:
            return {chunk[0]: payload}
        for key, value in payload.items():
            found = _int_or_none(key)
            if found is not None:
                items[found] = value
    elif isinstance(payload, list):
        for entry in payload:
            if not isinstance(entry, dict):
                continue
            for name in id_fields:
                found = _int_or_none(entry.get(name))
                if found is not None:
                    items[found] = entry
                    break
    return items


def _single(result: T | PanelError, what: str) -> T:
    """The answer of a single-id read: its value, or its error raised (an unreadable one is
    no usable answer)."""
    if isinstance(result, Unreadable):
        raise PanelUnavailable(f"unreadable {what} answer")
    if isinstance(result, PanelError):
        raise result
    return result


def _missing() -> NotFound:
    return NotFound("missing from the panel's answer", from_panel=False)


def _item_refusal(item: Any) -> PanelError | None:
    """The error an item of a bulk answer carries: a nested object, or a bare string."""
    if isinstance(item, str):
        return error_from_message(item)
    return refusal(item)


_STATUS_MAP = TypeAdapter(dict[int, OrderStatus])


def _statuses_of(payload: Any, chunk: list[int]) -> dict[int, OrderStatus | PanelError]:
    fast = _all_statuses(payload, chunk)
    if fast is not None:
        return dict(fast)
    whole = refusal(payload)
    if whole is not None and not isinstance(whole, NotFound):
        raise whole  # the whole call refused (a bad key, a bad request)
    items = _keyed(payload, ("order", "order_id", "id"), chunk, "status")
    return {order_id: _status_item(items.get(order_id)) for order_id in chunk}


def _status_item(item: Any) -> OrderStatus | PanelError:
    if item is None:
        return _missing()
    error = _item_refusal(item)
    if error is not None:
        return error
    try:
        return OrderStatus.parse(_data(item))
    except (ValidationError, ValueError, TypeError):
        return Unreadable("unreadable status")


def _all_statuses(payload: Any, chunk: list[int]) -> dict[int, OrderStatus] | None:
    """The common case of a bulk status answer, parsed in one go: every id present, no
    per-item error, every value well-formed. None sends the answer down the careful path."""
    if not isinstance(payload, dict) or len(payload) != len(chunk):
        return None
    if any(not isinstance(v, dict) or "error" in v for v in payload.values()):
        return None
    try:
        parsed = _STATUS_MAP.validate_python(payload)
    except ValidationError:
        return None
    return parsed if parsed.keys() == set(chunk) else None


def _refill_item(item: Any) -> int | PanelError:
    if item is None:
        return _missing()
    value = item.get("refill", item.get("refill_id")) if isinstance(item, dict) else item
    if isinstance(item, dict) and value is None:
        return refusal(item) or Unreadable("answer without a refill id")
    found = _int_or_none(value)
    if found is not None:
        return found
    return _item_refusal(value) or Unreadable("answer without a refill id")


def _refill_status_item(item: Any) -> RefillStatus | PanelError:
    if item is None:
        return _missing()
    if isinstance(item, dict):
        whole = refusal(item)
        if whole is not None:
            return whole
        item = item.get("status")
    if isinstance(item, dict):
        return refusal(item) or Unreadable("unreadable refill status")
    if not isinstance(item, str) or not item.strip():
        return Unreadable("unreadable refill status")
    if RefillState.parse(item) is RefillState.UNKNOWN:
        error = error_from_message(item)
        if type(error) is not PanelError:
            return error  # "Refill not found", "Incorrect refill ID" as a bare string
    return RefillStatus.parse({"status": item})


def _cancel_item(item: Any) -> PanelError | None:
    if item is None:
        return _missing()
    value = item.get("cancel") if isinstance(item, dict) and "cancel" in item else item
    if isinstance(value, dict):
        return refusal(value) or (None if value.get("success") else Unreadable("unreadable"))
    if isinstance(value, str) and value.strip().casefold() in ("ok", "success", "successful"):
        return None
    try:
        accepted = to_bool(value)
    except ValueError:
        return error_from_message(value)
    return None if accepted else PanelError("cancel refused", from_panel=False)
