"""A charged order is never lost: interrupted submissions are announced after a restart and
can be attached to the panel's order by hand; a placed order the database would not store
keeps its id (user, admins, log) and stops new orders."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.adapters.sandbox.panel import SandboxPanel
from bot.adapters.sqlite.orders import OrderRepo
from bot.core import checkout as ordering
from bot.core.drafts import OrderDraft
from bot.core.ports import StorageFailed
from bot.core.records import Outcome
from bot.telegram import callback as cb
from tests.harness import ADMIN, OTHER, USER, Clock, Harness

LINK = "https://youtube.com/watch?v=lost"


async def test_an_interrupted_order_is_announced_and_can_be_attached(tmp_path: Path) -> None:
    clock = Clock()
    sandbox = SandboxPanel(clock=clock, step_seconds=10**9)
    async with Harness(tmp_path, sandbox, clock=clock) as bot:
        index = await bot.catalog.get()
        draft = OrderDraft(service_id=4, values={"link": LINK})
        row, _ = await bot.store.orders.record_intent(
            intent_key=draft.key,
            user_id=USER,
            service=index.by_id[4],
            fields=draft.fields(),
            quantity=1,
            price=index.by_id[4].rate,
            currency="IDR",
            paid=None,
            cost=None,
        )
        # The panel placed it; the bot was killed before it stored the answer.
        panel_id = sandbox.handle(
            {"key": sandbox.key, "action": "add", "service": "4", "link": LINK}
        )["order"]
    async with Harness(tmp_path, sandbox, clock=clock) as bot:  # the restart
        await bot.state.tracker.run_cycle(bot.app.bot)
        notice = bot.last(USER)
        assert "was interrupted by a restart" in notice.text and LINK in notice.text
        assert f"/found {row.id}" in notice.text
        card = await bot.tap(USER, notice.button("Open the order"))
        assert "Order (outcome unknown)" in card.text and "not placed" not in card.text
        assert "not found" in (await bot.say(USER, f"/status {panel_id}")).text
        assert (
            "does not know order #999999" in (await bot.say(USER, f"/found {row.id} 999999")).text
        )
        assert "no order" in (await bot.say(OTHER, f"/found {row.id} {panel_id}")).text
        attached = await bot.say(USER, f"/found {row.id} #{panel_id}")
        assert f"Order #{panel_id} is attached" in attached.text and "Pending" in attached.text
        status = await bot.say(USER, f"/status {panel_id}")
        assert f"<b>#{panel_id}</b>: Pending" in status.text
        stored = await bot.store.orders.get(row.id)
        assert stored is not None and stored.outcome is Outcome.PLACED
        again = await bot.say(USER, f"/found {row.id} {panel_id}")
        assert "is not waiting for a panel order id" in again.text
        sandbox.set_status(panel_id, "Completed", remains=0)
        bot.clock.advance(60)
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert "<b>Completed</b>" in bot.last(USER).text  # followed like any other


async def test_a_placed_order_the_database_will_not_store_keeps_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ordering, "STORE_RETRY_PAUSES", (0.0, 0.0, 0.0))
    async with Harness(tmp_path) as bot:
        writes: list[int] = []

        async def failing_write(repo: object, row_id: int, panel_order_id: int) -> None:
            writes.append(panel_order_id)
            raise StorageFailed("disk I/O error")

        monkeypatch.setattr(OrderRepo, "set_placed", failing_write)
        await bot.tap(USER, cb.START_ORDER(4))
        summary = await bot.say(USER, LINK)
        with caplog.at_level(logging.CRITICAL):
            reply = await bot.tap(USER, summary.button("✅"))
        panel_id = next(iter(bot.sandbox.orders))
        assert f"accepted your order <b>#{panel_id}</b>" in reply.text
        assert writes == [panel_id] * 3  # tried again before giving up
        assert any(f"order {panel_id} was placed" in r.getMessage() for r in caplog.records)
        alert = bot.last(ADMIN)
        assert f"Order #{panel_id}" in alert.text and "could not be stored" in alert.text
        assert alert.button("🏠") == cb.MENU()  # a way on, even for an alert
        await bot.tap(USER, cb.START_ORDER(4))
        refused = await bot.tap(USER, (await bot.say(USER, LINK)).button("✅"))
        assert "cannot take orders right now" in refused.text
        assert bot.sandbox.calls["add"] == 1
