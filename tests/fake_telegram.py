"""A small fake Bot API server on 127.0.0.1 for end-to-end tests and benchmarks.

It serves `getUpdates` from a queue that tests fill with `push`, records every other call,
and answers `sendMessage` / `editMessageText` with a message. Optionally it enforces a
global rate (answering 429 with retry_after past it), as Telegram does.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from bot.adapters.sandbox.panel import LoopbackServer

BOT_ME = {
    "id": 42,
    "is_bot": True,
    "first_name": "SMM",
    "username": "smm_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
"""What getMe answers, here and in the recording Bot API of tests/harness.py."""
STOP_POLL = 0.05
"""Seconds between two looks of a test server's thread for `stop` (the default half second
was spent at the end of every test that ran one)."""


class FakeTelegram:
    def __init__(
        self,
        token: str,
        *,
        max_per_second: float | None = None,
        latency: float = 0.0,
        port: int = 0,
        blocked: set[int] | None = None,
    ) -> None:
        self.token = token
        self.blocked = blocked or set()
        """Chats whose user blocked the bot: a message to them is answered 403."""
        self.refused: list[tuple[int, float]] = []
        """(chat, time) of each message answered 403."""
        self.max_per_second = max_per_second
        self.latency = latency
        self.updates: deque[dict[str, Any]] = deque()
        self.calls: list[tuple[str, dict[str, Any], float]] = []
        self.replies: dict[int, list[float]] = {}
        """chat id -> when each message to it was sent or edited"""
        self.too_many = 0
        self.on_reply: Callable[[int, dict[str, Any], float], None] | None = None
        """Called (in the server's thread) with the chat id, the message and its time."""
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._update_id = 0
        self._message_id = 0
        self._sent_times: deque[float] = deque()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: no new connection per request
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer = fake.handle(self.path, self.headers.get("content-type", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = LoopbackServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(STOP_POLL,), daemon=True
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- simulated users ------------------------------------------------------------------------

    def push_text(self, user_id: int, text: str, language: str = "en") -> None:
        message: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        self._push(user_id, language, "message", message)

    def push_tap(self, user_id: int, data: str, language: str = "en") -> None:
        self._push(user_id, language, "callback_query", {"data": data})

    def push_pre_checkout(self, user_id: int, payload: str, stars: int) -> None:
        """Telegram's pre-checkout query for an invoice in Stars the user is paying."""
        fields = {"currency": "XTR", "total_amount": stars, "invoice_payload": payload}
        self._push(user_id, "en", "pre_checkout_query", fields)

    def push_stars_paid(self, user_id: int, payload: str, stars: int, charge_id: str) -> None:
        """The service message of a successful payment in Stars."""
        paid = {
            "currency": "XTR",
            "total_amount": stars,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        self._push(user_id, "en", "message", {"successful_payment": paid})

    def _push(self, user_id: int, language: str, kind: str, fields: dict[str, Any]) -> None:
        """Queue an update of `kind` from the user and wake a waiting getUpdates."""
        with self._lock:
            self._update_id += 1
            self._message_id += 1
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": f"U{user_id}",
                "language_code": language,
            }
            message = {
                "message_id": self._message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
            }
            if kind == "message":
                body = {**message, "from": user, **fields}
            elif kind == "pre_checkout_query":
                body = {"id": str(self._update_id), "from": user, **fields}
            else:  # a tap on a button of a menu message
                body = {
                    "id": str(self._update_id),
                    "from": user,
                    "chat_instance": "ci",
                    "message": {**message, "text": "menu"},
                    **fields,
                }
            self.updates.append({"update_id": self._update_id, kind: body})
            self._arrived.notify_all()

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                p
                for m, p, _ in self.calls
                if m in ("sendMessage", "editMessageText")
                and (chat_id is None or int(p.get("chat_id", 0)) == chat_id)
            ]

    def shown(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages and photos sent to a chat (a photo's caption as its text), and invoices."""
        kinds = ("sendMessage", "editMessageText", "sendPhoto", "sendInvoice")
        with self._lock:
            found = [
                {**p, "method": m, "text": p.get("text", p.get("caption", p.get("title", "")))}
                for m, p, _ in self.calls
                if m in kinds and int(p.get("chat_id", 0)) == chat_id
            ]
        return found

    def methods(self) -> list[str]:
        with self._lock:
            return [m for m, _, _ in self.calls]

    # -- the API --------------------------------------------------------------------------------

    def handle(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        method = path[len(prefix) :]
        params = _decode(content_type, body)
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if self.latency:
            time.sleep(self.latency)
        now = time.monotonic()
        with self._lock:
            if method == "sendMessage" and self.max_per_second:
                while self._sent_times and now - self._sent_times[0] > 1.0:
                    self._sent_times.popleft()
                if len(self._sent_times) >= self.max_per_second:
                    self.too_many += 1
                    return 429, {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    }
                self._sent_times.append(now)
            if method == "sendMessage" and int(params.get("chat_id", 0)) in self.blocked:
                self.refused.append((int(params.get("chat_id", 0)), now))
                return 403, {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                }
            self.calls.append((method, params, now))
            if method in ("sendMessage", "editMessageText"):
                self.replies.setdefault(int(params.get("chat_id", 0)), []).append(now)
            self._message_id += 1
            message_id = self._message_id
        if self.on_reply is not None and method in ("sendMessage", "editMessageText"):
            self.on_reply(int(params.get("chat_id", 0)), params, now)
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_ME}
        if method in ("sendMessage", "editMessageText", "sendPhoto", "sendInvoice"):
            return 200, {
                "ok": True,
                "result": {
                    "message_id": int(params.get("message_id") or message_id),
                    "date": int(time.time()),
                    "text": params.get("text", ""),
                    "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                },
            }
        return 200, {"ok": True, "result": True}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long polling: answers as soon as an update is there, or after the timeout."""
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 0.5)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        with self._arrived:
            while self.updates and self.updates[0]["update_id"] < offset:
                self.updates.popleft()
            if not self.updates:
                self._arrived.wait(timeout)
            while self.updates and self.updates[0]["update_id"] < offset:
                self.updates.popleft()
            if allowed:  # as Telegram does: the kinds not asked for are never delivered
                self.updates = deque(u for u in self.updates if any(kind in u for kind in allowed))
            return list(self.updates)[:100]


def _decode(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("multipart/form-data"):  # a file sent (a photo)
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields: dict[str, Any] = {}
        for part in form.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                fields[str(name)] = f"<file {part.get_filename()}>"
            else:
                fields[str(name)] = part.get_payload(decode=True).decode()
        return fields
    if "json" in content_type:
        return dict(json.loads(body))
    return dict(parse_qsl(body.decode(), keep_blank_values=True))
