"""Hardening: a hostile panel (markup in its currency and words) and hostile users (forged or
foreign buttons, floods) get nothing through."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel
from bot.telegram import callback as cb
from tests.harness import ADMIN, USER, Harness
from tests.telegram.walks import place

EVIL_CURRENCY = '<a href="https://evil.example/topup">IDR</a>'


async def test_markup_in_the_currency_is_never_shown_or_stored(tmp_path: Path) -> None:
    sandbox = SandboxPanel(currency=EVIL_CURRENCY, step_seconds=10**9)
    async with Harness(
        tmp_path, sandbox, panel_url="https://panel.test/api/v2", panel_key="k" * 32
    ) as bot:
        assert await bot.store.kv.get("currency") is None
        screens = [await bot.say(ADMIN, "/balance"), await bot.tap(USER, cb.SERVICE(1))]
        await bot.tap(USER, cb.START_ORDER(4))
        summary = await bot.say(USER, "https://youtube.com/watch?v=z")
        placed = await bot.tap(USER, summary.button("✅"))
        rows = await bot.orders_of(USER)
        row = rows[0]
        screens += [summary, placed, await bot.tap(USER, cb.ORDER(row.id))]
        screens.append(await bot.say(USER, f"/status {row.panel_order_id}"))
        for screen in screens:
            assert "evil.example" not in screen.text and "<a" not in screen.text, screen.text
        assert await bot.store.kv.get("currency") in (None, "")
        assert row.currency == ""
    # Leaving the harness checks that Telegram would have accepted every message.


async def test_a_stored_currency_with_markup_is_dropped_at_start(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.store.kv.set("currency", EVIL_CURRENCY)
        await bot.state.currency.load()
        assert bot.state.currency.code == "IDR"  # the sandbox's default, not the stored markup


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

    from bot.adapters.panel_http.client import PanelClient
    from bot.adapters.sandbox.panel import SANDBOX_KEY
    from tests.harness import OTHER, eventually

    sandbox = SandboxPanel()
    adds: list[float] = []
    answer_add = asyncio.Event()

    async def slow_add(request: httpx.Request) -> httpx.Response:
        if b"action=add" in request.content:
            adds.append(time.monotonic())
            await answer_add.wait()  # the user's add takes long: until the others are served
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
            told = lambda: [c for c in bot.request.sent(USER) if "Please wait" in c.text]  # noqa: E731
            await eventually(told)
            started = time.monotonic()
            await bot.app.update_queue.put(bot.message_update(OTHER, "/start"))
            await eventually(lambda: bot.request.sent(OTHER), within=10)
            assert time.monotonic() - started < 1.0  # while the user's add still waits
            assert len(told()) == 1
            answer_add.set()
            placed = lambda: any("Order placed" in c.text for c in bot.request.sent(USER))  # noqa: E731
            await eventually(placed, within=20)
            helps = lambda: [c for c in bot.request.sent(USER) if "How to use" in c.text]  # noqa: E731
            await eventually(helps)
            assert len(helps()) <= 10  # the queued ones, not the 600
        finally:
            await bot.app.stop()


async def test_repeated_and_forged_cancels_reach_the_panel_once(tmp_path: Path) -> None:

    async with Harness(tmp_path, SandboxPanel(step_seconds=10**9)) as bot:
        order_id = await place(bot, USER, service_id=1)
        row = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        replies = []
        for _ in range(20):
            bot.clock.advance(3)  # slow enough for the user limit: the cancel checks answer
            replies.append(await bot.tap(USER, cb.CANCEL(row.id)))
        assert "cancellation requested" in replies[0].text
        assert all("cancellation already requested" in r.text for r in replies[1:])
        card = await bot.tap(USER, cb.ORDER(row.id))
        assert not any(data == cb.CANCEL_ASK(row.id) for _, data in card.buttons)
        finished = await place(bot, USER, service_id=1)
        bot.sandbox.set_status(finished, "Completed", remains=0)
        await bot.say(USER, f"/status {finished}")
        done = (await bot.store.orders.by_panel_ids([finished]))[finished]
        forged = await bot.tap(USER, cb.CANCEL(done.id))
        assert "already finished" in forged.text
        not_cancellable = await place(bot, USER, service_id=4)
        other = (await bot.store.orders.by_panel_ids([not_cancellable]))[not_cancellable]
        assert "does not allow cancelling" in (await bot.tap(USER, cb.CANCEL_ASK(other.id))).text
        assert "does not allow cancelling" in (await bot.tap(USER, cb.CANCEL(other.id))).text
        assert bot.sandbox.calls["cancel"] == 1


async def test_a_balance_storm_costs_one_panel_call_and_users_are_limited(
    tmp_path: Path,
) -> None:
    from bot.core.balance import BALANCE_TTL

    async with Harness(tmp_path) as bot:
        bot.clock.advance(BALANCE_TTL)
        calls = bot.sandbox.calls["balance"]
        replies = [await bot.say(USER, "/balance") for _ in range(100)]
        assert bot.sandbox.calls["balance"] == calls + 1
        assert "Balance" in replies[0].text
        assert "You are going too fast. Try again in 2 s." in replies[-1].text
        statuses = bot.sandbox.calls["status"]
        assert "too fast" in (await bot.say(USER, "/status 1")).text
        assert bot.sandbox.calls["status"] == statuses
        bot.clock.advance(60)
        assert "too fast" not in (await bot.say(USER, "/status 1")).text
        admin = [await bot.say(ADMIN, "/balance") for _ in range(30)]
        assert all("Balance" in r.text for r in admin)  # the operator's team is not limited


async def test_a_database_pulled_away_stops_orders_and_alerts_the_admins_once(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(4))
        summary = await bot.say(USER, "https://youtube.com/watch?v=z")
        for name in ("bot.db", "bot.db-wal", "bot.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        refused = await bot.tap(USER, summary.button("✅"))
        assert "cannot take orders right now" in refused.text
        assert bot.sandbox.calls["add"] == 0
        for _ in range(2):
            bot.clock.advance(60)
            await bot.state.tracker.run_cycle(bot.app.bot)
        alerts = [c.text for c in bot.request.sent(ADMIN) if "was removed or replaced" in c.text]
        assert len(alerts) == 1 and str(tmp_path / "bot.db") in alerts[0]
