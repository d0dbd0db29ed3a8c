"""The HTTP side of the gateway fakes: a threaded server on 127.0.0.1 that records every
request and can answer the next ones with a fault instead (an error page, HTML where JSON was
due, an answer that never comes)."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

# The loopback server by way of the Telegram fake, which keeps its place while the panel
# sandbox that defines it moves in the code base's restructuring.
from tests.fake_telegram import STOP_POLL, LoopbackServer


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def of(cls, payload: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(payload).encode())


ERROR_PAGE = Reply(
    502,
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>",
    "text/html",
)
HTML_PAGE = Reply(
    200,
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body>Checking your browser before accessing the site.</body></html>",
    "text/html; charset=UTF-8",
)
NO_ANSWER = None
"""The request is read and never answered (until the fake stops): the client's timeout."""


class FakeGateway:
    """Subclasses answer in `handle`; `fail_next` puts a fault before the next answers."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._faults: deque[Reply | None] = deque()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query)),
                    {name.lower(): value for name, value in self.headers.items()},
                    body,
                )
                reply = fake._reply(request)
                if reply is None:
                    fake._stopped.wait(30)
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                self.send_header("content-length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = LoopbackServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(STOP_POLL,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget every request and pending fault (one server serves a module's tests)."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    def fail_next(self, *faults: Reply | None) -> None:
        """Answer the next requests with these (a `Reply`, or `NO_ANSWER`), then as usual."""
        with self._lock:
            self._faults.extend(faults)

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def _reply(self, request: Request) -> Reply | None:
        with self._lock:
            self.requests.append(request)
            if self._faults:
                return self._faults.popleft()
            return self.handle(request)
