"""Logging: human-readable or one JSON object per line, secrets redacted, and every line
written while handling an update tagged with the user id and the update id."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

current_update: ContextVar[tuple[int | None, int | None]] = ContextVar(
    "current_update", default=(None, None)
)
"""(user id, update id) of the update being handled in this task."""

REDACTED = "**********"


class _UpdateTags(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.user_id, record.update_id = current_update.get()
        return True


class RedactingFormatter(logging.Formatter):
    """Formats as text or JSON, then removes every secret from the result. A library's record
    shows its exception in one line (its kind and words) unless `library_tracebacks`: the
    operator reads what failed (a getUpdates refused at shutdown, say), not the library's
    traceback; the bot's own errors keep theirs."""

    def __init__(
        self, secrets: Iterable[str], json_lines: bool, library_tracebacks: bool = False
    ) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s%(tags)s")
        self._secrets = [s for s in secrets if s]
        self._json = json_lines
        self._library_tracebacks = library_tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not self._library_tracebacks and not _own(record):
            record = _in_one_line(record)
        user_id = getattr(record, "user_id", None)
        update_id = getattr(record, "update_id", None)
        if self._json:
            entry: dict[str, object] = {
                "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            if user_id is not None:
                entry["user_id"] = user_id
                entry["update_id"] = update_id
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
            text = json.dumps(entry, ensure_ascii=False)
        else:
            record.tags = f" [user {user_id} update {update_id}]" if user_id is not None else ""
            text = super().format(record)
        return redact(text, self._secrets)


def _own(record: logging.LogRecord) -> bool:
    return record.name == "bot" or record.name.startswith("bot.")


def _in_one_line(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of the record, its exception told after its message instead of as a traceback
    (the record itself goes on to other handlers, Sentry's among them, as it was)."""
    assert record.exc_info is not None
    kind, error, _ = record.exc_info
    told = logging.makeLogRecord(record.__dict__)
    told.msg = f"{record.getMessage()} ({kind.__name__ if kind else 'error'}: {error})"
    told.args, told.exc_info, told.exc_text = None, None, None
    return told


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _redacted(value: Any, secrets: list[str]) -> Any:
    """Every string in a nested structure (a Sentry event), its secrets replaced."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _redacted(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, secrets) for item in value]
    return value


def report_errors(dsn: str, secrets: Iterable[str]) -> None:
    """SENTRY_DSN: every record at ERROR or above that carries an exception (an uncaught
    error, a handler's failure) goes to Sentry too, each secret replaced wherever it appears
    (messages, breadcrumbs, the exception's words); no local variables, no personal data.
    sentry-sdk is imported here alone: without SENTRY_DSN it is not needed (ImportError)."""
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    hidden = [secret for secret in secrets if secret]

    def before_send(event: Any, hint: Any) -> Any:
        return _redacted(event, hidden) if "exception" in event else None

    sentry_sdk.init(
        dsn=dsn,
        before_send=before_send,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
    )


def _log_uncaught(kind: type[BaseException], error: BaseException, trace: Any) -> None:
    """Exceptions nobody caught go through the logging (and its redaction), not to stderr."""
    logging.getLogger("bot").critical("uncaught %s", kind.__name__, exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def setup_logging(
    level: str, json_lines: bool, secrets: Iterable[str], libraries: str = "WARNING"
) -> None:
    """The bot's own records (`bot.*`) from `level` (LOG_LEVEL) up, the libraries' (PTB,
    httpx, httpcore, the scheduler…) from `libraries` (LOG_LEVEL_LIBS): DEBUG shows the bot's
    steps without every request of every library."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(secrets, json_lines, libraries == "DEBUG"))
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    handler.addFilter(_UpdateTags())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(libraries)
    logging.getLogger("bot").setLevel(level)
    logging.captureWarnings(True)
