"""What `smm-bot` does once its settings are read: run the bot, `check`, `backup`.

Loaded by `bot.__main__` only after the settings passed, so that a bad setting is told at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import secrets
import sqlite3
import sys
import time
from decimal import Decimal
from pathlib import Path

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.adapters.payments.midtrans import basic_authorization
from bot.adapters.sqlite.backup import backup
from bot.adapters.sqlite.db import (
    MIGRATIONS,
    Database,
    DatabaseUnusable,
    check_place,
    newer_version,
)
from bot.adapters.sqlite.session import Session
from bot.adapters.sqlite.wallets import WalletRepo
from bot.app import build_application, panel_client
from bot.config import Settings, export_proxies
from bot.core.money import money_since, wrong_sign
from bot.core.panel import BadKey, PanelBusy, PanelError, PanelFailure
from bot.core.ports import StorageFailed
from bot.logs import redact, report_errors, setup_logging
from bot.telegram.runner import EXIT_AT_ONCE, StartupError, serve

log = logging.getLogger("bot")


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, or one generated once and kept beside the database (one line and exit
    status 2 when it cannot be kept there)."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    path = settings.database_path.parent / "webhook.secret"
    try:
        check_place(settings.database_path)
    except DatabaseUnusable as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def secrets_of(settings: Settings, webhook_secret: str | None) -> list[str]:
    """Every secret the logs and error reports blank out, in each form it travels in."""
    values = [settings.bot_token.get_secret_value()]
    for setting in (
        settings.panel_key,
        settings.sentry_dsn,
        settings.tripay_api_key,
        settings.tripay_private_key,
        settings.midtrans_server_key,
    ):
        if setting is not None:
            values.append(setting.get_secret_value())
    if settings.midtrans_server_key is not None:  # as the Authorization header carries it
        values.append(basic_authorization(settings.midtrans_server_key.get_secret_value()))
    if webhook_secret is not None:
        values.append(webhook_secret)
    return values


def run(settings: Settings, secret: str | None) -> None:
    """Polling by default; webhooks when WEBHOOK_URL is set (with `secret`). Ends with one
    line, never a traceback, whatever stops it."""
    application, parts = build_application(settings)
    try:
        asyncio.run(serve(application, settings, opening=parts.open, webhook_secret=secret))
    except StartupError as exc:
        log.error("%s", exc)
        sys.exit(exc.status)
    except KeyboardInterrupt:  # before the signal handlers were installed
        sys.exit(EXIT_AT_ONCE)
    except Exception as exc:
        log.debug("the bot stopped on an unexpected error", exc_info=True)
        log.error("The bot stopped on an unexpected error: %s: %s", type(exc).__name__, exc)
        sys.exit(1)


async def check(settings: Settings, secrets: list[str]) -> bool:
    """One line per check, OK or the reason. True when all pass. No secret is printed."""

    def say(line: str) -> None:
        print(redact(line, secrets))

    say(f"config: OK (panel {settings.panel_url}, database {settings.database_path})")
    ok = True
    bot = Bot(settings.bot_token.get_secret_value(), base_url=settings.telegram_api_url)
    try:
        async with bot:
            say(f"telegram: OK (@{bot.username})")
    except InvalidToken:
        ok = False
        say("telegram: FAILED (Telegram refuses BOT_TOKEN)")
    except TelegramError as exc:
        ok = False
        say(f"telegram: FAILED ({exc.message})")
    panel = panel_client(settings)
    try:
        balance = await panel.balance()
        say(f"panel: OK (balance {balance.amount} {balance.currency})")
    except PanelFailure as exc:
        ok = False
        say(f"panel: FAILED ({panel_problem(exc)})")
    finally:
        await panel.aclose()
    problem = await database_problem(settings.database_path)
    ok = ok and problem is None
    say(f"database: FAILED ({problem})" if problem else f"database: OK ({settings.database_path})")
    if settings.wallets:
        line = await wallets_problem(settings)
        ok = ok and line is None
        say(
            f"wallets: FAILED ({line})"
            if line
            else "wallets: OK (each equals its entries, and /stats the ledger)"
        )
    return ok


async def database_problem(path: Path) -> str | None:
    """What would keep the bot from using its database, found without writing to it."""
    try:
        if not check_place(path):
            return None  # made at the first start
    except DatabaseUnusable as exc:
        return str(exc)
    db = Database(path)
    try:
        await db.open_read_only()
        found = await db.stored_version()
    except (sqlite3.Error, StorageFailed) as exc:
        return f"the database {path} cannot be read: {exc}"
    finally:
        await db.close()
    return newer_version(path, found, len(MIGRATIONS)) if found > len(MIGRATIONS) else None


async def wallets_problem(settings: Settings) -> str | None:
    """Whether every wallet's kept total is the sum of its ledger entries (read only)."""
    if not settings.database_path.exists():
        return None
    db = Database(settings.database_path)
    try:
        await db.open_read_only()
        wallets = WalletRepo(Session(db), time.time)
        mismatches = await wallets.mismatches()
        entries = await wallets.since(0)
        kept = sum((w.balance for w in await wallets.all()), Decimal(0))
    except (sqlite3.Error, StorageFailed) as exc:
        if "no such table" in str(exc):
            return None  # not yet opened by this version: no wallet at all
        return f"the database cannot be read: {exc}"
    finally:
        await db.close()
    if mismatches:
        user, (held, total) = sorted(mismatches.items())[0]
        return (
            f"{len(mismatches)} wallet(s) differ from their entries, e.g. user {user}: "
            f"{held} kept, {total} in entries"
        )
    wrong = [entry for entry in entries if wrong_sign(entry)]
    if wrong:
        return (
            f"{len(wrong)} ledger entr(y/ies) move money against their kind, e.g. entry "
            f"{wrong[0].id}: {wrong[0].kind.value} of {wrong[0].amount}"
        )
    stated = money_since(0, entries, []).net
    if stated != kept:
        return f"/stats' totals ({stated}) differ from the wallets' ({kept})"
    return None


def panel_problem(failure: PanelFailure) -> str:
    """A failed panel call in the operator's words (English, one line)."""
    if isinstance(failure, BadKey):
        return f"the panel refuses the API key (PANEL_KEY): “{failure.message}”"
    if isinstance(failure, PanelBusy):
        return f"the panel limits requests; try again in {math.ceil(failure.retry_after)} s"
    if isinstance(failure, PanelError):
        return f"the panel refused: “{failure.message}”"
    return f"the panel cannot be reached ({failure})"


def execute(args: argparse.Namespace, settings: Settings) -> None:
    """The command in `args` (run when none), with these settings."""
    export_proxies(settings)
    secret = webhook_secret(settings) if settings.webhook_url else None
    secret_values = secrets_of(settings, secret)
    setup_logging(
        settings.log_level, settings.log_format == "json", secret_values, settings.log_level_libs
    )
    if settings.sentry_dsn is not None:
        try:
            report_errors(settings.sentry_dsn.get_secret_value(), secret_values)
        except ImportError:
            print(
                "Configuration error: SENTRY_DSN is set but sentry-sdk is not installed: "
                "pip install 'smm-bot[sentry]' (make installs it).",
                file=sys.stderr,
            )
            sys.exit(2)

    if args.command == "check":
        sys.exit(0 if asyncio.run(check(settings, secret_values)) else 1)
    if args.command == "backup":
        try:
            orders = backup(settings.database_path, args.path)
        except (OSError, sqlite3.Error) as exc:
            print(f"backup: FAILED ({exc})", file=sys.stderr)
            sys.exit(1)
        print(f"backup: OK ({args.path}, {orders} orders)")
        return
    run(settings, secret)
