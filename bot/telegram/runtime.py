"""Runtime tuning, in one place and wired from `bot.app`: what makes the bot faster without
changing what it does. Each trick names the bench row that justifies it; each use of a
library's private API is pinned by a test that fails when an upgrade removes it
(tests/test_runtime.py).

- `AcyclicAsyncClient`: httpx 0.28 links every response and its body stream both ways
  (encode/httpx#3733), so each request leaves a few dozen objects only the cyclic collector
  frees. At a few hundred requests a second those collections stalled the event loop 10-20 ms
  every second or two ("load: steps not calling the panel, p99"). Once the body is read the
  link is not needed.
- `BotApiRequest`: PTB's request interface straight on httpcore's connection pool (the
  public API of the library under httpx). A Bot API call is a form POST to one host over
  keep-alive HTTP/1.1; httpx's client layers (URLs, cookies, auth, redirects, hooks) took a
  third of each call's CPU, and a bot answer is one or two calls ("side by side" row). A few
  dozen pooled connections: the pool is scanned per request, and 256 (PTB's default) only
  cost CPU ("menu" rows). An upload (a file) goes through PTB's own httpx request. The proxy
  the environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) is used as httpx uses it for the
  panel and for `smm-bot check`.
- `gc_paused`: building 20,000 services triggers dozens of collections that scan every new
  object and free none ("catalog: load and index 20,000 services").
- `freeze_startup_objects`: what exists after start (modules, schemas, the catalog) lives as
  long as the bot; kept out of the collector's scans, every later collection is cheaper.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import httpcore
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

BOT_API_CONNECTIONS = 32


class AcyclicAsyncClient(httpx.AsyncClient):
    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await super().send(request, **kwargs)
        if not kwargs.get("stream"):
            # The body was read and the stream closed: freed by reference counting from here.
            response.stream = httpx.ByteStream(response.content)
        return response


class BotApiRequest(BaseRequest):
    """Bot API calls on httpcore: the same timeouts and errors as PTB's `HTTPXRequest`
    (`TimedOut`, `NetworkError`), without httpx's per-call layers."""

    def __init__(
        self, url: str, connections: int, pool_timeout: float = 1.0, timeout: float = 5.0
    ) -> None:
        self._pool = connection_pool(url, connections)
        self._timeouts = {"connect": timeout, "read": timeout, "write": timeout}
        self._pool_timeout = pool_timeout
        self._uploads = HTTPXRequest(connection_pool_size=1)

    @property
    def read_timeout(self) -> float:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        await self._uploads.initialize()

    async def shutdown(self) -> None:
        await self._pool.aclose()
        await self._uploads.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        given = {
            "read": read_timeout,
            "write": write_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
        }
        if request_data is not None and request_data.contains_files:
            return await self._uploads.do_request(url, method, request_data, **_named(given))
        defaults = {**self._timeouts, "pool": self._pool_timeout}
        # A timeout the caller left unset is one of PTB's DefaultValue markers.
        timeouts = {
            name: defaults[name] if isinstance(value, _UNSET) else value
            for name, value in given.items()
        }
        body = urlencode(request_data.json_parameters).encode() if request_data else b""
        headers = [
            (b"User-Agent", USER_AGENT),
            (b"Content-Type", b"application/x-www-form-urlencoded"),
            (b"Content-Length", str(len(body)).encode()),
        ]
        try:
            response = await self._pool.request(
                method, url, headers=headers, content=body, extensions={"timeout": timeouts}
            )
        except httpcore.TimeoutException as exc:
            raise TimedOut(f"httpcore.{exc.__class__.__name__}") from exc
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            raise NetworkError(f"httpcore.{exc.__class__.__name__}: {exc}") from exc
        return response.status, response.content


USER_AGENT = HTTPXRequest.USER_AGENT.encode()
_UNSET = type(BaseRequest.DEFAULT_NONE)


def _named(timeouts: dict[str, Any]) -> dict[str, Any]:
    return {f"{name}_timeout": value for name, value in timeouts.items()}


def bot_api_requests(url: str) -> tuple[BotApiRequest, BotApiRequest]:
    """The requests for Bot API calls to `url` and for getUpdates."""
    return BotApiRequest(url, BOT_API_CONNECTIONS, pool_timeout=10.0), BotApiRequest(url, 1)


def connection_pool(url: str, connections: int) -> httpcore.AsyncConnectionPool:
    """httpcore's pool for requests to `url`: through the proxy the environment names for its
    scheme unless NO_PROXY exempts its host (the rules of urllib, which httpx follows)."""
    target = urlsplit(url)
    proxy = getproxies().get(target.scheme)
    if proxy and not proxy_bypass(target.hostname or ""):
        return httpcore.AsyncHTTPProxy(proxy_url=proxy, max_connections=connections)
    return httpcore.AsyncConnectionPool(max_connections=connections)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic collector off while a large structure free of cycles is built. Only for
    synchronous code: nothing else runs on the event loop meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def freeze_startup_objects() -> None:
    gc.freeze()
