"""Running it for real: check, backup, logs, webhook mode, /stats, graceful shutdown."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.sandbox.panel import SandboxPanel, SandboxServer
from bot.adapters.sqlite.backup import backup
from bot.adapters.sqlite.store import SqliteStore
from bot.core.api import Service
from bot.core.records import EntryKind
from bot.logs import current_update, setup_logging
from tests.fake_telegram import STOP_POLL, FakeTelegram
from tests.harness import ADMIN, TOKEN, USER, Harness
from tests.recording_proxy import RecordingProxy
from tests.test_e2e import ROOT, start_bot, wait_for

SERVICE = Service.model_validate(
    {"service": 1, "name": "S", "type": "Default", "rate": "1", "min": 1, "max": 10}
)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def panel_server() -> Iterator[SandboxServer]:
    server = SandboxServer(SandboxPanel(refusal_status=True)).start()
    yield server
    server.stop()


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


def test_check_with_a_good_and_a_bad_key(
    tmp_path: Path, telegram: FakeTelegram, panel_server: SandboxServer
) -> None:
    good = smm_bot(
        tmp_path,
        "check",
        PANEL_URL=panel_server.url,
        PANEL_KEY="sandbox",
        TELEGRAM_API_URL=telegram.api_url,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    assert lines[0].startswith("config: OK")
    assert lines[1] == "telegram: OK (@smm_test_bot)"
    assert lines[2] == "panel: OK (balance 1000000 IDR)"
    bad = smm_bot(
        tmp_path,
        "check",
        PANEL_URL=panel_server.url,
        PANEL_KEY="wrong-key-123",
        TELEGRAM_API_URL=telegram.api_url,
    )
    assert bad.returncode == 1
    assert "panel: FAILED (the panel refuses the API key (PANEL_KEY): “Incorrect API key”)" in (
        bad.stdout
    )
    assert "wrong-key-123" not in bad.stdout + bad.stderr
    no_telegram = smm_bot(
        tmp_path, "check", PANEL_URL="sandbox", TELEGRAM_API_URL="http://127.0.0.1:9/bot"
    )
    assert no_telegram.returncode == 1 and "telegram: FAILED" in no_telegram.stdout
    assert TOKEN not in no_telegram.stdout + no_telegram.stderr


def test_a_refused_key_is_a_warning_and_one_admin_alert_with_no_order_to_follow(
    tmp_path: Path, telegram: FakeTelegram, panel_server: SandboxServer
) -> None:
    refused = {"PANEL_URL": panel_server.url, "PANEL_KEY": "wrong-key-123"}
    bot = start_bot(tmp_path, telegram, POLL_INTERVAL="0.2", **refused)
    try:
        wait_for(lambda: any("refuses the bot's API key" in m["text"] for m in telegram.sent(1)))
        time.sleep(0.7)  # two cycles more (the tracker backs off): still one alert
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=30)
    alerts = [m for m in telegram.sent(1) if "refuses the bot's API key" in m["text"]]
    assert len(alerts) == 1 and "Incorrect API key" in alerts[0]["text"]
    assert "WARNING bot.core.balance: the panel refuses the API key (PANEL_KEY)" in output
    assert "WARNING bot.core.tracking: tracker: the panel refuses the API key" in output
    assert " INFO " not in "".join(line for line in output.splitlines() if "API key" in line)
    assert "wrong-key-123" not in output


def test_the_bot_and_check_take_the_proxy_named_in_dotenv(
    tmp_path: Path, telegram: FakeTelegram, panel_server: SandboxServer
) -> None:
    proxy = RecordingProxy().start()
    (tmp_path / ".env").write_text(f"HTTP_PROXY={proxy.url}\n")
    env = {"PANEL_URL": panel_server.url, "PANEL_KEY": "sandbox"}
    try:
        checked = smm_bot(tmp_path, "check", TELEGRAM_API_URL=telegram.api_url, **env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert proxy.passed(f"{telegram.api_url}{TOKEN}/getMe")
        assert proxy.passed(f"POST {panel_server.url}")
        proxy.requests.clear()
        bot = start_bot(tmp_path, telegram, **env)
        try:
            telegram.push_text(1, "/balance")
            wait_for(lambda: any("Balance" in m["text"] for m in telegram.sent(1)))
        finally:
            bot.send_signal(signal.SIGTERM)
            output, _ = bot.communicate(timeout=30)
    finally:
        proxy.stop()
    assert bot.returncode == 0, output
    for method in ("getMe", "getUpdates", "sendMessage"):
        assert proxy.passed(f"POST {telegram.api_url}{TOKEN}/{method}"), method
    assert proxy.passed(f"POST {panel_server.url}")


class BrokenTelegram(FakeTelegram):
    """Refuses every sendMessage in words that repeat the token: the handler fails."""

    def handle(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        status, answer = super().handle(path, content_type, body)
        if path.endswith("/sendMessage"):
            return 400, {"ok": False, "error_code": 400, "description": f"no chat for {TOKEN}"}
        return status, answer


class SentryServer:
    """Where a SENTRY_DSN of 127.0.0.1 points: the envelopes the SDK posts, unpacked."""

    def __init__(self) -> None:
        self.envelopes: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                server.envelopes.append(body.decode())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://public-key-0123@127.0.0.1:{self._server.server_address[1]}/1"
        threading.Thread(target=self._server.serve_forever, args=(STOP_POLL,), daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_an_error_in_a_handler_goes_to_sentry_without_secrets(tmp_path: Path) -> None:
    telegram, sentry = BrokenTelegram(TOKEN).start(), SentryServer()
    try:
        bot = start_bot(tmp_path, telegram, SENTRY_DSN=sentry.dsn)
        try:
            telegram.push_text(1, "/start")
            wait_for(lambda: sentry.envelopes, 20)
        finally:
            bot.send_signal(signal.SIGTERM)
            output, _ = bot.communicate(timeout=30)
    finally:
        sentry.stop()
        telegram.stop()
    assert bot.returncode == 0, output
    assert "ERROR bot.telegram.errors: error while handling an update" in output
    sent = "\n".join(sentry.envelopes)
    assert '"exception"' in sent and "error while handling an update" in sent
    assert "**********" in sent  # the token PTB's error repeated, taken out
    assert TOKEN not in sent and '"vars"' not in sent  # no local variables either
    assert all('"exception"' in envelope for envelope in sentry.envelopes)  # errors only


def test_health_watches_the_bot_itself_not_the_panel(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    """The container's health check: a bot serving with its panel down is healthy."""
    down = {"PANEL_URL": "http://127.0.0.1:9/api/v2", "PANEL_KEY": "k"}
    bot = start_bot(tmp_path, telegram, **down)
    heartbeat = tmp_path / "heartbeat"
    try:
        wait_for(heartbeat.exists, 30)
        healthy = smm_bot(tmp_path, "health", **down)
        assert healthy.returncode == 0 and healthy.stdout.startswith("health: OK"), healthy
        old = time.time() - 600
        os.utime(heartbeat, (old, old))
        stuck = smm_bot(tmp_path, "health", **down)
        assert stuck.returncode == 1 and "s old: the bot is stuck" in stuck.stdout
        # 600 s, and the time the health command took to start (rounded: 601 on a busy machine)
        assert re.search(r"is 60[01] s old", stuck.stdout), stuck.stdout
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 0, output
    stopped = smm_bot(tmp_path, "health", **down)
    assert stopped.returncode == 1 and "the bot is not serving" in stopped.stdout


async def test_check_compares_every_wallet_with_the_sum_of_its_entries(
    tmp_path: Path, telegram: FakeTelegram, panel_server: SandboxServer
) -> None:
    store = SqliteStore(str(tmp_path / "bot.db"))
    await store.open()
    await store.wallets.post(5, Decimal(100_000), EntryKind.CREDIT, admin_id=1)
    await store.wallets.post(5, Decimal(-2500), EntryKind.ADJUSTMENT, admin_id=1)
    await store.close()
    env = {
        "PANEL_URL": panel_server.url,
        "PANEL_KEY": "sandbox",
        "TELEGRAM_API_URL": telegram.api_url,
        "WALLETS": "on",
        "DATABASE_PATH": str(tmp_path / "bot.db"),
    }
    good = smm_bot(tmp_path, "check", **env)
    assert "wallets: OK" in good.stdout and good.returncode == 0
    conn = sqlite3.connect(tmp_path / "bot.db")
    conn.execute("UPDATE wallets SET balance = '97501' WHERE user_id = 5")
    conn.commit()
    conn.close()
    bad = smm_bot(tmp_path, "check", **env)
    assert bad.returncode == 1
    assert "wallets: FAILED (1 wallet(s) differ from their entries, e.g. user 5: 97501 kept," in (
        bad.stdout
    )


async def test_backup_while_writes_go_on(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "bot.db"))
    await store.open()
    stop = asyncio.Event()
    committed: list[str] = []

    async def write() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            key = f"order-{number}"
            await store.orders.record_intent(
                intent_key=key,
                user_id=1,
                service=SERVICE,
                fields={"link": "l" * 500},
                quantity=1,
                price=Decimal(1),
                currency="IDR",
                paid=None,
                cost=None,
            )
            committed.append(key)
            await asyncio.sleep(0)

    writer = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.3)
        before = list(committed)
        copied = await asyncio.to_thread(backup, tmp_path / "bot.db", tmp_path / "copy.db")
    finally:
        stop.set()
        await writer
        await store.close()
    assert copied >= len(before) > 50
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    keys = {row[0] for row in copy.execute("SELECT intent_key FROM orders")}
    assert set(before) <= keys
    copy.close()


def test_backup_command(tmp_path: Path) -> None:
    missing = smm_bot(tmp_path, "backup", str(tmp_path / "b.db"), PANEL_URL="sandbox")
    assert missing.returncode == 1 and "no database" in missing.stderr
    asyncio.run(_make_db(tmp_path / "bot.db"))
    done = smm_bot(tmp_path, "backup", str(tmp_path / "b.db"), PANEL_URL="sandbox")
    assert done.returncode == 0 and "backup: OK" in done.stdout and "1 orders" in done.stdout


async def _make_db(path: Path) -> None:
    store = SqliteStore(str(path))
    await store.open()
    await store.orders.record_intent(
        intent_key="k",
        user_id=1,
        service=SERVICE,
        fields={},
        quantity=1,
        price=Decimal(1),
        currency="",
        paid=None,
        cost=None,
    )
    await store.close()


@pytest.fixture
def logging_set_up() -> Iterator[None]:
    """setup_logging changes the process's loggers: they are put back after the test."""
    root, own = logging.getLogger(), logging.getLogger("bot")
    handlers, levels = list(root.handlers), (root.level, own.level)
    yield
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    own.setLevel(levels[1])


@pytest.mark.usefixtures("logging_set_up")
def test_json_logs_parse_carry_the_update_and_hide_secrets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO", True, [TOKEN, "panel-key-xyz"])
    log = logging.getLogger("bot.test")
    log.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    current_update.set((7, 99))
    try:
        raise ValueError("key panel-key-xyz leaked")
    except ValueError:
        log.exception("failed")
    current_update.set((None, None))
    lines = capsys.readouterr().err.strip().splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries[0]["message"].startswith("calling https://api.telegram.org/bot**********")
    assert "user_id" not in entries[0]
    assert entries[1]["user_id"] == 7 and entries[1]["update_id"] == 99
    assert "exception" in entries[1]
    assert all(TOKEN not in line and "panel-key-xyz" not in line for line in lines)


def test_the_bot_process_logs_json_lines(tmp_path: Path, telegram: FakeTelegram) -> None:
    bot = start_bot(tmp_path, telegram, LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    try:
        telegram.push_text(1, "/start")
        wait_for(lambda: telegram.sent(1))
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=30)
    entries = [json.loads(line) for line in output.strip().splitlines()]
    assert any(e.get("user_id") == 1 for e in entries)
    assert TOKEN not in output
    debug = {e["logger"].partition(".")[0] for e in entries if e["level"] == "DEBUG"}
    assert debug == {"bot"}  # the libraries' DEBUG only with LOG_LEVEL_LIBS=DEBUG


@pytest.mark.usefixtures("logging_set_up")
@pytest.mark.parametrize(("libraries", "library_debug"), [("WARNING", False), ("DEBUG", True)])
def test_the_libraries_log_at_their_own_level(
    capsys: pytest.CaptureFixture[str], libraries: str, library_debug: bool
) -> None:
    setup_logging("DEBUG", False, [], libraries)
    logging.getLogger("bot.telegram.jobs").debug("the bot's step")
    logging.getLogger("telegram.ext").debug("a library's step")
    logging.getLogger("httpx").warning("a library's warning")
    try:
        raise ValueError("refused")
    except ValueError:
        logging.getLogger("telegram.ext").exception("a library failed")
    text = capsys.readouterr().err
    assert "DEBUG bot.telegram.jobs: the bot's step" in text and "WARNING httpx" in text
    assert ("DEBUG telegram.ext: a library's step" in text) is library_debug
    # a library's traceback only when its steps are asked for; else its exception in one line
    assert ("Traceback" in text) is library_debug
    assert ("a library failed (ValueError: refused)" in text) is not library_debug


def _post(url: str, body: dict[str, object], secret: str | None) -> int:
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
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_webhook_mode_end_to_end(tmp_path: Path, telegram: FakeTelegram) -> None:
    port = free_port()
    bot = start_bot(
        tmp_path,
        telegram,
        WEBHOOK_URL="https://bot.example.test/hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    try:
        wait_for(lambda: "setWebhook" in telegram.methods())
        params = next(p for m, p, _ in telegram.calls if m == "setWebhook")
        secret = str(params["secret_token"])
        assert params["url"] == "https://bot.example.test/hook" and len(secret) >= 32
        assert (tmp_path / "webhook.secret").read_text() == secret
        update = start_update(1)
        url = f"http://127.0.0.1:{port}/hook"
        wait_for(lambda: _post(url, {}, "x") == 403)
        assert _post(url, update, None) == 403
        assert _post(url, update, "wrong") == 403
        assert not telegram.sent(1)
        assert _post(url, update, secret) == 200
        wait_for(lambda: telegram.sent(1))
        assert "Welcome" in telegram.sent(1)[0]["text"]
        assert "getUpdates" not in telegram.methods()
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=30)
    assert bot.returncode == 0, output
    assert secret not in output and TOKEN not in output


def test_sigterm_during_a_handler_finishes_it(tmp_path: Path, telegram: FakeTelegram) -> None:
    panel = SandboxPanel(latency=1.5)
    server = SandboxServer(panel).start()
    try:
        bot = start_bot(tmp_path, telegram, PANEL_URL=server.url, PANEL_KEY="sandbox")
        telegram.push_text(1, "/balance")
        wait_for(lambda: panel.calls["balance"] >= 1 or bool(panel.requests), 20)
        bot.send_signal(signal.SIGTERM)
        output, _ = bot.communicate(timeout=60)
    finally:
        server.stop()
    assert bot.returncode == 0, output
    assert any("Balance" in m["text"] for m in telegram.sent(1)), output
    copy = sqlite3.connect(tmp_path / "bot.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()


async def test_stats_for_admins_only(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.say(USER, "/start")
        from tests.test_orders import place

        await place(bot, USER)
        await bot.state.tracker.run_cycle(bot.app.bot)
        reply = await bot.say(ADMIN, "/stats")
        assert "Users: 2" in reply.text and "Orders today: 1" in reply.text
        assert "Pending: 1" in reply.text and "failures in a row: 0" in reply.text
        assert "for 1 orders" in reply.text
        assert "/help" in (await bot.say(USER, "/stats")).text  # unknown to non-admins
