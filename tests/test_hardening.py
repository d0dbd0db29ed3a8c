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
