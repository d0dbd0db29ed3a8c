"""The runtime tuning (bot/runtime.py): each trick does what it claims, is wired where it
counts, and every private API it leans on is pinned here, so a library upgrade that removes
one fails a test instead of silently slowing the bot down."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx
import pytest
from telegram.request import HTTPXRequest

from bot import runtime
from bot.app import build_application, panel_client
from bot.panel import PanelClient
from bot.runtime import AcyclicAsyncClient, gc_paused
from tests.harness import make_settings

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


def test_the_bot_api_requests_build_the_acyclic_client(tmp_path: Path) -> None:
    """Pins PTB's private `HTTPXRequest._build_client` and `_client_kwargs`: an upgrade that
    renames them makes the Bot API fall back to plain httpx, and this fails."""
    assert callable(getattr(HTTPXRequest, "_build_client", None))
    app = build_application(make_settings(tmp_path))
    get_updates, other_calls = app.bot._request  # the two requests PTB keeps
    for request in (get_updates, other_calls):
        assert isinstance(request, runtime.BotApiRequest)
        assert isinstance(request._client, AcyclicAsyncClient)  # type: ignore[attr-defined]
    assert other_calls._client_kwargs["limits"].max_connections == runtime.BOT_API_CONNECTIONS


def test_the_panel_and_the_catalog_are_wired_with_the_tuning(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, panel_url="https://panel.test/api/v2", panel_key="k")
    panel = panel_client(settings)
    assert isinstance(panel._http, AcyclicAsyncClient)
    assert panel._pause is runtime.gc_paused
    state = build_application(make_settings(tmp_path)).bot_data
    assert state.catalog._pause is runtime.gc_paused


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
