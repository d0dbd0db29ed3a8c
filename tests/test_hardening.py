"""Hardening: a hostile panel (markup in its currency and words) and hostile users (forged or
foreign buttons, floods) get nothing through."""

from __future__ import annotations

from pathlib import Path

from bot.panel.sandbox import SandboxPanel
from bot.ui import callback as cb
from tests.harness import ADMIN, USER, Harness

EVIL_CURRENCY = '<a href="https://evil.example/topup">IDR</a>'


async def test_markup_in_the_currency_is_never_shown_or_stored(tmp_path: Path) -> None:
    sandbox = SandboxPanel(currency=EVIL_CURRENCY, step_seconds=10**9)
    async with Harness(
        tmp_path, sandbox, panel_url="https://panel.test/api/v2", panel_key="k" * 32
    ) as bot:
        assert await bot.state.store.kv.get("currency") is None
        screens = [await bot.say(ADMIN, "/balance"), await bot.tap(USER, cb.SERVICE(1))]
        await bot.tap(USER, cb.START_ORDER(4))
        summary = await bot.say(USER, "https://youtube.com/watch?v=z")
        placed = await bot.tap(USER, summary.button("✅"))
        rows, _ = await bot.state.store.orders.for_user(USER, active_only=False, offset=0, limit=1)
        row = rows[0]
        screens += [summary, placed, await bot.tap(USER, cb.ORDER(row.id))]
        screens.append(await bot.say(USER, f"/status {row.panel_order_id}"))
        for screen in screens:
            assert "evil.example" not in screen.text and "<a" not in screen.text, screen.text
        assert await bot.state.store.kv.get("currency") in (None, "")
        assert row.currency == ""
    # Leaving the harness checks that Telegram would have accepted every message.


async def test_a_stored_currency_with_markup_is_dropped_at_start(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.state.store.kv.set("currency", EVIL_CURRENCY)
        await bot.state.load_currency()
        assert bot.state.currency == "IDR"  # the sandbox's default, not the stored markup


async def test_another_users_confirm_button_shows_nothing_of_their_order(
    tmp_path: Path,
) -> None:
    from tests.harness import OTHER

    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(4))
        summary = await bot.say(USER, "https://youtube.com/watch?v=private-link")
        confirm = summary.button("✅")
        await bot.tap(USER, confirm)
        reply = await bot.tap(OTHER, confirm)
        assert "expired" in reply.text and "private-link" not in reply.text
        assert bot.sandbox.calls["add"] == 1


async def test_one_user_flooding_behind_a_slow_call_leaves_others_served(
    tmp_path: Path,
) -> None:
    import asyncio
    import time
    from urllib.parse import parse_qsl

    import httpx

    from bot.panel import PanelClient
    from bot.panel.sandbox import SANDBOX_KEY
    from tests.harness import OTHER, eventually

    sandbox = SandboxPanel()
    adds: list[float] = []

    async def slow_add(request: httpx.Request) -> httpx.Response:
        if b"action=add" in request.content:
            adds.append(time.monotonic())
            await asyncio.sleep(5.0)  # the user's add takes long
        status, body, headers = sandbox.respond(dict(parse_qsl(request.content.decode())))
        return httpx.Response(status, content=body, headers=headers)

    panel = PanelClient(
        "http://panel.test",
        SANDBOX_KEY,
        http=httpx.AsyncClient(transport=httpx.MockTransport(slow_add)),
    )
    async with Harness(tmp_path, sandbox, panel=panel) as bot:
        await bot.tap(USER, cb.START_ORDER(4))
        confirm = (await bot.say(USER, "https://youtube.com/watch?v=z")).button("✅")
        await bot.app.start()  # updates now go through the update processor
        try:
            await bot.app.update_queue.put(bot.callback_update(USER, confirm))
            await eventually(lambda: adds)
            for _ in range(600):
                await bot.app.update_queue.put(bot.message_update(USER, "/help"))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            await bot.app.update_queue.put(bot.message_update(OTHER, "/start"))
            await eventually(lambda: bot.request.sent(OTHER), within=10)
            assert time.monotonic() - started < 1.0
            told = [c for c in bot.request.sent(USER) if "Please wait" in c.text]
            assert len(told) == 1
            placed = lambda: any("Order placed" in c.text for c in bot.request.sent(USER))  # noqa: E731
            await eventually(placed, within=20)
            await asyncio.sleep(0.5)
            helps = [c for c in bot.request.sent(USER) if "How to use this bot" in c.text]
            assert 1 <= len(helps) <= 10  # the queued ones, not the 600
        finally:
            await bot.app.stop()
