"""Starting and stopping `python -m bot` (and `make run`) as an operator does: a refused token,
no network, an unreadable database, Ctrl-C twice. One clear line, never a traceback or a hang."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from telegram.error import Conflict, NetworkError

from bot.adapters.sandbox.panel import SandboxPanel, SandboxServer
from bot.telegram.runner import PollingFailures
from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN
from tests.process.bot_process import (
    ROOT,
    free_port,
    post,
    smm_bot,
    start_bot,
    start_update,
    wait_for,
)

WRONG_TOKEN = "987654:this-token-was-revoked-long-ago"


class Output:
    """The bot's output, in a file read while it runs."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "bot.log"
        self.file = self.path.open("w")

    def text(self) -> str:
        return self.path.read_text()

    def lines(self, containing: str) -> list[str]:
        return [line for line in self.text().splitlines() if containing in line]


def assert_clean(output: str) -> None:
    assert "Traceback" not in output, output
    assert TOKEN not in output and WRONG_TOKEN not in output, output


def database_intact(path: Path) -> bool:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()


def test_a_refused_token_is_one_line_and_exit_2(tmp_path: Path, telegram: FakeTelegram) -> None:
    bot = start_bot(tmp_path, telegram, BOT_TOKEN=WRONG_TOKEN)
    output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 2, output
    assert_clean(output)
    refusals = [line for line in output.splitlines() if "BOT_TOKEN" in line]
    assert len(refusals) == 1 and "Telegram refuses BOT_TOKEN" in refusals[0]


def test_a_refused_token_in_json_logs(tmp_path: Path, telegram: FakeTelegram) -> None:
    bot = start_bot(tmp_path, telegram, BOT_TOKEN=WRONG_TOKEN, LOG_FORMAT="json")
    output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 2, output
    entries = [json.loads(line) for line in output.splitlines()]
    assert any("Telegram refuses BOT_TOKEN" in e["message"] for e in entries)
    assert_clean(output)


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
def test_telegram_unreachable_at_start_is_waited_for(tmp_path: Path, webhook: bool) -> None:
    """A service started before the network: one line per attempt, then it comes up alone."""
    port = free_port()  # nothing listens there yet
    env = {"TELEGRAM_API_URL": f"http://127.0.0.1:{port}/bot"}
    if webhook:
        env.update(
            WEBHOOK_URL="https://bot.example.test/hook",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(free_port()),
        )
    output = Output(tmp_path)
    bot = start_bot(tmp_path, FakeTelegram(TOKEN), output=output.file, **env)
    try:
        wait_for(lambda: len(output.lines("connecting to Telegram failed")) >= 2, 20)
        attempt = output.lines("connecting to Telegram failed")[0]
        assert "next attempt in 2 s" in attempt
        assert "next attempt in 4 s" in output.lines("connecting to Telegram failed")[1]
        telegram = FakeTelegram(TOKEN, port=port).start()  # the network is there now
        try:
            expected = "setWebhook" if webhook else "deleteWebhook"  # polling starts
            wait_for(lambda: expected in telegram.methods(), 30)
            if not webhook:
                telegram.push_text(1, "/start")
                wait_for(lambda: telegram.sent(1), 20)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=20)
            telegram.stop()
    finally:
        if bot.poll() is None:
            bot.kill()
    assert bot.returncode == 0, output.text()
    assert_clean(output.text())


def test_stopped_while_waiting_for_telegram(tmp_path: Path) -> None:
    output = Output(tmp_path)
    unreachable = {"TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}/bot"}
    bot = start_bot(tmp_path, FakeTelegram(TOKEN), output=output.file, **unreachable)
    wait_for(lambda: output.lines("connecting to Telegram failed"), 20)
    bot.send_signal(signal.SIGINT)
    assert bot.wait(timeout=10) == 0
    assert_clean(output.text())


def test_an_unreadable_database_is_one_line_before_telegram_is_asked(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    (tmp_path / "bot.db").write_bytes(b"this is not a database, it is a text file " * 100)
    for log_format in ("text", "json"):
        bot = start_bot(tmp_path, telegram, LOG_FORMAT=log_format)
        output, _ = bot.communicate(timeout=30)
        assert bot.returncode == 1, output
        assert_clean(output)
        lines = output.strip().splitlines()
        assert len(lines) == 1, output
        message = json.loads(lines[0])["message"] if log_format == "json" else lines[0]
        assert f"The database {tmp_path / 'bot.db'} cannot be used" in message
        assert "Restore a backup" in message
    assert telegram.methods() == []


UNWRITABLE = Path("/sys/kernel")
"""sysfs takes no new file, not even from root (who may write anywhere else)."""


def the_one_line(output: str) -> str:
    assert_clean(output)
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.skipif(not UNWRITABLE.is_dir(), reason="needs sysfs")
def test_an_unwritable_database_directory_is_one_line_every_time_and_fails_check(
    tmp_path: Path, telegram: FakeTelegram
) -> None:

    database = str(UNWRITABLE / "bot.db")
    expected = (
        f"The directory {UNWRITABLE} is not writable by the user the bot runs as "
        f"(uid {os.getuid()})"
    )
    for _ in range(3):  # aiosqlite's thread once raced the loop's close: a traceback in four
        bot = start_bot(tmp_path, telegram, DATABASE_PATH=database)
        output, _ = bot.communicate(timeout=30)
        assert bot.returncode == 2, output
        assert expected in the_one_line(output)
        assert "Restore a backup" not in output
    assert telegram.methods() == []
    checked = smm_bot(
        tmp_path,
        "check",
        PANEL_URL="sandbox",
        TELEGRAM_API_URL=telegram.api_url,
        DATABASE_PATH=database,
    )
    assert checked.returncode == 1
    assert f"database: FAILED ({expected}" in checked.stdout
    webhook = smm_bot(  # the webhook secret is kept beside the database
        tmp_path,
        "check",
        PANEL_URL="sandbox",
        DATABASE_PATH=database,
        WEBHOOK_URL="https://bot.example.test/hook",
    )
    assert webhook.returncode == 2 and expected in the_one_line(webhook.stderr)


def test_a_file_in_the_way_of_the_database_directory_is_one_line(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    (tmp_path / "data").write_text("a file where the directory should be")
    bot = start_bot(tmp_path, telegram, DATABASE_PATH=str(tmp_path / "data" / "bot.db"))
    output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 2, output
    assert f"The database directory {tmp_path / 'data'} cannot be made" in the_one_line(output)


def test_a_database_of_a_newer_version_is_refused_untouched(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    connection = sqlite3.connect(tmp_path / "bot.db")
    connection.executescript(
        "CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (99);"
    )
    connection.close()
    before = (tmp_path / "bot.db").read_bytes()
    bot = start_bot(tmp_path, telegram)
    output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 2, output
    assert "is of a newer version of the bot (schema 99; this one knows" in the_one_line(output)
    assert (tmp_path / "bot.db").read_bytes() == before
    assert not list(tmp_path.glob("*.bak"))


def test_a_second_bot_on_the_same_database_is_refused(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    first = _running(tmp_path, telegram)
    try:
        second = start_bot(tmp_path, telegram)
        output, _ = second.communicate(timeout=30)
        assert second.returncode == 2, output
        line = the_one_line(output)
        assert f"Another bot (pid {first.pid}) is running on the database" in line
        telegram.push_text(1, "/start")
        wait_for(lambda: telegram.sent(1), 20)  # the first one goes on
    finally:
        first.send_signal(signal.SIGTERM)
        output, _ = first.communicate(timeout=20)
    assert first.returncode == 0, output
    telegram.calls.clear()
    again = _running(tmp_path, telegram)  # the lock went with the first bot
    again.send_signal(signal.SIGTERM)
    assert again.wait(timeout=20) == 0


class PolledElsewhere(FakeTelegram):
    """Another process polls with the same token, then stops: a 409 Conflict."""

    conflicts = 1

    def handle(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if path.endswith("/getUpdates") and self.conflicts:
            self.conflicts -= 1
            description = "Conflict: terminated by other getUpdates request"
            return 409, {"ok": False, "error_code": 409, "description": description}
        return super().handle(path, content_type, body)


def test_a_second_bot_with_the_same_token_elsewhere_is_said_once(tmp_path: Path) -> None:
    telegram = PolledElsewhere(TOKEN).start()
    bot = start_bot(tmp_path, telegram)
    try:
        wait_for(lambda: not telegram.conflicts, 20)
        telegram.push_text(1, "/start")
        wait_for(lambda: telegram.sent(1), 20)  # polling goes on
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=20)
        telegram.stop()
    assert bot.returncode == 0, output
    assert_clean(output)
    told = [line for line in output.splitlines() if "409 Conflict" in line]
    assert len(told) == 1 and "a second bot runs with the same BOT_TOKEN" in told[0], output


def test_a_conflict_is_said_once_however_often_polling_meets_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = PollingFailures()
    for _ in range(3):
        failed(Conflict("Conflict: terminated by other getUpdates request"))
    failed(NetworkError("connection reset"))
    assert [r.levelname for r in caplog.records if r.name == "bot.telegram.runner"] == [
        "ERROR",
        "WARNING",
    ]


def test_the_first_start_without_admins_tells_the_operator_their_id(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    """The README's first try: no ADMIN_IDS yet, write to the bot, read your id."""
    bot = start_bot(tmp_path, telegram, ADMIN_IDS="", ALLOWED_IDS="")
    try:
        wait_for(lambda: "deleteWebhook" in telegram.methods(), 30)
        telegram.push_text(424242, "/start")
        wait_for(lambda: telegram.sent(424242), 20)
        assert "<code>424242</code>" in telegram.sent(424242)[0]["text"]
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=20)
    assert bot.returncode == 0, output
    assert_clean(output)
    assert "WARNING bot.app: no ADMIN_IDS" in output
    assert "refused user 424242: not in ADMIN_IDS or ALLOWED_IDS" in output


def _running(tmp_path: Path, telegram: FakeTelegram, **env: str) -> subprocess.Popen[str]:
    bot = start_bot(tmp_path, telegram, **env)
    wait_for(lambda: "deleteWebhook" in telegram.methods(), 30)  # polling starts
    return bot


def test_two_signals_10_ms_apart_stop_the_bot_cleanly(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        telegram.calls.clear()
        bot = _running(tmp_path, telegram)
        telegram.push_text(1, "/start")
        wait_for(lambda: telegram.sent(1), 20)
        bot.send_signal(sig)
        time.sleep(0.01)
        bot.send_signal(sig)
        output, _ = bot.communicate(timeout=10)
        assert bot.returncode == 0, output
        assert_clean(output)
        assert "bot stopped" in output
        assert database_intact(tmp_path / "bot.db")


def test_a_third_signal_exits_at_once_with_the_database_intact(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    server = SandboxServer(SandboxPanel(latency=20)).start()  # a handler waits on the panel
    try:
        bot = _running(tmp_path, telegram, PANEL_URL=server.url, PANEL_KEY="sandbox")
        wait_for(lambda: server.panel.received, 20)  # the balance asked at start, 20 s long
        telegram.push_text(1, "/balance")  # shares that answer: a handler in flight
        time.sleep(1.5)  # fetched within half a second (long polling answers at once)
        started = time.monotonic()
        for _ in range(3):
            bot.send_signal(signal.SIGINT)
            time.sleep(0.01)
        output, _ = bot.communicate(timeout=10)
    finally:
        server.stop()
    assert bot.returncode == 130, output
    assert time.monotonic() - started < 5
    assert "exiting at once" in output
    assert_clean(output)
    assert database_intact(tmp_path / "bot.db")


def test_a_dropped_terminal_stops_the_bot_gracefully_and_says_so(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    bot = _running(tmp_path, telegram)
    bot.send_signal(signal.SIGHUP)
    output, _ = bot.communicate(timeout=20)
    assert bot.returncode == 0, output
    assert_clean(output)
    assert "SIGHUP received (the terminal or ssh session the bot was started from closed)" in (
        output
    )
    assert "bot stopped" in output and database_intact(tmp_path / "bot.db")


def test_the_service_unit_stops_the_bot_with_one_sigterm(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    """systemd runs ExecStart alone in its unit; KillMode=mixed sends SIGTERM to it alone (a
    process-group stop of `make run` gave the bot two, and a "still stopping" warning)."""
    unit = configparser.ConfigParser(interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "smm-bot.service")
    service = unit["Service"]
    assert service["ExecStart"] == service["WorkingDirectory"] + "/.venv/bin/smm-bot"
    assert (service["KillMode"], service["KillSignal"]) == ("mixed", "SIGTERM")
    assert (service["Restart"], service["RestartPreventExitStatus"]) == ("on-failure", "2")
    bot = _running(tmp_path, telegram)
    bot.send_signal(signal.SIGTERM)
    output, _ = bot.communicate(timeout=20)
    assert bot.returncode == 0, output
    assert_clean(output)
    stops = [line for line in output.splitlines() if "received" in line]
    assert len(stops) == 1 and "SIGTERM received: stopping" in stops[0]
    assert "bot stopped" in output


@pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "smm-bot").exists() or shutil.which("make") is None,
    reason="make run needs the project's .venv (made by make test)",
)
def test_make_run_stops_on_two_signals_to_its_process_group(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    """A service manager (or Ctrl-C in a terminal) signals the whole process group."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(
        BOT_TOKEN=TOKEN,
        PANEL_URL="sandbox",
        TELEGRAM_API_URL=telegram.api_url,
        DATABASE_PATH=str(tmp_path / "bot.db"),
        ADMIN_IDS="1",
        POLL_INTERVAL="3600",
    )
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: "deleteWebhook" in telegram.methods(), 60)
        started = time.monotonic()
        os.killpg(make.pid, signal.SIGINT)
        time.sleep(0.01)
        os.killpg(make.pid, signal.SIGINT)
        output, _ = make.communicate(timeout=10)
        assert time.monotonic() - started < 10
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)

    def group_gone() -> bool:
        try:
            os.killpg(make.pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_for(group_gone, 5)
    assert "bot stopped" in output, output
    assert_clean(output)
    assert database_intact(tmp_path / "bot.db")


class EchoingPanel(SandboxPanel):
    """A panel that repeats the key it was sent in its refusal."""

    def handle(self, form: dict[str, str]) -> object:
        return {"error": f"Invalid API key {form.get('key')} for this account"}


ECHOED_KEY = "operator-secret-key-0123456789abcdef"


def test_no_secret_in_any_output_of_check_or_the_bot(
    tmp_path: Path, telegram: FakeTelegram
) -> None:

    refused = smm_bot(
        tmp_path,
        "check",
        PANEL_URL="sandbox",
        TELEGRAM_API_URL=telegram.api_url,
        BOT_TOKEN=WRONG_TOKEN,
    )
    assert "telegram: FAILED (Telegram refuses BOT_TOKEN)" in refused.stdout
    assert_clean(refused.stdout + refused.stderr)
    server = SandboxServer(EchoingPanel(refusal_status=True)).start()
    try:
        echoed = smm_bot(
            tmp_path,
            "check",
            PANEL_URL=server.url,
            PANEL_KEY=ECHOED_KEY,
            TELEGRAM_API_URL=telegram.api_url,
        )
        assert "panel: FAILED (the panel refuses the API key (PANEL_KEY)" in echoed.stdout
        assert ECHOED_KEY not in echoed.stdout + echoed.stderr
        bot = _running(
            tmp_path, telegram, PANEL_URL=server.url, PANEL_KEY=ECHOED_KEY, LOG_LEVEL="DEBUG"
        )
        telegram.push_text(1, "/balance")
        wait_for(lambda: any("API key" in m["text"] for m in telegram.sent(1)), 20)
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=20)
    finally:
        server.stop()
    assert ECHOED_KEY not in output
    assert all(ECHOED_KEY not in m["text"] for m in telegram.sent(1))
    assert "**********" in " ".join(m["text"] for m in telegram.sent(1))


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _huge_post(port: int, declared: int, sent_limit: int) -> None:
    """A POST declaring `declared` bytes without the secret; sends until the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n".encode()
        )
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < sent_limit:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            return  # refused before the body was read


def test_huge_webhook_bodies_are_refused_unread(tmp_path: Path, telegram: FakeTelegram) -> None:
    import threading

    port = free_port()
    bot = start_bot(
        tmp_path,
        telegram,
        WEBHOOK_URL="https://bot.example.test/hook",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET="the-secret",
    )
    try:
        url = f"http://127.0.0.1:{port}/hook"
        wait_for(lambda: "setWebhook" in telegram.methods(), 30)
        wait_for(lambda: post(url, {}, "x") == 403, 10)
        before = _rss_mb(bot.pid)
        posts = [
            threading.Thread(target=_huge_post, args=(port, 95_000_000, 40_000_000))
            for _ in range(4)
        ]
        for sender in posts:
            sender.start()
        for sender in posts:
            sender.join(timeout=60)
        assert _rss_mb(bot.pid) - before < 20
        update = start_update(7)
        assert post(url, update, "the-secret") == 200  # still serving
        wait_for(lambda: telegram.sent(1), 20)
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=20)
    assert bot.returncode == 0, output
    assert_clean(output)


def test_the_webhook_listens_on_loopback_by_default(tmp_path: Path) -> None:
    from tests.harness import make_settings

    assert make_settings(tmp_path).webhook_listen == "127.0.0.1"
