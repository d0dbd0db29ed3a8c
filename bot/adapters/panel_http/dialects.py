"""The dialects in which real panels say no: the answer shapes of API v2 refusals, read into
the core's typed `PanelError`s (`tests/panel_answers/` holds the literal answers)."""

from __future__ import annotations

from typing import Any

from bot.core.panel import PanelError, error_from_message

_FAILED_STATUSES = {"error", "fail", "failed", "false", "failure"}
_MESSAGE_FIELDS = ("error", "message", "msg", "description", "detail", "error_message")


def _words(value: Any) -> str | None:
    """The text of an error value: a string, a number code, a list of them, or a dict that
    holds one under a message field."""
    if value is None or value is False or value == "":
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value) if value else None
    if isinstance(value, list):
        parts = [w for w in (_words(item) for item in value) if w]
        return "; ".join(parts) or None
    if isinstance(value, dict):
        for name in _MESSAGE_FIELDS:
            found = _words(value.get(name))
            if found:
                return found
        for item in value.values():  # {"errors": {"link": ["The link is invalid."]}}
            found = _words(item) if isinstance(item, list | str) else None
            if found:
                return found
    return None


def refusal_message(payload: Any) -> str | None:
    """The panel's words if this answer is a refusal, else None. The dialects of real panels:
    `{"error": "..."}`, `{"error": {"message": "..."}}`, `{"errors": [...]}`,
    `{"status": false|"error", "message"|"msg": "..."}`, `{"success": false, ...}` and
    `{"status": false, "data": {"msg": "..."}}`. A status answer's `"status": "Completed"` is
    not one: only a false or failed status counts."""
    if not isinstance(payload, dict):
        return None
    for name in ("error", "errors"):
        if name in payload:
            words = _words(payload[name])
            if words:
                return words
    status = payload.get("status", payload.get("success"))
    failed = (
        payload.get("error") is True
        or status is False
        or (isinstance(status, str) and status.strip().casefold() in _FAILED_STATUSES)
    )
    if not failed:
        return None
    for name in ("message", "msg", "description", "data"):
        words = _words(payload.get(name))
        if words:
            return words
    return "Unknown error"


def refusal(payload: Any, http_status: int | None = None) -> PanelError | None:
    """The typed refusal this answer carries, if any."""
    words = refusal_message(payload)
    return None if words is None else error_from_message(words, http_status=http_status)
