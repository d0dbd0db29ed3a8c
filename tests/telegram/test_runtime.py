"""The runtime tuning (bot/telegram/runtime.py): each trick does what it claims, is wired where it
counts, and every private API it leans on is pinned here, so a library upgrade that removes
one fails a test instead of silently slowing the bot down."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.adapters.panel_http.client import PanelClient
from bot.app import build_application, panel_client
from bot.telegram import runtime
from bot.telegram.runtime import AcyclicAsyncClient, gc_paused
from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN, make_settings
from tests.recording_proxy import RecordingProxy

KEY = "secret-panel-key-0123456789"


async def test_answers_leave_nothing_for_the_cycle_collector() -> None:
    """httpx links a response and its body stream both ways; the bot's client unlinks them,
    so answers are freed at once instead of piling up for the collector's pauses."""
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"balance": "1", "currency": "IDR"})
    )

    def ours(thing: object) -> bool:
        request = getattr(thing, "_request", None) if isinstance(thing, httpx.Response) else None
        return request is not None and request.url.host == "cycles.test"

    async def answers_left(http: httpx.AsyncClient) -> int:
        gc.collect()
        gc.disable()
        try:
            async with http:
                panel = PanelClient("http://cycles.test/api/v2", KEY, http=http)
                for _ in range(20):
                    assert (await panel.balance()).amount == 1
            return sum(map(ours, gc.get_objects()))
        finally:
            gc.enable()

    assert await answers_left(httpx.AsyncClient(transport=transport)) == 20  # in cycles
    assert await answers_left(AcyclicAsyncClient(transport=transport)) == 0


def test_the_bot_uses_the_lean_bot_api_requests(tmp_path: Path) -> None:
    app, _ = build_application(make_settings(tmp_path))
    get_updates, other_calls = app.bot._request  # the two requests PTB keeps
    for request in (get_updates, other_calls):
        assert isinstance(request, runtime.BotApiRequest)
    assert isinstance(other_calls._connections, runtime.KeepAliveConnections)
    assert other_calls._connections.most == runtime.BOT_API_CONNECTIONS


async def test_the_lean_request_speaks_and_fails_as_ptbs_own() -> None:
    """A real call over HTTP, its answer parsed by PTB; a refused connection is PTB's
    NetworkError, a slow answer its TimedOut, with the same defaults and per-call timeouts."""
    telegram = FakeTelegram(TOKEN).start()
    request = runtime.BotApiRequest(telegram.api_url, 2)
    try:
        await request.initialize()
        bot = Bot(TOKEN, base_url=telegram.api_url, request=request, get_updates_request=request)
        message = await bot.send_message(7, "héllo & <b>", parse_mode=None)
        assert message.text == "héllo & <b>" and message.chat.id == 7
        assert telegram.sent(7)[0]["text"] == "héllo & <b>"  # form-encoded as PTB's does
        telegram.latency = 0.5
        with pytest.raises(TimedOut):
            await bot.send_message(7, "slow", read_timeout=0.1)
        telegram.latency = 0.0
        closed = Bot(TOKEN, base_url="http://127.0.0.1:9/bot", request=request)
        with pytest.raises(NetworkError):
            await closed.get_me()
    finally:
        await request.shutdown()
        telegram.stop()


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    """A kept-alive connection the server closed is dropped, and the next call opens a new
    one instead of failing with "server disconnected"; one the server keeps is reused."""
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        request = await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        if b"/keep" in request:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain")
        await writer.drain()
        writer.close()  # keep-alive was not refused, yet the server hangs up

    async with _server(answer) as url, _request(url) as request:
        for _ in range(3):
            await asyncio.sleep(0.05)  # the server's close has arrived
            assert await request.do_request(f"{url}/bot/getMe", "POST") == (200, b"ok")
        assert connections == 3
        await asyncio.sleep(0.05)
        assert await request.do_request(f"{url}/bot/keep", "POST") == (200, b"ok")
        assert await request.do_request(f"{url}/bot/keep", "POST") == (200, b"again")
        assert connections == 4


async def test_an_answer_cut_short_or_cancelled_never_reaches_the_next_call() -> None:
    """A call cancelled while its answer is on the way closes its connection: the next call
    reads its own answer, not the late one. An answer cut short, or told to close, the same."""
    late, dropped = asyncio.Event(), asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            if b"/slow" in request:
                if await reader.read() == b"":  # the caller gave up: the bot closed it
                    dropped.set()
                await late.wait()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
            elif b"/cut" in request:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
                await writer.drain()
                writer.close()
                return
            elif b"/closing" in request:
                writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye")
                await writer.drain()
                writer.close()
                return
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nmine")
            await writer.drain()

    async with _server(answer) as url, _request(url) as request:
        slow = asyncio.ensure_future(request.do_request(f"{url}/bot/slow", "POST"))
        await asyncio.sleep(0.1)
        slow.cancel()
        await asyncio.wait_for(dropped.wait(), 1)  # not left open
        late.set()
        await asyncio.sleep(0.05)  # the late answer arrives on the closed connection
        assert await request.do_request(f"{url}/bot/next", "POST") == (200, b"mine")
        with pytest.raises(NetworkError):
            await request.do_request(f"{url}/bot/cut", "POST")
        assert await request.do_request(f"{url}/bot/closing", "POST") == (200, b"bye")
        assert await request.do_request(f"{url}/bot/next", "POST") == (200, b"mine")


async def test_the_connections_speak_tls_and_refuse_a_certificate_they_cannot_trust(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Bot API is HTTPS: the handshake on asyncio's TLS, the name checked, the
    connection kept; a certificate the authorities do not vouch for is a NetworkError."""
    certificate = str(Path(__file__).parents[1] / "tls" / "localhost.pem")  # a test-only pair
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(certificate)
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret")
        writer.close()

    async with _server(answer, tls=serving) as url:
        url = url.replace("http://127.0.0.1", "https://localhost")
        async with _request(url) as request:  # certifi's authorities
            with pytest.raises(NetworkError):
                await request.do_request(f"{url}/bot/getMe", "POST")
        trusting = ssl.create_default_context(cafile=certificate)
        monkeypatch.setattr(runtime, "_tls_context", lambda: trusting)
        async with _request(url) as request:
            for _ in range(2):
                assert await request.do_request(f"{url}/bot/getMe", "POST") == (200, b"secret")
        assert connections == 1  # one for both calls (the refused one never got this far)


async def test_long_and_chunked_answers_arrive_whole_and_an_absurd_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = bytes(range(256)) * (3 << 12)  # 3 MiB

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            if b"/chunked" in request:
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for part in (body[:1000], body[1000:]):
                    writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                writer.write(b"0\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
                writer.write(body)
            await writer.drain()

    async with _server(answer) as url, _request(url) as request:
        assert await request.do_request(f"{url}/bot/long", "POST") == (200, body)
        assert await request.do_request(f"{url}/bot/chunked", "POST") == (200, body)
        monkeypatch.setattr(runtime, "LONGEST_ANSWER", len(body) - 1)
        with pytest.raises(NetworkError, match="absurdly long"):
            await request.do_request(f"{url}/bot/long", "POST")


async def test_a_stuck_write_times_out_and_busy_connections_make_callers_wait_in_time() -> None:
    """A request the server never reads is PTB's TimedOut after the write timeout, not a
    hang; with every connection busy a call waits for one up to the pool timeout, then is
    TimedOut without having been sent."""
    release = asyncio.Event()
    served: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            served.append(request.split(b" ")[1])
            await release.wait()  # reads nothing more until released
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    async with _server(answer) as url, _request(url, connections=1) as request:
        timeouts = {"connect": 1.0, "read": 1.0, "write": 0.2, "pool": 1.0}
        with pytest.raises(TimedOut):
            body = b"x" * (64 << 20)
            length = [(b"Content-Length", str(len(body)).encode())]
            await request._connections.exchange("POST", f"{url}/bot/stuck", length, body, timeouts)
        first = asyncio.ensure_future(request.do_request(f"{url}/bot/first", "POST"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="not sent"):
            await request.do_request(f"{url}/bot/second", "POST", pool_timeout=0.1)
        waiting = asyncio.ensure_future(
            request.do_request(f"{url}/bot/third", "POST", pool_timeout=5)
        )
        await asyncio.sleep(0.1)
        release.set()
        assert await first == (200, b"ok") and await waiting == (200, b"ok")
    assert b"/bot/second" not in served and b"/bot/third" in served


@contextlib.asynccontextmanager
async def _request(url: str, connections: int = 2) -> AsyncIterator[runtime.BotApiRequest]:
    request = runtime.BotApiRequest(url, connections)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


@contextlib.asynccontextmanager
async def _server(
    answer: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[str]:
    """A server on the loopback answering each connection with `answer`; on leaving, its
    connections are cut (a handler left waiting does not hold the test)."""
    clients: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clients.append(writer)
        await answer(reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for client in clients:
            client.transport.abort()
        await server.wait_closed()


async def test_bot_api_calls_take_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    telegram, proxy = FakeTelegram(TOKEN).start(), RecordingProxy().start()
    try:
        for no_proxy, through in (("", True), ("127.0.0.1", False)):
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            monkeypatch.setenv("NO_PROXY", no_proxy)
            request = runtime.BotApiRequest(telegram.api_url, 2)
            await request.initialize()
            bot = Bot(TOKEN, base_url=telegram.api_url, request=request)
            try:
                await bot.send_message(7, f"through the proxy: {through}")
            finally:
                await request.shutdown()
            assert bool(proxy.passed(f"POST {telegram.api_url}")) is through
            proxy.requests.clear()
    finally:
        proxy.stop()
        telegram.stop()


def test_the_panel_and_the_catalog_are_wired_with_the_tuning(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, panel_url="https://panel.test/api/v2", panel_key="k")
    panel = panel_client(settings)
    assert isinstance(panel._http, AcyclicAsyncClient)
    assert panel._pause is runtime.gc_paused
    _, parts = build_application(make_settings(tmp_path))
    assert parts.catalog._pause is runtime.gc_paused


def test_the_collector_pause_restores_the_collector_as_it_was() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # not switched on by the pause
    finally:
        gc.enable()
