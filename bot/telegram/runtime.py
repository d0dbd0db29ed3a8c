"""Runtime tuning, in one place and wired from `bot.app`: what makes the bot faster without
changing what it does. Each trick names the bench row that justifies it; each use of a
library's private API is pinned by a test that fails when an upgrade removes it
(tests/test_runtime.py).

- `AcyclicAsyncClient`: httpx 0.28 links every response and its body stream both ways
  (encode/httpx#3733), so each request leaves a few dozen objects only the cyclic collector
  frees. At a few hundred requests a second those collections stalled the event loop 10-20 ms
  every second or two ("load: steps not calling the panel, p99"). Once the body is read the
  link is not needed.
- `BotApiRequest`: PTB's request interface on HTTP/1.1 connections of our own
  (`KeepAliveConnections`: h11, the protocol library under httpcore, on asyncio's
  transports). A Bot API call is a form POST to one host over a kept-alive connection, and a
  bot answer is one or two calls ("side by side" row): httpx's client layers took a third of
  each call's CPU, then httpcore's pool and the anyio under it (locks, cancel scopes, a
  socket lookup per idle connection per request) two thirds of the rest. An upload (a file)
  goes through PTB's own httpx request; through the proxy the environment names
  (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as httpx uses it for the panel and `smm-bot check`),
  httpcore's proxy pool.
- `gc_paused`: building 20,000 services triggers dozens of collections that scan every new
  object and free none ("catalog: load and index 20,000 services").
- `freeze_startup_objects`: what exists after start (modules, schemas, the catalog) lives as
  long as the bot; kept out of the collector's scans, every later collection is cheaper.
"""

from __future__ import annotations

import asyncio
import gc
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import certifi
import h11
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
    """PTB's request interface for the Bot API on kept-alive connections of our own: the same
    timeouts and errors as PTB's `HTTPXRequest` (`TimedOut`, `NetworkError`). A file upload,
    and a call to another host, go through PTB's own request."""

    def __init__(
        self, url: str, connections: int, pool_timeout: float = 1.0, timeout: float = 5.0
    ) -> None:
        self._origin = _origin(url)
        proxy = _proxy_for(url)
        self._connections: KeepAliveConnections | ProxiedConnections = (
            ProxiedConnections(proxy, connections)
            if proxy
            else KeepAliveConnections(url, connections)
        )
        self._timeouts = {"connect": timeout, "read": timeout, "write": timeout}
        self._pool_timeout = pool_timeout
        self._other = HTTPXRequest(connection_pool_size=1)

    @property
    def read_timeout(self) -> float:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        await self._other.initialize()

    async def shutdown(self) -> None:
        await self._connections.aclose()
        await self._other.shutdown()

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
        if (request_data is not None and request_data.contains_files) or not url.startswith(
            self._origin
        ):
            return await self._other.do_request(url, method, request_data, **_named(given))
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
        return await self._connections.exchange(method, url, headers, body, timeouts)


USER_AGENT = HTTPXRequest.USER_AGENT.encode()
_UNSET = type(BaseRequest.DEFAULT_NONE)
POOL_FULL = "Pool timeout: all connections are busy. The request was not sent to Telegram."


def _named(timeouts: dict[str, Any]) -> dict[str, Any]:
    return {f"{name}_timeout": value for name, value in timeouts.items()}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def bot_api_requests(url: str) -> tuple[BotApiRequest, BotApiRequest]:
    """The requests for Bot API calls to `url` and for getUpdates."""
    return BotApiRequest(url, BOT_API_CONNECTIONS, pool_timeout=10.0), BotApiRequest(url, 1)


def _proxy_for(url: str) -> str | None:
    """The proxy the environment names for the scheme of `url`, unless NO_PROXY exempts its
    host (the rules of urllib, which httpx follows for the panel)."""
    target = urlsplit(url)
    proxy = getproxies().get(target.scheme)
    return proxy if proxy and not proxy_bypass(target.hostname or "") else None


class KeepAliveConnections:
    """HTTP/1.1 kept alive to the Bot API's host, h11 writing and reading on asyncio's
    transports. httpcore's pool (and anyio under it, for its locks, cancel scopes and socket
    lookups) took two thirds of a call's CPU. The most recently used idle connection is taken
    first; one the server closed is dropped, never written to; at most `most` at once."""

    def __init__(self, url: str, most: int) -> None:
        self.most = most
        parts = urlsplit(url)
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._authority = parts.netloc.encode()
        self._tls = _tls_context() if parts.scheme == "https" else None
        self._idle: list[_Connection] = []
        self._free = asyncio.Semaphore(most)

    async def exchange(
        self,
        method: str,
        url: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: dict[str, float | None],
    ) -> tuple[int, bytes]:
        if self._free.locked():
            try:
                async with asyncio.timeout(timeouts["pool"]):
                    await self._free.acquire()
            except TimeoutError:
                raise TimedOut(POOL_FULL) from None
        else:
            await self._free.acquire()
        try:
            connection = self._kept() or await self._connect(timeouts["connect"])
            try:
                target = url[url.index("/", url.index("//") + 2) :].encode()
                answer = await connection.exchange(
                    method.encode(), target, [(b"Host", self._authority), *headers], body, timeouts
                )
            except BaseException:
                connection.close()
                raise
            if connection.reusable():
                self._idle.append(connection)
            else:
                connection.close()
            return answer
        finally:
            self._free.release()

    def _kept(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        return None

    async def _connect(self, timeout: float | None) -> _Connection:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, received = await loop.create_connection(
                    _Received,
                    self._host,
                    self._port,
                    ssl=self._tls,
                    happy_eyeballs_delay=HAPPY_EYEBALLS,
                )
        except TimeoutError:
            raise TimedOut("Timed out connecting to the Bot API") from None
        except OSError as exc:  # a refused connection, a name not found, a certificate refused
            raise NetworkError(f"Could not connect to the Bot API: {exc}") from exc
        assert isinstance(transport, asyncio.Transport)
        return _Connection(transport, received)

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()


HAPPY_EYEBALLS = 0.25
"""seconds before the next address of a host is tried alongside (anyio's choice)"""
LONGEST_ANSWER = 64 << 20
"""bytes: a Bot API answer longer than this is not read (getUpdates' are a few hundred KB)"""


def _tls_context() -> ssl.SSLContext:
    """Certificates checked against certifi's authorities, as httpx does."""
    return ssl.create_default_context(cafile=certifi.where())


class _Connection:
    def __init__(self, transport: asyncio.Transport, received: _Received) -> None:
        self._transport = transport
        self._received = received
        self._http = h11.Connection(h11.CLIENT)

    async def exchange(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: dict[str, float | None],
    ) -> tuple[int, bytes]:
        http = self._http
        try:
            request = (
                http.send(h11.Request(method=method, target=target, headers=headers))
                + http.send(h11.Data(data=body))
                + http.send(h11.EndOfMessage())
            )
            await self._write(request, timeouts["write"])
            status, content = 0, bytearray()
            while True:
                event = http.next_event()
                if event is h11.NEED_DATA:
                    http.receive_data(await self._read(timeouts["read"]))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.Data):
                    content += event.data
                    if len(content) > LONGEST_ANSWER:
                        raise NetworkError("The Bot API's answer is absurdly long")
                elif isinstance(event, h11.EndOfMessage):
                    return status, bytes(content)
                elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                    raise NetworkError("The Bot API closed the connection without an answer")
        except h11.ProtocolError as exc:
            raise NetworkError(f"The Bot API's answer could not be read: {exc}") from exc

    def reusable(self) -> bool:
        """Whether the next request may go on this connection: this one's answer complete
        and kept alive, and nothing arrived since (data or the server's close)."""
        http, received = self._http, self._received
        if http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
        return http.our_state is h11.IDLE and not (received.data or received.ended)

    def close(self) -> None:
        self._transport.close()

    async def _write(self, data: bytes, timeout: float | None) -> None:  # noqa: ASYNC109
        received = self._received
        if self._transport.is_closing():
            raise NetworkError("The connection to the Bot API was closed")
        self._transport.write(data)
        if received.write_paused and not received.ended:  # buffers full: wait for room
            received.writable = asyncio.get_running_loop().create_future()
            if not await _within(received.writable, timeout):
                raise TimedOut("Timed out sending to the Bot API")

    async def _read(self, timeout: float | None) -> bytes:  # noqa: ASYNC109
        received = self._received
        if not received.data and not received.ended:
            received.waiter = asyncio.get_running_loop().create_future()
            if not await _within(received.waiter, timeout):
                raise TimedOut("Timed out reading the Bot API's answer")
        if received.data:
            return received.taken()
        if received.error is not None:
            raise NetworkError(f"The connection to the Bot API broke: {received.error}")
        return b""  # the server closed the connection (h11 says whether that was early)


class _Received(asyncio.Protocol):
    """What arrived on a connection and not yet read; whether it ended, and why."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.ended = False
        self.error: Exception | None = None
        self.waiter: asyncio.Future[bool] | None = None
        """set when data or the end arrives (True), or when the wait's time is up (False)"""
        self.writable: asyncio.Future[bool] | None = None
        self.write_paused = False

    def data_received(self, data: bytes) -> None:
        self.data += data
        self._wake()

    def taken(self) -> bytes:
        """All that arrived: the reader parses it at once, so nothing piles up here."""
        chunk = bytes(self.data)
        self.data.clear()
        return chunk

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(True)
        self.writable = None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(True)
        self.waiter = None


async def _within(event: asyncio.Future[bool], seconds: float | None) -> bool:
    """Whether `event` came within so many seconds (a cancellation from outside goes
    through as it is). Cheaper than `asyncio.timeout` on a path taken twice a call."""
    if seconds is None:
        return await event
    timer = asyncio.get_running_loop().call_later(seconds, _expire, event)
    try:
        return await event
    finally:
        timer.cancel()


def _expire(event: asyncio.Future[bool]) -> None:
    if not event.done():
        event.set_result(False)


class ProxiedConnections:
    """Bot API calls through the proxy the environment names: httpcore's proxy pool (the
    rare case, not tuned)."""

    def __init__(self, proxy: str, most: int) -> None:
        self._pool = httpcore.AsyncHTTPProxy(proxy_url=proxy, max_connections=most)

    async def exchange(
        self,
        method: str,
        url: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: dict[str, float | None],
    ) -> tuple[int, bytes]:
        try:
            response = await self._pool.request(
                method, url, headers=headers, content=body, extensions={"timeout": timeouts}
            )
        except httpcore.TimeoutException as exc:
            raise TimedOut(f"httpcore.{exc.__class__.__name__}") from exc
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            raise NetworkError(f"httpcore.{exc.__class__.__name__}: {exc}") from exc
        return response.status, response.content

    async def aclose(self) -> None:
        await self._pool.aclose()


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
