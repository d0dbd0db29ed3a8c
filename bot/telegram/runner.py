"""The bot as a long-running process: start when everything it needs is there, stop on a signal.

PTB's `run_polling` and `run_webhook` are replaced by the sequence PTB documents for running an
application by hand (initialize, post_init, the updater, start; then the reverse) because a
process run by an operator must:

- check local things first: a database that cannot be used (its directory not writable, a
  file that is no database or is a newer version's, one another bot has open) is one line
  naming it, before Telegram or the panel is asked anything;
- say in one line, and exit with status 2, when Telegram refuses the token;
- wait for the network when it is not there yet (a service started before it), with one log
  line per attempt and backoff up to `MAX_CONNECT_DELAY`, never a traceback;
- stop on SIGINT, SIGTERM or SIGHUP however often they come: the first starts the shutdown,
  a second cannot interrupt it, a third exits at once (SQLite's journal keeps the database
  whole). SIGHUP (the terminal or ssh session that started the bot closed) stops it like the
  others rather than leave a bot running whose output goes nowhere; a service runs it
  detached (deploy/smm-bot.service).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import Application
from tornado.httpserver import HTTPServer

from bot.config import Settings
from bot.core.ports import DatabaseUnusable, StorageFailed
from bot.heartbeat import beat, heartbeat_path
from bot.telegram import payments_web

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"]
"""What the bot asks Telegram for: a successful payment comes as a message; the pre-checkout
query of a Stars invoice is its own kind, never sent unless asked for."""
FIRST_CONNECT_DELAY = 2.0
MAX_CONNECT_DELAY = 300.0
WEBHOOK_MAX_BODY = 1024 * 1024
"""An update is a few kilobytes; nothing larger is read."""
WEBHOOK_BODY_TIMEOUT = 10.0
EXIT_AT_ONCE = 130
"""Exit status after the third signal."""


class StartupError(Exception):
    """Why the bot cannot start, in one line for the operator; `status` is the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


STOP_SIGNALS = {
    signal.SIGINT: "",
    signal.SIGTERM: "",
    signal.SIGHUP: " (the terminal or ssh session the bot was started from closed)",
}
"""Each signal that stops the bot, and what it means when it is not plain."""


class StopSignals:
    """The stop signals, counted: 1 stops, 2 is told to wait, 3 exits at once."""

    def __init__(self, stop: asyncio.Event) -> None:
        self._stop = stop
        self.received = 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        self.received += 1
        if self.received == 1:
            log.info(
                "%s received%s: stopping (a third signal exits at once)",
                sig.name,
                STOP_SIGNALS[sig],
            )
            self._stop.set()
        elif self.received == 2:
            log.warning("%s received: still stopping, finishing what is under way", sig.name)
        else:
            log.error("%s received a third time: exiting at once", sig.name)
            logging.shutdown()
            sys.stderr.flush()
            os._exit(EXIT_AT_ONCE)


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if a stop signal comes; True if it came."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def until_reachable(
    step: Callable[[], Awaitable[Any]], what: str, stop: asyncio.Event
) -> bool:
    """Run a step that needs Telegram until it succeeds; False if stopped while waiting.
    A refused token is a `StartupError`; anything the network may cure is tried again."""
    delay = FIRST_CONNECT_DELAY
    while True:
        try:
            await step()
            return True
        except InvalidToken:
            raise StartupError(
                "Telegram refuses BOT_TOKEN: copy the token @BotFather gave you into BOT_TOKEN.",
                status=2,
            ) from None
        except (TelegramError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("%s failed (%s); next attempt in %.0f s", what, reason, delay)
        if await _stopped_within(stop, delay):
            return False
        delay = min(MAX_CONNECT_DELAY, delay * 2)


async def _open_database(opening: Callable[[], Awaitable[None]], database: Path) -> None:
    try:
        await opening()
    except DatabaseUnusable as exc:
        raise StartupError(str(exc), status=2) from None
    except StorageFailed as exc:
        raise StartupError(
            f"The database {database} cannot be used ({exc}). Restore a backup over it "
            "(README: Backups), or move it away to start with an empty one."
        ) from None


async def _start_updater(
    application: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings,
    webhook_secret: str | None,
) -> None:
    updater = application.updater
    assert updater is not None
    if settings.webhook_url:
        # The webhook server is built by PTB; tornado's documented defaults reach it. A body
        # above the limit is refused from its Content-Length, before it is read.
        HTTPServer.configure(
            None, max_body_size=WEBHOOK_MAX_BODY, body_timeout=WEBHOOK_BODY_TIMEOUT
        )
        await updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
        job = application.bot_data.payments_job
        if job.takes_callbacks:
            payments_web.share(updater, job)
    else:
        await updater.start_polling(
            allowed_updates=ALLOWED_UPDATES, error_callback=PollingFailures()
        )


class PollingFailures:
    """Called by PTB when a getUpdates call fails; it tries again by itself. Telegram answers
    409 Conflict while another process polls with the same token (a second bot elsewhere: the
    lock beside the database sees only this machine's): said once, as what it means."""

    def __init__(self) -> None:
        self._conflict_told = False

    def __call__(self, error: TelegramError) -> None:
        if not isinstance(error, Conflict):
            log.warning("getting updates from Telegram failed (%s); trying again", error)
        elif not self._conflict_told:
            self._conflict_told = True
            log.error(
                "another process gets this bot's updates (Telegram: 409 Conflict): a second "
                "bot runs with the same BOT_TOKEN; stop it, the two share the updates"
            )


async def serve(
    application: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings,
    *,
    opening: Callable[[], Awaitable[None]],
    webhook_secret: str | None = None,
) -> None:
    """Run until a stop signal. Raises `StartupError` when the bot cannot start. `opening`
    opens the store (the first thing checked: a local problem is one line, before Telegram
    or the panel is asked anything)."""
    stop = asyncio.Event()
    StopSignals(stop).install(asyncio.get_running_loop())
    started = False
    heartbeat = heartbeat_path(settings)
    beating: asyncio.Task[None] | None = None
    try:
        await _open_database(opening, settings.database_path)
        await asyncio.to_thread(heartbeat.unlink, missing_ok=True)  # a former run's
        if not await until_reachable(application.bot.initialize, "connecting to Telegram", stop):
            return
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        if not await until_reachable(
            lambda: _start_updater(application, settings, webhook_secret),
            "starting to receive updates",
            stop,
        ):
            return
        await application.start()
        started = True
        beating = asyncio.create_task(beat(heartbeat))
        await stop.wait()
    finally:
        if beating is not None:
            beating.cancel()
            await asyncio.to_thread(heartbeat.unlink, missing_ok=True)
        await _shut_down(application)
        if started:
            log.info("bot stopped")


async def _shut_down(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every step that was started is stopped, in reverse; a failing step does not keep the
    others from running."""
    steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
    if application.updater is not None and application.updater.running:
        steps.append(("updater", application.updater.stop))
    if application.running:
        steps.append(("application", application.stop))
    if application.post_stop is not None:
        steps.append(("background work", lambda: application.post_stop(application)))  # type: ignore[misc]
    steps.append(("application shutdown", application.shutdown))
    if application.post_shutdown is not None:
        steps.append(("resources", lambda: application.post_shutdown(application)))  # type: ignore[misc]
    for name, step in steps:
        try:
            await step()
        except Exception as exc:
            log.warning("stopping the %s failed: %s", name, exc)
