"""Issue 25, points 7-9 through the real screens: My orders opens where the orders are, its
lines say when and how much; /cancel of a finished order refuses at once; replies of the
order commands end with a way on."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel
from bot.telegram import callback as cb
from tests.harness import USER, Harness
from tests.telegram.walks import LINK, place


def frozen() -> SandboxPanel:
    return SandboxPanel(step_seconds=10**9)


async def finish(bot: Harness, panel_id: int) -> None:
    bot.sandbox.set_status(panel_id, "Completed", remains=0)
    bot.clock.advance(bot.settings.poll_interval)
    await bot.state.tracker.run_cycle(bot.app.bot)


async def test_my_orders_opens_on_the_tab_that_has_orders(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        panel_id = await place(bot, USER, quantity=1000)
        await finish(bot, panel_id)
        menu = await bot.say(USER, "/start")
        listing = await bot.tap(USER, menu.button("📦"))
        assert "No orders here" not in listing.text
        assert f"#{panel_id}" in listing.text and "• All (1)" in [t for t, _ in listing.buttons]
        lines = listing.text.split("\n")
        assert "1,000 · Instagram Followers" in listing.text  # no "×" but for a drip-feed
        assert any(line.startswith("📅 ") and line.endswith("· IDR15,000") for line in lines)
        listing = await bot.say(USER, "/orders", language="id")
        assert any(
            line.startswith("📅 ") and "Rp15.000" in line for line in listing.text.split("\n")
        )


async def test_a_drip_feed_reads_the_same_in_list_and_card(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(1))
        await bot.say(USER, "https://instagram.com/p/drip")
        summary = await bot.say(USER, "500")
        runs = await bot.tap(USER, summary.button("💧"))
        assert "runs" in runs.text.lower()
        await bot.say(USER, "5")
        summary = await bot.say(USER, "30")
        placed = await bot.tap(USER, summary.button("✅"))
        listing = await bot.say(USER, "/orders")
        assert "500 × 5 runs = 2,500" in placed.text
        assert "500 × 5 runs = 2,500 · Instagram" in listing.text


async def test_cancel_of_a_finished_order_refuses_at_once(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        panel_id = await place(bot, USER)
        await finish(bot, panel_id)
        for language, words in (("en", "finished"), ("id", "")):
            reply = await bot.say(USER, f"/cancel {panel_id}", language=language)
            assert f"#{panel_id}" in reply.text and words in reply.text
            assert not any(data == cb.CANCEL_LISTED() for _, data in reply.buttons)
            assert reply.button("🏠")  # and a way on
        assert bot.sandbox.calls["cancel"] == 0


async def test_order_command_replies_end_with_a_way_on(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        panel_id = await place(bot, USER)
        status = await bot.say(USER, f"/status {panel_id}")
        assert status.button("📦") and status.button("🏠")
        ask = await bot.say(USER, f"/cancel {panel_id}")
        done = await bot.tap(USER, ask.button("Yes"))
        assert "cancellation requested" in done.text and done.button("🏠")
        await finish(bot, panel_id)
        refill = await bot.say(USER, f"/refill {panel_id}", language="id")
        assert refill.button("🏠")
        refill_status = await bot.say(USER, "/refill_status 1")
        assert refill_status.button("🏠")


async def test_the_same_link_warning_is_for_the_same_service_only(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        likes = await place(bot, USER, service_id=2)
        await bot.tap(USER, cb.START_ORDER(1))  # another service, after likes on one post
        await bot.say(USER, LINK)
        other = await bot.say(USER, "100")
        assert "Check your order" in other.text and "⚠️" not in other.text
        await bot.tap(USER, cb.START_ORDER(2))  # likes again on it: warned
        await bot.say(USER, LINK, language="id")
        same = await bot.say(USER, "100", language="id")
        assert f"#{likes}" in same.text and "⚠️" in same.text
        mass = await bot.say(USER, f"2|{LINK}2|100\n1|{LINK}2|100")
        assert "2 orders, total" in mass.text


async def test_indonesian_as_resellers_speak_it(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        menu = await bot.say(USER, "/start", language="id")
        labels = [text for text, _ in menu.buttons]
        assert "🛒 Order baru" in labels and "📦 Order saya" in labels
        panel_id = await place(bot, USER)
        bot.sandbox.set_status(panel_id, "In progress", remains=50)
        row = (await bot.store.orders.by_panel_ids([panel_id]))[panel_id]
        card = await bot.tap(USER, cb.REFRESH(row.id), language="id")
        assert "<b>Order " in card.text and "Start count: 2.037" in card.text
        assert "Pesanan" not in card.text and "Jumlah awal" not in card.text
    async with Harness(tmp_path / "shop", wallets="on", markup_percent="30") as shop:
        wallet = await shop.say(USER, "/balance", language="id")
        assert "Saldo" in wallet.text and "Dompet" not in wallet.text
        rules = await shop.say(1, "/markup", language="id")
        assert "30%" in rules.text and "30 %" not in rules.text


async def test_refresh_compares_with_the_card_the_user_saw(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen()) as bot:
        panel_id = await place(bot, USER, quantity=1000)
        row = (await bot.store.orders.by_panel_ids([panel_id]))[panel_id]
        card = await bot.tap(USER, cb.ORDER(row.id))
        assert "Pending" in card.text
        bot.sandbox.set_status(panel_id, "In progress", remains=500)
        bot.clock.advance(bot.settings.poll_interval)
        await bot.state.tracker.run_cycle(bot.app.bot)  # stored as changed, behind the card
        refreshed = await bot.tap(USER, card.button("🔄"))
        assert "In progress" in refreshed.text
        assert "No change" not in refreshed.text  # the card the user saw did change
        again = await bot.tap(USER, refreshed.button("🔄"))
        assert again.text.startswith("No change since the last look.")
        again = await bot.tap(USER, again.button("🔄"), language="id")
        assert again.text.startswith("Belum ada perubahan sejak terakhir dilihat.")
