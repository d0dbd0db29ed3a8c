"""Async client of the SMM panel API v2: one method per action."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr, TypeAdapter, ValidationError

from bot.http import AcyclicAsyncClient
from bot.panel.errors import (
    NotFound,
    OrderOutcomeUnknown,
    OutcomeUnknown,
    PanelError,
    PanelUnavailable,
    error_from_message,
)
from bot.panel.models import (
    Balance,
    OrderStatus,
    RefillStatus,
    Service,
    parse_services,
    to_int,
)

log = logging.getLogger(__name__)

BULK_LIMIT = 100
FORM = {"content-type": "application/x-www-form-urlencoded"}
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What `add` sends besides key and action: the service and its type's fields."""

    service_id: int
    fields: Mapping[str, str]


class _Transient(Exception):
    """A read-only call failed in a way worth another try."""


def chunks(ids: Iterable[int], size: int = BULK_LIMIT) -> list[list[int]]:
    unique = list(dict.fromkeys(ids))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


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
    ) -> None:
        self.url = url
        self._key = key if isinstance(key, SecretStr) else SecretStr(key)
        self._own_http = http is None
        self._http = http or AcyclicAsyncClient(timeout=timeout)
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self.last_success: float | None = None
        self.failures_in_a_row = 0

    def __repr__(self) -> str:
        return f"PanelClient(url={self.url!r}, key=**********)"

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # -- transport ----------------------------------------------------------------------------

    async def _send(self, action: str, params: Mapping[str, str]) -> httpx.Response:
        data = {"key": self._key.get_secret_value(), "action": action, **params}
        # Commas left as they are: bulk id lists then skip urlencode's per-character path.
        body = urlencode(data, safe=",").encode()
        return await self._http.post(self.url, content=body, headers=FORM)

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        """The JSON of an answer, or a short reason why it is not usable."""
        if response.status_code >= 400:
            raise _Transient(f"HTTP {response.status_code}")
        content = response.content.lstrip()
        if content.startswith(b"<"):
            raise _Transient(f"HTML page instead of JSON (HTTP {response.status_code})")
        try:
            return json.loads(content)
        except ValueError:
            raise _Transient("invalid JSON") from None

    def _record(self, ok: bool) -> None:
        if ok:
            self.last_success = time.time()
            self.failures_in_a_row = 0
        else:
            self.failures_in_a_row += 1

    async def _read(self, action: str, **params: str) -> Any:
        """A read-only call: timeouts, 5xx and garbage are retried with capped backoff."""
        reason = ""
        for attempt in range(self._attempts):
            if attempt:
                delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            try:
                response = await self._send(action, params)
                payload = self._decode(response)
            except httpx.TimeoutException:
                reason = "timeout"
            except httpx.HTTPError as exc:
                reason = f"connection failed ({type(exc).__name__})"
            except _Transient as exc:
                reason = str(exc)
                if "HTTP 4" in reason and "HTTP 429" not in reason:
                    break
            else:
                self._record(True)
                _raise_top_level_error(payload)
                return payload
            log.info(
                "panel %s failed (%s), attempt %d/%d", action, reason, attempt + 1, self._attempts
            )
        self._record(False)
        raise PanelUnavailable(reason)

    async def _write(
        self, action: str, unknown: type[OutcomeUnknown] = OutcomeUnknown, **params: str
    ) -> Any:
        """A state-changing call: sent once. A lost answer is `OutcomeUnknown`."""
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
            payload = self._decode(response)
        except _Transient as exc:
            self._record(False)
            raise unknown(str(exc)) from None
        self._record(True)
        _raise_top_level_error(payload)
        return payload

    # -- actions ------------------------------------------------------------------------------

    async def services(self) -> list[Service]:
        payload = await self._read("services")
        if isinstance(payload, dict):
            payload = list(payload.values())
        if not isinstance(payload, list):
            raise PanelUnavailable("services answer is not a list")
        services, skipped = parse_services(payload)
        if skipped:
            log.warning("skipped %d malformed service(s) of %d", skipped, len(payload))
        return services

    async def add(self, order: OrderRequest) -> int:
        payload = await self._write(
            "add", OrderOutcomeUnknown, service=str(order.service_id), **dict(order.fields)
        )
        try:
            return to_int(payload["order"])
        except (KeyError, TypeError, ValueError):
            raise OrderOutcomeUnknown("answer without an order id") from None

    async def status(self, order_id: int) -> OrderStatus:
        return _order_status(await self._read("status", order=str(order_id)))

    async def statuses(self, ids: Iterable[int]) -> dict[int, OrderStatus | PanelError]:
        result: dict[int, OrderStatus | PanelError] = {}
        for chunk in chunks(ids):
            payload = await self._read("status", orders=_joined(chunk))
            fast = _all_statuses(payload, chunk)
            if fast is not None:
                result.update(fast)
                continue
            items = _keyed(payload, "order")
            for order_id in chunk:
                result[order_id] = _item(items.get(order_id), _order_status)
        return result

    async def refill(self, order_id: int) -> int:
        payload = await self._write("refill", order=str(order_id))
        value = payload.get("refill") if isinstance(payload, dict) else None
        return _refill_id(value)

    async def refills(self, ids: Iterable[int]) -> dict[int, int | PanelError]:
        result: dict[int, int | PanelError] = {}
        for chunk in chunks(ids):
            payload = await self._write("refill", orders=_joined(chunk))
            items = _keyed(payload, "order")
            for order_id in chunk:
                item = items.get(order_id)
                value = item.get("refill") if isinstance(item, dict) else None
                result[order_id] = _item(value, _refill_id)
        return result

    async def refill_status(self, refill_id: int) -> RefillStatus:
        return _refill_status(await self._read("refill_status", refill=str(refill_id)))

    async def refill_statuses(self, ids: Iterable[int]) -> dict[int, RefillStatus | PanelError]:
        result: dict[int, RefillStatus | PanelError] = {}
        for chunk in chunks(ids):
            payload = await self._read("refill_status", refills=_joined(chunk))
            items = _keyed(payload, "refill")
            for refill_id in chunk:
                item = items.get(refill_id)
                status = item.get("status") if isinstance(item, dict) else None
                result[refill_id] = _item(
                    {"status": status} if isinstance(status, str) else status, _refill_status
                )
        return result

    async def cancel(self, ids: Iterable[int]) -> dict[int, PanelError | None]:
        result: dict[int, PanelError | None] = {}
        for chunk in chunks(ids):
            payload = await self._write("cancel", orders=_joined(chunk))
            items = _keyed(payload, "order")
            for order_id in chunk:
                item = items.get(order_id)
                value = item.get("cancel") if isinstance(item, dict) else None
                outcome = _item(value, lambda v: v)
                result[order_id] = outcome if isinstance(outcome, PanelError) else None
        return result

    async def balance(self) -> Balance:
        payload = await self._read("balance")
        try:
            return Balance.parse(payload)
        except (ValidationError, ValueError):
            raise PanelUnavailable("balance answer without a balance") from None


def _joined(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids)


def _raise_top_level_error(payload: Any) -> None:
    if isinstance(payload, dict) and "error" in payload and len(payload) <= 2:
        raise error_from_message(payload["error"])


def _keyed(payload: Any, id_field: str) -> dict[int, Any]:
    """Bulk answers come keyed by id (status) or as a list of items naming their id."""
    items: dict[int, Any] = {}
    if isinstance(payload, dict):
        for key, value in payload.items():
            try:
                items[int(key)] = value
            except ValueError:
                try:
                    items[to_int(key)] = value
                except ValueError:
                    continue
    elif isinstance(payload, list):
        for entry in payload:
            if isinstance(entry, dict) and id_field in entry:
                try:
                    items[to_int(entry[id_field])] = entry
                except ValueError:
                    continue
    return items


def _item(value: Any, parse: Callable[[Any], T]) -> T | PanelError:
    """One item of a bulk answer: its value, or its own error."""
    if value is None:
        return NotFound("missing from the panel's answer")
    if isinstance(value, dict) and "error" in value:
        return error_from_message(value["error"])
    try:
        return parse(value)
    except (PanelError, ValidationError, ValueError, TypeError):
        return PanelError("unreadable answer")


def _order_status(payload: Any) -> OrderStatus:
    return OrderStatus.parse(payload)


def _refill_status(payload: Any) -> RefillStatus:
    return RefillStatus.parse(payload)


_STATUS_MAP = TypeAdapter(dict[int, OrderStatus])


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


def _refill_id(value: Any) -> int:
    if isinstance(value, dict) and "error" in value:
        raise error_from_message(value["error"])
    try:
        return to_int(value)
    except ValueError:
        raise PanelError("answer without a refill id") from None
