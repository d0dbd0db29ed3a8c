"""End to end: `python -m bot` as a real process, talking HTTP to a fake Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN).start()
    yield fake
    fake.stop()


def start_bot(
    tmp_path: Path, telegram: FakeTelegram, *, output: IO[str] | int = subprocess.PIPE, **env: str
) -> subprocess.Popen[str]:
    """The bot as a process. Its output goes to a pipe read at the end (a long run must pass
    a file: a full pipe blocks the bot's next log line)."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    base.update(
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        PANEL_URL="sandbox",
        TELEGRAM_API_URL=telegram.api_url,
        DATABASE_PATH=str(tmp_path / "bot.db"),
        ADMIN_IDS="1",
        ALLOWED_IDS="2",
        POLL_INTERVAL="3600",
    )
    base.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=base,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


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
