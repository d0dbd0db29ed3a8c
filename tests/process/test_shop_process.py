"""The shop through the real process: a top-up approved, orders paid, refunds told."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel, SandboxServer
from bot.telegram import callback as cb
from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, TOKEN, USER
from tests.process.bot_process import buttons_of, start_bot, wait_for
from tests.telegram.walks import LINK


def test_the_shop_end_to_end_through_the_real_process(tmp_path: Path) -> None:
    """A customer tops up, an admin approves twice (one credit), the customer orders with
    the markup; the panel cancels one order (refund told) and delivers another in part (the
    exact pro-rata refund); an order above the wallet never reaches the panel."""
    telegram = FakeTelegram(TOKEN).start()
    sandbox = SandboxPanel(step_seconds=3600.0)
    server = SandboxServer(sandbox).start()
    env = {
        "PANEL_URL": server.url,
        "PANEL_KEY": "sandbox",
        "POLL_INTERVAL": "1",
        "WALLETS": "on",
        "MARKUP_PERCENT": "25",
        "DEPOSIT_INSTRUCTIONS": "Transfer to BCA 123456",
        "DEPOSIT_MIN": "10000",
    }
    bot = start_bot(tmp_path, telegram, **env)

    def last(chat: int, containing: str, after: int = 0) -> dict[str, object]:
        """The latest message to `chat`, from the `after`-th on, that contains the text."""

        def found() -> list[dict[str, object]]:
            return [m for m in telegram.sent(chat)[after:] if containing in str(m.get("text"))]

        wait_for(lambda: bool(found()))
        return found()[-1]

    def button(message: dict[str, object], starting: str) -> str:
        return next(data for text, data in buttons_of(message) if text.startswith(starting))

    def order(link: str, quantity: int, expect: str) -> dict[str, object]:
        seen = len(telegram.sent(USER))
        telegram.push_tap(USER, cb.START_ORDER(1))
        last(USER, "Send the link", seen)
        telegram.push_text(USER, link)
        last(USER, "Send the quantity", seen)
        telegram.push_text(USER, str(quantity))
        summary = last(USER, "Check your order", seen)  # drip-feed: an option there
        if "short: top up first" in str(summary["text"]):
            return summary  # nothing to confirm: a Top up instead
        telegram.push_tap(USER, button(summary, "✅"))
        return last(USER, expect, seen)

    try:
        telegram.push_text(USER, "/balance")
        telegram.push_tap(USER, button(last(USER, "Wallet"), "➕"))
        telegram.push_tap(USER, cb.TOP_UP_AMOUNT(100_000))
        last(USER, "BCA 123456")
        telegram.push_text(USER, "ref 42")
        card = last(ADMIN, "Top-up #1")
        telegram.push_tap(ADMIN, button(card, "✅"))
        telegram.push_tap(ADMIN, button(card, "✅"))  # twice: one credit
        last(USER, "was credited")
        first = order(LINK, 100, "Order placed")
        assert "Paid: IDR1,875" in str(first["text"])  # 15,000 per 1000 plus 25 %
        second = order("https://instagram.com/p/two", 1000, "Paid: IDR18,750")
        short = order("https://instagram.com/p/big", 5000, "Check your order")
        assert "IDR14,375 short" in str(short["text"])  # 93,750 against 79,375
        assert button(short, "➕ Top up IDR14,375") == cb.TOP_UP_AMOUNT(14_375)
        assert sandbox.calls["add"] == 2
        ids = sorted(sandbox.orders)
        sandbox.set_status(ids[0], "Canceled", remains=100)
        sandbox.set_status(ids[1], "Partial", remains=333)
        assert "went back" in str(last(USER, "IDR1,875 went back")["text"])
        assert "went back" in str(last(USER, "IDR6,243 went back")["text"])
        assert second
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        server.stop()
        telegram.stop()
    conn = sqlite3.connect(tmp_path / "bot.db")
    entries = [Decimal(a) for (a,) in conn.execute("SELECT amount FROM ledger WHERE user_id = 2")]
    (kept,) = conn.execute("SELECT balance FROM wallets WHERE user_id = 2").fetchone()
    conn.close()
    assert sum(entries) == Decimal(kept) == Decimal(100_000 - 18_750 + 6243)
    assert entries.count(Decimal(100_000)) == 1
