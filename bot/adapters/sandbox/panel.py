"""A simulated panel that speaks API v2, for trying the bot and for tests.

`SandboxPanel` holds the state (catalog, balance, orders, refills) and answers form
requests like a real panel, including every error answer of the reference. Use it as an
`httpx` transport (`panel.transport()`) or serve it on 127.0.0.1 (`SandboxServer`).
Orders advance Pending -> In progress -> Completed (or Partial) as time passes, or when a
test calls `set_status`. Faults (latency, timeouts, 5xx, HTML, invalid JSON, a connection
dropped after the order was taken) are injected with `fail_next` and `latency`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from bot.core.api import OrderState, Service

SANDBOX_KEY = "sandbox"

CATALOG_FILE = Path(__file__).with_name("catalog.json")


def default_catalog() -> list[dict[str, Any]]:
    """The sandbox's services as a `services` answer: one of every order type of the
    reference, names with markup-like characters."""
    return list(json.loads(CATALOG_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class _TypeRule:
    """One row of the reference's table "Order fields by service type"."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    counted: str | None = "quantity"
    """The field whose number (or, for `lines:NAME`, whose number of lines) is the quantity;
    None for a package (one package, its rate is the price)."""


# Written from the API reference, not from the bot's validators: where the two disagree, a
# flow test shows it.
_TYPE_RULES = {
    "default": _TypeRule(("link", "quantity"), ("runs", "interval")),
    "package": _TypeRule(("link",), counted=None),
    "custom comments": _TypeRule(("link", "comments"), counted="lines:comments"),
    "custom comments package": _TypeRule(("link", "comments"), counted=None),
    "mentions": _TypeRule(("link", "quantity", "usernames")),
    "mentions with hashtags": _TypeRule(("link", "quantity", "usernames", "hashtags")),
    "mentions custom list": _TypeRule(("link", "usernames"), counted="lines:usernames"),
    "mentions hashtag": _TypeRule(("link", "quantity", "hashtag")),
    "mentions user followers": _TypeRule(("link", "quantity", "username")),
    "mentions media likers": _TypeRule(("link", "quantity", "media")),
    "comment likes": _TypeRule(("link", "quantity", "username")),
    "poll": _TypeRule(("link", "quantity", "answer_number")),
    "comment replies": _TypeRule(("link", "username", "comments"), counted="lines:comments"),
    "invites from groups": _TypeRule(("link", "quantity", "groups")),
    "subscriptions": _TypeRule(
        ("username", "min", "max", "delay"), ("posts", "old_posts", "expiry"), counted="max"
    ),
    "web traffic": _TypeRule(
        ("link", "quantity", "country", "device", "type_of_traffic"),
        ("runs", "interval", "google_keyword", "referring_url"),
    ),
    "seo": _TypeRule(("link", "quantity", "keywords")),
}
_URL_FIELDS = ("link", "media", "referring_url")
_NUMBER_FIELDS = ("quantity", "min", "max", "runs", "interval", "posts", "old_posts")
_DELAYS = {"0", "5", "10", "15", "30", "60", "90"}


class _Refused(Exception):
    """An add the sandbox refuses, with the words a panel uses."""


def _rule_of(service: Service) -> _TypeRule:
    name = " ".join(service.type_raw.replace("_", " ").split()).casefold()
    return _TYPE_RULES.get(name, _TYPE_RULES["default"])


def _checked_order(service: Service, form: dict[str, str]) -> tuple[dict[str, str], int, Decimal]:
    """The fields of an `add` as a panel checks them: present, links that are links, numbers
    that are numbers, the quantity within the service's bounds. Returns the fields, the
    quantity and the charge; raises `_Refused`."""
    rule = _rule_of(service)
    values = {
        name: form[name].strip()
        for name in (*rule.required, *rule.optional)
        if form.get(name, "").strip()
    }
    for name in rule.required:
        if name not in values:
            raise _Refused("Incorrect link" if name == "link" else "Incorrect request")
    for name in _URL_FIELDS:
        if name in values and not values[name].startswith(("http://", "https://")):
            raise _Refused("Incorrect link")
    for name in _NUMBER_FIELDS:
        if name in values and not (values[name].isascii() and values[name].isdigit()):
            raise _Refused(
                "Incorrect quantity" if name in ("quantity", "min", "max") else "Incorrect request"
            )
    if "delay" in values and values["delay"] not in _DELAYS:
        raise _Refused("Incorrect request")
    if "expiry" in values:
        try:
            datetime.strptime(values["expiry"], "%d/%m/%Y")
        except ValueError:
            raise _Refused("Incorrect request") from None
    if ("runs" in values) != ("interval" in values):
        raise _Refused("Incorrect request")
    if rule.counted is None:
        return values, 1, service.rate
    if rule.counted.startswith("lines:"):
        count = len([line for line in values[rule.counted[6:]].splitlines() if line.strip()])
    else:
        count = int(values[rule.counted])
    if not service.min <= count <= service.max:
        raise _Refused("Incorrect quantity")
    if "min" in values and int(values["min"]) > count:
        raise _Refused("Incorrect quantity")
    units = count * int(values.get("runs") or values.get("posts") or 1)
    return values, count, service.rate * units / Decimal(1000)


@dataclass
class SandboxOrder:
    id: int
    service: Service
    quantity: int
    charge: Decimal
    created: float
    start_count: int
    partial: bool
    link: str = ""
    forced: tuple[str, int | None] | None = None


@dataclass
class SandboxRefill:
    id: int
    order_id: int
    created: float
    forced: str | None = None


@dataclass
class _Fault:
    kind: str
    action: str | None
    status: int = 400
    message: str = ""


@dataclass
class SandboxPanel:
    """The state and the rules of a simulated panel."""

    services: list[Service] = field(default_factory=list)
    balance: Decimal = Decimal("1000000")
    currency: str = "IDR"
    key: str = SANDBOX_KEY
    step_seconds: float = 20.0
    clock: Callable[[], float] = time.monotonic
    reject_duplicate_links: bool = False
    latency: float = 0.0
    refusal_status: bool = False
    """Answer refusals with a 4xx status (400, 402, 403, 404), as many real panels do."""
    rate_limit_seconds: int = 60
    """The Retry-After of a `429` fault."""
    orders: dict[int, SandboxOrder] = field(default_factory=dict)
    refills: dict[int, SandboxRefill] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    requests: list[dict[str, str]] = field(default_factory=list)
    """Every call the panel processed (faults injected before processing are not here)."""
    received: list[tuple[float, str]] = field(default_factory=list)
    """(time, action) of every HTTP request that arrived, faults included."""
    _faults: list[_Fault] = field(default_factory=list)
    _next_order: int = 1000
    _next_refill: int = 500
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        if not self.services:
            self.services = [Service.model_validate(s) for s in default_catalog()]
        self._by_id = {s.id: s for s in self.services}

    @classmethod
    def from_catalog_file(cls, path: str | Path, **kwargs: Any) -> SandboxPanel:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(services=[Service.model_validate(s) for s in raw], **kwargs)

    # -- test controls ------------------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        *,
        action: str | None = None,
        times: int = 1,
        status: int = 400,
        message: str = "",
    ) -> None:
        """Inject a fault into the next matching request(s). Kinds: `timeout`, `500`, `502`,
        `503`, `403`, `html`, `badjson`, `drop` (the request is processed, then the connection
        drops), `429` (with Retry-After), `refuse` (`{"error": message}` at HTTP `status`).
        """
        self._faults.extend(_Fault(kind, action, status, message) for _ in range(times))

    def set_status(self, order_id: int, status: str, remains: int | None = None) -> None:
        with self._lock:
            self.orders[order_id].forced = (status, remains)

    def set_refill_status(self, refill_id: int, status: str) -> None:
        with self._lock:
            self.refills[refill_id].forced = status

    def latency_of(self, form: dict[str, str]) -> float:
        """How long this request takes to answer (override for per-request latency)."""
        return self.latency

    def arrive(self, form: dict[str, str]) -> float:
        """Note a request as it arrives; returns how long to wait before `respond`."""
        self.received.append((self.clock(), form.get("action", "")))
        return self.latency_of(form)

    def _take_fault(self, action: str) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.action in (None, action):
                del self._faults[index]
                return fault
        return None

    # -- protocol -----------------------------------------------------------------------------

    def handle(self, form: dict[str, str]) -> Any:
        """Answer one API call (the decoded form) with the JSON-able body a panel sends."""
        with self._lock:
            action = form.get("action", "")
            self.calls[action] += 1
            self.requests.append({k: v for k, v in form.items() if k != "key"})
            if form.get("key") != self.key:
                return {"error": "Incorrect API key"}
            handler = getattr(self, f"_do_{action}", None)
            if handler is None:
                return {"error": "Incorrect request"}
            result: Any = handler(form)
            return result

    def _do_services(self, form: dict[str, str]) -> Any:
        return [
            {
                "service": s.id,
                "name": s.name,
                "type": s.type_raw,
                "category": s.category,
                "rate": str(s.rate),
                "min": str(s.min),
                "max": str(s.max),
                "refill": s.refill,
                "cancel": s.cancel,
            }
            for s in self.services
        ]

    def _do_balance(self, form: dict[str, str]) -> Any:
        return {"balance": str(self.balance), "currency": self.currency}

    def _do_add(self, form: dict[str, str]) -> Any:
        try:
            service = self._by_id[int(form.get("service", ""))]
        except (KeyError, ValueError):
            return {"error": "Incorrect service ID"}
        try:
            values, quantity, charge = _checked_order(service, form)
        except _Refused as refusal:
            return {"error": str(refusal)}
        if (
            self.reject_duplicate_links
            and "link" in values
            and any(
                o.service.id == service.id
                and not self._state(o)[0].is_final
                and o.link == values["link"]
                for o in self.orders.values()
            )
        ):
            return {"error": "Active order with this link exists"}
        if charge > self.balance:
            return {"error": "Not enough funds on balance"}
        self.balance -= charge
        self._next_order += 1
        order_id = self._next_order
        self.orders[order_id] = SandboxOrder(
            id=order_id,
            service=service,
            quantity=quantity,
            charge=charge,
            created=self.clock(),
            start_count=(order_id * 37) % 5000,
            partial=order_id % 10 == 7,
            link=values.get("link", values.get("username", "")),
        )
        return {"order": order_id}

    def _state(self, order: SandboxOrder) -> tuple[OrderState, str, int]:
        if order.forced:
            status, remains = order.forced
            return (
                OrderState.parse(status),
                status,
                (remains if remains is not None else order.quantity),
            )
        elapsed = self.clock() - order.created
        if elapsed < self.step_seconds:
            return OrderState.PENDING, "Pending", order.quantity
        if elapsed < 3 * self.step_seconds:
            done = (elapsed - self.step_seconds) / (2 * self.step_seconds)
            return OrderState.IN_PROGRESS, "In progress", max(1, int(order.quantity * (1 - done)))
        if order.partial:
            return OrderState.PARTIAL, "Partial", max(1, order.quantity // 10)
        return OrderState.COMPLETED, "Completed", 0

    def _status_of(self, order_id: int) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None:
            return {"error": "Incorrect order ID"}
        _, status, remains = self._state(order)
        return {
            "charge": str(order.charge),
            "start_count": str(order.start_count),
            "status": status,
            "remains": str(remains),
            "currency": self.currency,
        }

    def _do_status(self, form: dict[str, str]) -> Any:
        if "orders" in form:
            return {str(i): self._status_of(i) for i in _ids(form["orders"])}
        try:
            return self._status_of(int(form.get("order", "")))
        except ValueError:
            return {"error": "Incorrect order ID"}

    def _refill_one(self, order_id: int) -> Any:
        order = self.orders.get(order_id)
        if order is None:
            return {"error": "Incorrect order ID"}
        if not order.service.refill:
            return {"error": "Refill is disabled for this service"}
        self._next_refill += 1
        self.refills[self._next_refill] = SandboxRefill(self._next_refill, order_id, self.clock())
        return self._next_refill

    def _do_refill(self, form: dict[str, str]) -> Any:
        if "orders" in form:
            return [{"order": i, "refill": self._refill_one(i)} for i in _ids(form["orders"])]
        try:
            result = self._refill_one(int(form.get("order", "")))
        except ValueError:
            return {"error": "Incorrect order ID"}
        return result if isinstance(result, dict) else {"refill": str(result)}

    def _refill_status_of(self, refill_id: int) -> Any:
        refill = self.refills.get(refill_id)
        if refill is None:
            return {"error": "Refill not found"}
        if refill.forced:
            return refill.forced
        elapsed = self.clock() - refill.created
        if elapsed < self.step_seconds:
            return "Pending"
        if elapsed < 2 * self.step_seconds:
            return "In progress"
        return "Completed"

    def _do_refill_status(self, form: dict[str, str]) -> Any:
        if "refills" in form:
            return [
                {"refill": i, "status": self._refill_status_of(i)} for i in _ids(form["refills"])
            ]
        try:
            status = self._refill_status_of(int(form.get("refill", "")))
        except ValueError:
            return {"error": "Refill not found"}
        return status if isinstance(status, dict) else {"status": status}

    def _cancel_one(self, order_id: int) -> Any:
        order = self.orders.get(order_id)
        if order is None:
            return {"error": "Incorrect order ID"}
        if not order.service.cancel:
            return {"error": "Cancel is disabled for this service"}
        if self._state(order)[0].is_final:
            return {"error": "Order is already finished"}
        order.forced = ("Canceled", order.quantity)
        self.balance += order.charge
        return 1

    def _do_cancel(self, form: dict[str, str]) -> Any:
        ids = _ids(form.get("orders", form.get("order", "")))
        return [{"order": i, "cancel": self._cancel_one(i)} for i in ids]

    # -- transports ---------------------------------------------------------------------------

    def respond(self, form: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and headers for one request, faults included.
        Raises `httpx.ReadTimeout` for `timeout` and `httpx.RemoteProtocolError` for `drop`."""
        fault = self._take_fault(form.get("action", ""))
        kind = fault.kind if fault else None
        json_type = {"content-type": "application/json"}
        if kind == "timeout":
            raise httpx.ReadTimeout("sandbox: simulated timeout")
        if kind in ("500", "502", "503", "403"):
            return int(kind), b"Server error", {"content-type": "text/plain"}
        if kind == "429":
            body = b'{"error": "Too many requests"}'
            return 429, body, {**json_type, "retry-after": str(self.rate_limit_seconds)}
        if fault is not None and kind == "refuse":
            return fault.status, json.dumps({"error": fault.message}).encode(), json_type
        if kind == "html":
            page = b"<!DOCTYPE html><html><body>Checking your browser</body></html>"
            return 200, page, {"content-type": "text/html"}
        if kind == "badjson":
            return 200, b'{"order": 12', json_type
        answer = self.handle(form)
        body = json.dumps(answer, ensure_ascii=False).encode()
        if kind == "drop":
            raise httpx.RemoteProtocolError("sandbox: connection dropped after processing")
        status = 200
        if self.refusal_status and isinstance(answer, dict) and "error" in answer:
            status = _refusal_status(str(answer["error"]))
        return status, body, json_type

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering as this panel (for `httpx.AsyncClient(transport=...)`)."""

        async def handler(request: httpx.Request) -> httpx.Response:
            form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
            delay = self.arrive(form)
            if delay:
                await asyncio.sleep(delay)
            status, body, headers = self.respond(form)
            return httpx.Response(status, content=body, headers=headers)

        return httpx.MockTransport(handler)


def _refusal_status(message: str) -> int:
    """The HTTP status a PHP panel sends with a refusal."""
    lowered = message.casefold()
    if "api key" in lowered:
        return 403
    if "funds" in lowered:
        return 402
    if "order id" in lowered or "not found" in lowered:
        return 404
    return 400


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip().isdigit()]


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server whose listen backlog holds a crowd: with the default of 5,
    connections beyond it are dropped and retried a second later."""

    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed bot, a closed pool) is not an error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SandboxServer:
    """Serve a `SandboxPanel` over HTTP on 127.0.0.1 (port 0 picks a free port)."""

    def __init__(self, panel: SandboxPanel, host: str = "127.0.0.1", port: int = 0) -> None:
        self.panel = panel
        sandbox = panel

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: no new connection per request
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                delay = sandbox.arrive(form)
                if delay:
                    time.sleep(delay)
                try:
                    status, body, headers = sandbox.respond(form)
                except httpx.ReadTimeout:
                    time.sleep(60)
                    return
                except httpx.RemoteProtocolError:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = LoopbackServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/v2"

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
