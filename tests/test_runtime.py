"""The runtime tuning (bot/runtime.py): each trick does what it claims, is wired where it
counts, and every private API it leans on is pinned here, so a library upgrade that removes
one fails a test instead of silently slowing the bot down."""

from __future__ import annotations

import gc
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
    assert other_calls._pool._max_connections == runtime.BOT_API_CONNECTIONS


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
