"""The callbacks' web server on 127.0.0.1: the raw body to the handler, big bodies refused
unread, curl's `Expect: 100-continue`, and what is not a callback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import pytest

from bot.adapters.payments.server import CallbackServer

Seen = list[tuple[str, bytes, dict[str, str]]]


@pytest.fixture
async def served() -> AsyncIterator[tuple[CallbackServer, Seen]]:
    seen: Seen = []

    async def handler(
        name: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes, str] | None:
        if name != "tripay":
            return None
        seen.append((name, body, dict(headers)))
        return 200, b'{"success": true}', "application/json"

    server = CallbackServer(handler, "127.0.0.1", 0)
    await server.start()
    try:
        yield server, seen
    finally:
        await server.stop()


async def exchange(server: CallbackServer, raw: bytes, then: bytes = b"") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw)
    await writer.drain()
    if then:
        interim = await reader.readuntil(b"\r\n\r\n")
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        writer.write(then)
        await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_a_callback_reaches_the_handler_as_raw_bytes(
    served: tuple[CallbackServer, Seen],
) -> None:
    server, seen = served
    body = b'{"a": 1,  "b":"\xc3\xa9"}'
    head = (
        b"POST /payments/tripay HTTP/1.1\r\nHost: x\r\nX-Callback-Signature: abc\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    answer = await exchange(server, head + body)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b'{"success": true}')
    assert seen == [
        (
            "tripay",
            body,
            {"host": "x", "x-callback-signature": "abc", "content-length": str(len(body))},
        )
    ]


async def test_curl_s_expect_100_continue_is_answered(served: tuple[CallbackServer, Seen]) -> None:
    server, seen = served
    body = b"x" * 2000
    head = b"POST /payments/tripay HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2000\r\n\r\n"
    answer = await exchange(server, head, then=body)
    assert b"200 OK" in answer.split(b"\r\n", 1)[0] and seen[0][1] == body


async def test_big_bodies_are_refused_unread_and_the_rest_is_not_a_callback(
    served: tuple[CallbackServer, Seen],
) -> None:
    server, seen = served
    big = await exchange(server, b"POST /payments/tripay HTTP/1.1\r\nContent-Length: 65537\r\n\r\n")
    assert big.startswith(b"HTTP/1.1 413")  # answered without a byte of the body sent
    chunked = b"POST /payments/tripay HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert (await exchange(server, chunked)).startswith(b"HTTP/1.1 411")
    get = await exchange(server, b"GET /payments/tripay HTTP/1.1\r\n\r\n")
    assert get.startswith(b"HTTP/1.1 405")
    other = b"POST /payments/paypal HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
    assert (await exchange(server, other)).startswith(b"HTTP/1.1 404")
    assert (await exchange(server, b"GET /elsewhere HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 404")
    health = await exchange(server, b"GET /healthz HTTP/1.1\r\n\r\n")
    assert health.startswith(b"HTTP/1.1 200") and health.endswith(b"ok")
    huge_head = b"GET /healthz HTTP/1.1\r\nX: " + b"y" * 20_000 + b"\r\n\r\n"
    assert (await exchange(server, huge_head)).startswith(b"HTTP/1.1 431")
    assert seen == []
