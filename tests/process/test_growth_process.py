"""Referrals, promo codes and a support ticket end to end, through the real process: a
referred customer tops up with a code and orders with another, the referrer is credited; a
ticket goes back and forth."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel, SandboxServer
from bot.telegram import callback as cb
from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, OTHER, TOKEN, USER
from tests.process.bot_process import buttons_of, start_bot, wait_for
from tests.telegram.walks import LINK


def test_referrals_promo_codes_and_a_ticket_through_the_real_process(tmp_path: Path) -> None:
    telegram = FakeTelegram(TOKEN).start()
    sandbox = SandboxPanel(step_seconds=3600.0)
    server = SandboxServer(sandbox).start()
    env = {
        "PANEL_URL": server.url,
        "PANEL_KEY": "sandbox",
        "WALLETS": "on",
        "MARKUP_PERCENT": "25",
        "DEPOSIT_INSTRUCTIONS": "Transfer to BCA 123456",
        "REFERRAL_PERCENT": "10",
        "ALLOWED_IDS": f"{USER},{OTHER}",
    }
    bot = start_bot(tmp_path, telegram, **env)

    def last(chat: int, containing: str, after: int = 0) -> dict[str, object]:
        def found() -> list[dict[str, object]]:
            return [
                m
                for m in telegram.sent(chat)[after:]
                if containing in str(m.get("text", m.get("caption")))
            ]

        wait_for(lambda: bool(found()))
        return found()[-1]

    def button(message: dict[str, object], starting: str) -> str:
        return next(data for text, data in buttons_of(message) if text.startswith(starting))

    try:
        telegram.push_text(USER, "/referrals")
        screen = last(USER, "Referrals")
        rows = json.loads(str(screen["reply_markup"]))["inline_keyboard"]
        link = next(b["copy_text"]["text"] for row in rows for b in row if "copy_text" in b)
        code = re.search(r"start=ref_(\w+)", link)
        assert code is not None
        telegram.push_text(OTHER, f"/start ref_{code.group(1)}")
        last(OTHER, "friend's link")
        telegram.push_text(ADMIN, "/promo add BONUS topup 5000")
        last(ADMIN, "Code BONUS created")
        telegram.push_text(ADMIN, "/promo add SALE order 10%")
        last(ADMIN, "Code SALE created")
        # a top-up with a code
        telegram.push_text(OTHER, "/balance")
        telegram.push_tap(OTHER, button(last(OTHER, "Wallet"), "➕"))
        last(OTHER, "Have a promo code?")
        telegram.push_text(OTHER, "100000 BONUS")
        last(OTHER, "BCA 123456")
        telegram.push_text(OTHER, "ref 42")
        card = last(ADMIN, "Top-up #1")
        telegram.push_tap(ADMIN, button(card, "✅"))
        assert "IDR105,000" in str(last(OTHER, "promo bonus of IDR5,000")["text"])
        # an order with a code: the referrer's share of what was paid
        seen = len(telegram.sent(OTHER))
        telegram.push_tap(OTHER, cb.START_ORDER(1))
        last(OTHER, "Send the link", seen)
        telegram.push_text(OTHER, LINK)
        last(OTHER, "Send the quantity", seen)
        telegram.push_text(OTHER, "1000")
        last(OTHER, "Have a promo code? Type it here.", seen)  # on the summary
        telegram.push_text(OTHER, "sale")
        summary = last(OTHER, "Promo code SALE: −IDR1,875", seen)
        assert "Price: <b>IDR16,875</b>" in str(summary["text"])
        telegram.push_tap(OTHER, button(summary, "✅"))
        last(OTHER, "Order placed", seen)
        telegram.push_text(USER, "/referrals")
        assert "Earned in all: <b>IDR1,687</b>" in str(last(USER, "You brought 1 customer")["text"])
        # a ticket, back and forth
        telegram.push_tap(OTHER, cb.SUPPORT())
        last(OTHER, "opens a ticket")
        telegram.push_text(OTHER, "Where is my order?")
        last(OTHER, "Ticket #1 is open")
        ticket = last(ADMIN, "New ticket #1")
        assert "Where is my order?" in str(ticket["text"])
        telegram.push_tap(ADMIN, button(ticket, "↩️"))
        last(ADMIN, "Send your answer to ticket #1")
        telegram.push_text(ADMIN, "On its way")
        assert "On its way" in str(last(OTHER, "ticket #1")["text"])
    finally:
        bot.terminate()
        output, _ = bot.communicate(timeout=30)
        server.stop()
        telegram.stop()
    assert "Traceback" not in output, output
