"""The order tracker, with the sandbox panel and a controllable clock."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from bot.adapters.sandbox.panel import SANDBOX_KEY, SandboxPanel
from bot.core.api import OrderStatus
from bot.core.records import DueOrder
from bot.core.tracking import DAY, MAX_BACKOFF, PANEL_DOWN_ALERT, is_news, poll_delay
from tests.harness import ADMIN, OTHER, USER, Clock, Harness
from tests.telegram.walks import delivered, place

BLOCKED = (
    403,
    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
)
BAD_GATEWAY = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


def notices(bot: Harness, user_id: int = USER) -> list[str]:
    return [
        c.text
        for c in bot.request.sent(user_id)
        if "<b>Order" in c.text or "Refill" in c.text or "panel" in c.text.lower()
    ]


def frozen() -> SandboxPanel:
    """A panel whose orders change only when a test says so."""
    return SandboxPanel(step_seconds=10**9)


async def cycle(bot: Harness) -> None:
    """One poll interval later, a tracker cycle."""
    bot.clock.advance(bot.settings.poll_interval)
    await bot.state.tracker.run_cycle(bot.app.bot)


async def test_each_change_gives_exactly_one_notification(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        order_id = await place(bot, USER, quantity=1000)
        await cycle(bot)
        assert notices(bot) == []  # still Pending, as stored
        bot.sandbox.set_status(order_id, "In progress", remains=1000)
        await cycle(bot)
        await cycle(bot)
        assert len(notices(bot)) == 1
        assert "Pending → <b>In progress</b>" in notices(bot)[0]
        assert bot.last(USER).buttons == [("Open the order", bot.last(USER).buttons[0][1])]
        bot.sandbox.set_status(order_id, "In progress", remains=900)  # 10 %: not worth telling
        await cycle(bot)
        assert len(notices(bot)) == 1
        bot.sandbox.set_status(order_id, "In progress", remains=700)  # past 25 %
        await cycle(bot)
        assert len(notices(bot)) == 2 and "30%" in notices(bot)[-1]
        bot.sandbox.set_status(order_id, "Partial", remains=200)
        await cycle(bot)
        assert len(notices(bot)) == 3
        assert "<b>Partial</b>" in notices(bot)[-1] and "Not delivered: 200" in notices(bot)[-1]
        calls = bot.sandbox.calls["status"]
        await cycle(bot)
        await cycle(bot)
        assert bot.sandbox.calls["status"] == calls  # final: no longer polled
        assert len(notices(bot)) == 3


async def test_notifications_speak_the_users_language(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        await bot.say(USER, "/start", language="id")
        await bot.store.users.set_language(USER, "id")
        order_id = await place(bot, USER)
        bot.sandbox.set_status(order_id, "Completed", remains=0)
        await cycle(bot)
        assert "Menunggu → <b>Selesai</b>" in bot.last(USER).text
        assert "Rp" in bot.last(USER).text


async def test_notifications_follow_the_telegram_language_like_every_screen(
    tmp_path: Path,
) -> None:
    """No /language choice: the language of the user's Telegram, as on every other screen."""
    async with Harness(tmp_path, frozen()) as bot:
        assert "Selamat datang" in (await bot.say(OTHER, "/start", language="id")).text
        order_id = await place(bot, OTHER, quantity=1500)
        bot.sandbox.set_status(order_id, "Completed", remains=0)
        await cycle(bot)
        notice = bot.last(OTHER).text
        assert "Menunggu → <b>Selesai</b>" in notice and "Rp" in notice
        await bot.say(OTHER, "/start", language="en")  # they switched Telegram to English
        second = await place(bot, OTHER)
        bot.sandbox.set_status(second, "Completed", remains=0)
        await cycle(bot)
        assert "Pending → <b>Completed</b>" in bot.last(OTHER).text


async def test_250_active_orders_make_3_status_calls_per_cycle(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        for _ in range(250):
            await place(bot, USER)
        for _ in range(2):
            before = bot.sandbox.calls["status"]
            await cycle(bot)
            assert bot.sandbox.calls["status"] - before == 3


async def test_a_restart_between_polling_and_sending_neither_duplicates_nor_drops(
    tmp_path: Path,
) -> None:
    sandbox = frozen()
    clock = Clock()
    async with Harness(tmp_path, sandbox, clock=clock) as bot:
        order_id = await place(bot, USER)
        sandbox.set_status(order_id, "Completed", remains=0)
        bot.request.fail_with["sendMessage"] = [BAD_GATEWAY] * 10
        await cycle(bot)  # the change is stored, its message could not be sent
        assert notices(bot) == []
        assert await bot.store.outbox.count() == 1
    async with Harness(tmp_path, sandbox, clock=clock) as bot:  # restarted
        await cycle(bot)
        await cycle(bot)
        assert len(notices(bot)) == 1 and "Completed" in notices(bot)[0]
        assert await bot.store.outbox.count() == 0
    async with Harness(tmp_path, sandbox, clock=clock) as bot:  # and again
        await cycle(bot)
        assert notices(bot) == []


async def test_a_user_who_blocked_the_bot_is_marked_and_not_messaged(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        await bot.say(USER, "/start")
        first, second = await place(bot, USER), await place(bot, USER)
        bot.request.fail_with["sendMessage"] = [BLOCKED]
        bot.sandbox.set_status(first, "In progress", remains=100)
        await cycle(bot)
        assert (await bot.store.users.get(USER)).blocked  # type: ignore[union-attr]
        sent = len(bot.request.sent(USER))
        bot.sandbox.set_status(second, "In progress", remains=100)
        await cycle(bot)
        assert len(bot.request.sent(USER)) == sent  # not messaged again...
        stored = (await bot.store.orders.by_panel_ids([second]))[second]
        assert stored.status == "In progress"  # ...but still tracked
        await bot.say(USER, "/start")  # they write again
        assert not (await bot.store.users.get(USER)).blocked  # type: ignore[union-attr]
        bot.sandbox.set_status(second, "Completed", remains=0)
        await cycle(bot)
        assert "Completed" in bot.last(USER).text


async def test_notifications_off_stores_changes_but_sends_nothing(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        reply = await bot.say(USER, "/notifications")
        assert "on" in reply.text
        reply = await bot.tap(USER, reply.button("🔕"))
        assert "off" in reply.text
        order_id = await place(bot, USER)
        bot.sandbox.set_status(order_id, "Completed", remains=0)
        sent = len(bot.request.sent(USER))
        await cycle(bot)
        assert len(bot.request.sent(USER)) == sent
        stored = (await bot.store.orders.by_panel_ids([order_id]))[order_id]
        assert stored.status == "Completed" and stored.final


async def test_panel_down_backs_off_and_alerts_the_admins_once_each_way(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        await place(bot, USER)
        bot.sandbox.fail_next("500", times=1000)
        requests = len(bot.sandbox.requests)
        await cycle(bot)
        report = bot.state.tracker.last_cycle
        assert report is not None and not report.panel_ok
        attempts = len(bot.sandbox._faults)
        bot.clock.advance(30)  # inside the backoff: not even tried
        await bot.state.tracker.run_cycle(bot.app.bot)
        assert len(bot.sandbox._faults) == attempts
        elapsed = 0.0
        while elapsed < PANEL_DOWN_ALERT + 3600:
            elapsed += bot.settings.poll_interval
            await cycle(bot)
        alerts = [t for t in notices(bot, ADMIN) if "unreachable" in t]
        assert len(alerts) == 1
        assert 1000 - len(bot.sandbox._faults) < 40  # capped exponential backoff, not a storm
        bot.sandbox._faults.clear()
        bot.clock.advance(3600)
        await cycle(bot)
        await cycle(bot)
        back = [t for t in notices(bot, ADMIN) if "reachable again" in t]
        assert len(back) == 1
        assert len(bot.sandbox.requests) > requests
        assert not any("reachable" in t for t in notices(bot, USER))  # only admins are told


async def test_a_short_outage_sends_no_alert(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        await place(bot, USER)
        bot.sandbox.fail_next("timeout", times=3)
        await cycle(bot)
        bot.clock.advance(60)
        await cycle(bot)
        assert notices(bot, ADMIN) == []


async def test_low_balance_alert_once_until_it_recovers(tmp_path: Path) -> None:
    sandbox = SandboxPanel(balance=Decimal("40000"))
    async with Harness(tmp_path, sandbox, low_balance="50000") as bot:
        await cycle(bot)
        await cycle(bot)
        alerts = [c.text for c in bot.request.sent(ADMIN) if "balance is low" in c.text]
        assert len(alerts) == 1 and "IDR40,000" in alerts[0]
        sandbox.balance = Decimal("60000")
        await cycle(bot)
        sandbox.balance = Decimal("10000")
        await cycle(bot)
        alerts = [c.text for c in bot.request.sent(ADMIN) if "balance is low" in c.text]
        assert len(alerts) == 2


async def test_refill_changes_are_announced(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        order_id = await place(bot, USER)
        await delivered(bot, order_id)
        await bot.say(USER, f"/refill {order_id}")
        bot.sandbox.set_refill_status(501, "Completed")
        await cycle(bot)
        assert "Refill 501 of order" in bot.last(USER).text
        assert "<b>Completed</b>" in bot.last(USER).text
        calls = bot.sandbox.calls["refill_status"]
        await cycle(bot)
        assert bot.sandbox.calls["refill_status"] == calls  # final: no longer polled


async def test_old_orders_are_polled_less_often(tmp_path: Path) -> None:
    assert poll_delay(3600, 60) is None  # every cycle
    assert poll_delay(2 * DAY, 60) == 300
    assert poll_delay(4 * DAY, 60) == 1800
    assert poll_delay(30 * DAY, 60) == 3600
    assert poll_delay(30 * DAY, 600) == 6 * 3600  # capped
    async with Harness(tmp_path, frozen()) as bot:
        order_id = await place(bot, USER)
        bot.sandbox.set_status(order_id, "In progress", remains=10)
        bot.clock.advance(4 * DAY)
        await cycle(bot)
        calls = bot.sandbox.calls["status"]
        for _ in range(10):
            await cycle(bot)  # a minute each
        assert bot.sandbox.calls["status"] == calls  # next check in 30 minutes
        bot.clock.advance(1200)
        await cycle(bot)
        assert bot.sandbox.calls["status"] == calls + 1
        await cycle(bot)  # unchanged this time: rescheduled all the same
        assert bot.sandbox.calls["status"] == calls + 1


async def test_an_unchanged_young_order_costs_no_write(tmp_path: Path) -> None:
    """Polled every cycle, an order whose status did not move leaves the database alone."""
    async with Harness(tmp_path, frozen()) as bot:
        order_id = await place(bot, USER)
        bot.sandbox.set_status(order_id, "In progress", remains=10)
        await cycle(bot)
        db = bot.store.db.conn
        writes = db.total_changes
        calls = bot.sandbox.calls["status"]
        await cycle(bot)
        await cycle(bot)
        assert bot.sandbox.calls["status"] == calls + 2  # still polled every cycle
        assert db.total_changes == writes
        bot.sandbox.set_status(order_id, "Completed", remains=0)
        await cycle(bot)
        assert db.total_changes > writes
        assert (await bot.store.orders.get(1)).status == "Completed"  # type: ignore[union-attr]


def test_what_counts_as_news() -> None:
    order = DueOrder(1, 10, "In progress", 1000, 1000, 0.0)
    assert not is_news(order, OrderStatus.model_validate({"status": "in progress", "remains": 800}))
    assert is_news(order, OrderStatus.model_validate({"status": "In progress", "remains": 700}))
    assert is_news(order, OrderStatus.model_validate({"status": "Completed", "remains": 0}))
    assert is_news(order, OrderStatus.model_validate({"status": "Awaiting"}))


async def test_a_refused_key_alerts_the_admins_once_and_not_as_an_outage(tmp_path: Path) -> None:
    sandbox = SandboxPanel(step_seconds=10**9, refusal_status=True)
    async with Harness(tmp_path, sandbox) as bot:
        await place(bot, USER)
        sandbox.key = "revoked"
        for _ in range(5):
            bot.clock.advance(PANEL_DOWN_ALERT)
            await cycle(bot)
        alerts = notices(bot, ADMIN)
        assert len(alerts) == 1 and "refuses the bot's API key" in alerts[0]
        assert "“Incorrect API key”" in alerts[0] and "unreachable" not in alerts[0]
        sandbox.key = SANDBOX_KEY
        bot.clock.advance(MAX_BACKOFF)
        await cycle(bot)
        assert "reachable again" in notices(bot, ADMIN)[-1]


async def test_a_rate_limited_cycle_waits_out_the_window_and_finishes(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        bot.sandbox.clock = bot.clock  # arrival times on the bot's timeline
        order_id = await place(bot, USER)
        bot.sandbox.set_status(order_id, "Completed", remains=0)
        bot.sandbox.fail_next("429", action="status")
        await cycle(bot)
        assert "<b>Completed</b>" in bot.last(USER).text
        assert notices(bot, ADMIN) == []
        polls = [at for at, action in bot.sandbox.received if action == "status"]
        assert len(polls) == 2 and polls[1] - polls[0] >= 60  # nothing inside the window


async def test_a_notification_says_which_order_and_what_changed_in_words(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        order_id = await place(bot, USER, quantity=1000)
        bot.sandbox.set_status(order_id, "In progress", remains=1000)
        await cycle(bot)
        first = notices(bot)[-1]
        assert "🔗 instagram.com/p/abc · quantity 1,000" in first
        bot.sandbox.set_status(order_id, "In progress", remains=190)
        await cycle(bot)
        progress = notices(bot)[-1]
        assert (
            "81 % delivered" in progress and "→" not in progress
        )  # no "In progress → In progress"
        bot.sandbox.set_status(order_id, "Canceled", remains=190)
        await cycle(bot)
        canceled = notices(bot)[-1]
        assert "In progress → <b>Canceled</b>" in canceled
        assert "Not delivered: 190 of 1,000. The panel refunds IDR15,000." in canceled
        await bot.say(USER, "/start", language="id")
        await bot.store.users.set_language(USER, "id")
        second = await place(bot, USER, quantity=1000)
        bot.sandbox.set_status(second, "In progress", remains=500)
        await cycle(bot)
        assert "jumlah 1.000" in bot.last(USER).text


async def test_open_the_order_sends_the_card_and_keeps_the_notification(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        order_id = await place(bot, USER)
        bot.sandbox.set_status(order_id, "Completed", remains=0)
        await cycle(bot)
        notice = bot.last(USER)
        sent = len(bot.request.sent(USER))
        card = await bot.tap(USER, notice.button("Open the order"))
        assert card.method == "sendMessage" and f"<b>Order {order_id}</b>" in card.text
        assert len(bot.request.sent(USER)) == sent + 1  # a new message; the notice unchanged
        refill = await bot.tap(USER, card.button("♻️"))
        await bot.tap(USER, refill.button("Yes"))
        bot.sandbox.set_refill_status(501, "Completed")
        await cycle(bot)
        refilled = bot.last(USER)
        assert f"Refill 501 of order {order_id}" in refilled.text
        card = await bot.tap(USER, refilled.button("Open the order"))
        assert "♻️ Refill 501: Completed" in card.text
