"""The callbacks' web server under hostile HTTP: every request that is not a callback is
answered with a clear 4xx, never reaches the handler, and leaves no traceback in the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping

import pytest

from bot.adapters.payments import server as server_module
from bot.adapters.payments.server import CallbackServer

Seen = list[tuple[str, bytes, dict[str, str]]]


@pytest.fixture
async def served() -> AsyncIterator[tuple[CallbackServer, Seen]]:
    seen: Seen = []

    async def handler(
        name: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes, str] | None:
        if name not in ("tripay", "midtrans"):
            return None
        seen.append((name, body, dict(headers)))
        return 200, b'{"success": true}', "application/json"

    server = CallbackServer(handler, "127.0.0.1", 0)
    await server.start()
    try:
        yield server, seen
    finally:
        await server.stop()


async def exchange(server: CallbackServer, raw: bytes, *, close_after: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw)
    await writer.drain()
    if close_after:
        writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 15)
    writer.close()
    return answer


def status(answer: bytes) -> int:
    return int(answer.split(b"\r\n", 1)[0].split(b" ")[1])


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_content_length_of_thousands_of_digits_is_refused_without_a_traceback(
    served: tuple[CallbackServer, Seen], caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = served
    raw = b"POST /payments/tripay HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n"
    answer = await exchange(server, raw)
    assert status(answer) == 413
    padded = b"POST /payments/tripay HTTP/1.1\r\nContent-Length: " + b"0" * 5000 + b"2\r\n\r\n{}"
    assert 400 <= status(await exchange(server, padded)) < 500
    assert seen == []
    no_traceback(caplog)


async def test_a_body_cut_short_is_a_400_without_a_traceback(
    served: tuple[CallbackServer, Seen], caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = served
    raw = b'POST /payments/tripay HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"status":'
    answer = await exchange(server, raw, close_after=True)
    assert status(answer) == 400
    assert seen == []
    no_traceback(caplog)


async def test_a_head_cut_short_is_a_400(
    served: tuple[CallbackServer, Seen], caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = served
    answer = await exchange(server, b"POST /payments/tripay HTTP/1.1\r\nConte", close_after=True)
    assert status(answer) == 400 and seen == []
    no_traceback(caplog)


async def test_a_slow_body_is_cut_off_with_a_408(
    served: tuple[CallbackServer, Seen],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, seen = served
    monkeypatch.setattr(server_module, "TIMEOUT", 0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /payments/tripay HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)  # the rest never sent
    writer.close()
    assert status(answer) == 408 and seen == []
    no_traceback(caplog)


@pytest.mark.parametrize("method", [b"GET", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"HEAD"])
async def test_a_wrong_method_is_a_405(
    served: tuple[CallbackServer, Seen], method: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = served
    raw = method + b" /payments/tripay HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
    assert status(await exchange(server, raw)) == 405
    assert seen == []
    no_traceback(caplog)


@pytest.mark.parametrize(
    "target",
    [
        b"/payments/../healthz",
        b"/payments/../../etc/passwd",
        b"/payments/tripay/../midtrans",
        b"/payments/tripay/",
        b"/payments/%2e%2e/tripay",
        b"/payments/tripay%00",
        b"/payments/TRIPAY",
        b"/payments/",
        b"/payments//tripay",
        b"/payments/tripay\\..\\x",
        b"//payments/tripay",
        b"http://evil.example/payments/paypal",
    ],
)
async def test_a_path_that_is_not_a_gateway_is_a_404(
    served: tuple[CallbackServer, Seen], target: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = served
    raw = b"POST " + target + b" HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
    assert status(await exchange(server, raw)) == 404
    assert seen == []
    no_traceback(caplog)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x01\x02\xff\r\n\r\n",
        b"POST\r\n\r\n",
        b"POST /payments/tripay\r\n\r\n",
        b"POST  /payments/tripay  HTTP/1.1\r\n\r\n",
        b"\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # TLS spoken to plain HTTP
    ],
)
async def test_a_malformed_request_line_is_a_400(
    served: tuple[CallbackServer, Seen], raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = served
    assert status(await exchange(server, raw)) == 400
    assert seen == []
    no_traceback(caplog)


@pytest.mark.parametrize(
    "length", [b"-1", b"+2", b"2.0", b"0x2", b" ", b"\xd9\xa3", b"1e1", b"2, 2"]
)
async def test_a_content_length_that_is_not_a_number_is_refused(
    served: tuple[CallbackServer, Seen], length: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = served
    raw = b"POST /payments/tripay HTTP/1.1\r\nContent-Length: " + length + b"\r\n\r\n{}"
    answer = status(await exchange(server, raw))
    assert 400 <= answer < 500
    assert seen == []
    no_traceback(caplog)


async def test_two_different_content_lengths_are_refused(
    served: tuple[CallbackServer, Seen], caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = served
    raw = (
        b"POST /payments/tripay HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}"
        + b"x" * 38
    )
    assert status(await exchange(server, raw)) == 400
    assert seen == []
    no_traceback(caplog)


async def test_a_big_body_with_expect_continue_is_refused_before_it_is_sent(
    served: tuple[CallbackServer, Seen],
) -> None:
    server, seen = served
    raw = (
        b"POST /payments/tripay HTTP/1.1\r\nExpect: 100-continue\r\n"
        b"Content-Length: 10000000\r\n\r\n"
    )
    answer = await exchange(server, raw)
    assert status(answer) == 413 and b"100 Continue" not in answer
    assert seen == []


async def test_any_content_type_and_a_body_that_is_not_json_reach_the_handler_raw(
    served: tuple[CallbackServer, Seen],
) -> None:
    """The server judges nothing of the body: the gateway's adapter refuses it once its
    signature is checked (tests/core/test_topups_hostile.py)."""
    server, seen = served
    body = b"<xml>\x00\xff</xml>"
    raw = (
        b"POST /payments/tripay HTTP/1.1\r\nContent-Type: text/xml\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    assert status(await exchange(server, raw)) == 200
    assert [s[1] for s in seen] == [body]


async def test_many_silent_connections_do_not_stop_a_real_callback(
    served: tuple[CallbackServer, Seen],
) -> None:
    server, seen = served
    idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(50)]
    try:
        raw = b"POST /payments/tripay HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
        assert status(await exchange(server, raw)) == 200
    finally:
        for _, writer in idle:
            writer.close()
    assert len(seen) == 1


async def test_a_handler_that_fails_is_a_500_and_the_server_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    async def handler(
        name: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes, str] | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database is gone")
        return 200, b"ok", "text/plain"

    server = CallbackServer(handler, "127.0.0.1", 0)
    await server.start()
    try:
        raw = b"POST /payments/tripay HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
        first = await exchange(server, raw)
        assert status(first) == 500 and b"database" not in first  # nothing of why, to a caller
        assert status(await exchange(server, raw)) == 200
    finally:
        await server.stop()
