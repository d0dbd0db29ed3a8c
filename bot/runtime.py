"""Runtime tuning, in one place and wired from `bot.app`: what makes the bot faster without
changing what it does. Each trick names the bench row that justifies it; each use of a
library's private API is pinned by a test that fails when an upgrade removes it
(tests/test_runtime.py).

- `AcyclicAsyncClient`: httpx 0.28 links every response and its body stream both ways
  (encode/httpx#3733), so each request leaves a few dozen objects only the cyclic collector
  frees. At a few hundred requests a second those collections stalled the event loop 10-20 ms
  every second or two ("load: steps not calling the panel, p99"). Once the body is read the
  link is not needed.
- `BotApiRequest`: PTB's HTTPX request on that client (PTB's private `_build_client` and
  `_client_kwargs`), with a few dozen pooled connections: httpcore scans every pooled
  connection per request, and 256 (PTB's default) only cost CPU ("menu" rows).
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

import httpx
from telegram.request import HTTPXRequest

BOT_API_CONNECTIONS = 32


class AcyclicAsyncClient(httpx.AsyncClient):
    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await super().send(request, **kwargs)
        if not kwargs.get("stream"):
            # The body was read and the stream closed: freed by reference counting from here.
            response.stream = httpx.ByteStream(response.content)
        return response


class BotApiRequest(HTTPXRequest):
    """PTB's HTTPX request on a client whose responses leave no garbage cycles."""

    def _build_client(self) -> httpx.AsyncClient:
        return AcyclicAsyncClient(**self._client_kwargs)


def bot_api_requests() -> tuple[BotApiRequest, BotApiRequest]:
    """The requests for Bot API calls and for getUpdates."""
    return (
        BotApiRequest(connection_pool_size=BOT_API_CONNECTIONS, pool_timeout=10.0),
        BotApiRequest(connection_pool_size=1),
    )


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
