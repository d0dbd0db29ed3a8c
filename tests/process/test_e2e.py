"""End to end: `python -m bot` as a real process, talking HTTP to a fake Bot API server."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN
from tests.process.bot_process import start_bot, wait_for


def test_the_bot_process_answers_start_over_real_http(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    bot = start_bot(tmp_path, telegram)
    try:
        telegram.push_text(1, "/start")
        wait_for(lambda: telegram.sent(1))
        reply = telegram.sent(1)[0]
        assert "Welcome" in reply["text"]
        assert "New order" in reply["reply_markup"]
        telegram.push_text(2, "/start", language="id")
        wait_for(lambda: telegram.sent(2))
        assert "Selamat datang" in telegram.sent(2)[0]["text"]
        assert "setMyCommands" in telegram.methods()
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 0, output
    assert TOKEN not in output
    assert "Traceback" not in output
