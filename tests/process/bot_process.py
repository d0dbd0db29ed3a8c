"""The bot as a real process (`python -m bot`, `smm-bot <command>`) and what its tests share."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN

ROOT = Path(__file__).resolve().parents[2]


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


def smm_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    base.update(PYTHONPATH=str(ROOT), BOT_TOKEN=TOKEN, DATABASE_PATH=str(tmp_path / "bot.db"))
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def post(url: str, body: dict[str, object], secret: str | None) -> int:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def start_update(update_id: int) -> dict[str, object]:
    """A /start from user 1, as Telegram posts it to a webhook."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "text": "/start",
            "chat": {"id": 1, "type": "private"},
            "from": {"id": 1, "is_bot": False, "first_name": "A"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def buttons_of(message: dict[str, object]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup")
    if not markup:
        return []
    rows = json.loads(str(markup))["inline_keyboard"]
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]
