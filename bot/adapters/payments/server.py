"""The small web server of the gateways' callbacks: `POST /payments/<gateway>` and
`GET /healthz`, one request a connection, on asyncio's streams.

A body announced over `MAX_CALLBACK_BYTES` (or sent without a length) is refused unread; the
raw bytes of the rest go to the handler, which checks the signature on them before anything
is read. A slow or silent client is cut off after `TIMEOUT` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from bot.core.payments import MAX_CALLBACK_BYTES

log = logging.getLogger(__name__)

PREFIX = "/payments/"
MAX_HEAD = 16384
"""The request line and headers together."""
TIMEOUT = 10.0
MAX_LENGTH_DIGITS = 12
"""A Content-Length written with more digits than this is refused as too large unread."""
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}

Handler = Callable[[str, bytes, Mapping[str, str]], Awaitable[tuple[int, bytes, str] | None]]
"""(gateway name, raw body, headers with lower-case names) -> (status, body, content type), or
None for a gateway that is not enabled (404)."""


class CallbackServer:
    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 8090) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose, for port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=MAX_HEAD
        )
        log.info("payments server listening on %s:%d", self._host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body, kind = await asyncio.wait_for(self._answer(reader, writer), TIMEOUT)
        except TimeoutError:
            status, body, kind = 408, b"timeout", "text/plain"
        except Exception:
            log.exception("payments server: a request failed")
            status, body, kind = 500, b"error", "text/plain"
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}\r\n"
            f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, bytes, str]:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            return 431, b"headers too large", "text/plain"
        except asyncio.IncompleteReadError:
            return 400, b"incomplete request", "text/plain"
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return 400, b"bad request line", "text/plain"
        method, target, _ = parts
        path = target.split("?", 1)[0]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                if headers.get(name, value) != value and name == "content-length":
                    return 400, b"two Content-Lengths", "text/plain"  # a smuggling attempt
                headers[name] = value
        if path == "/healthz":
            return 200, b"ok", "text/plain"
        if not path.startswith(PREFIX):
            return 404, b"not found", "text/plain"
        if method != "POST":
            return 405, b"POST only", "text/plain"
        if "transfer-encoding" in headers:
            return 411, b"a Content-Length is required", "text/plain"
        length = headers.get("content-length", "")
        if not (length.isascii() and length.isdigit()):
            return 411, b"a Content-Length is required", "text/plain"
        # refused unread (and before int() of thousands of digits raises)
        if len(length) > MAX_LENGTH_DIGITS or int(length) > MAX_CALLBACK_BYTES:
            return 413, b"too large", "text/plain"
        if headers.get("expect", "").lower() == "100-continue":  # curl's, for a larger body
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        try:
            body = await reader.readexactly(int(length))
        except asyncio.IncompleteReadError:
            return 400, b"the body is shorter than its Content-Length", "text/plain"
        answer = await self._handler(path.removeprefix(PREFIX), body, headers)
        if answer is None:
            return 404, b"not found", "text/plain"
        return answer
