"""Drive the real application in-process: a recording Bot API request, simulated users, and
the sandbox panel behind an httpx MockTransport. No network."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User
from telegram.request import BaseRequest, RequestData

from bot.adapters.panel_http.client import PanelClient
from bot.adapters.sandbox.panel import SANDBOX_KEY, SandboxPanel
from bot.adapters.sqlite.store import SqliteStore
from bot.app import build_application
from bot.config import Settings
from bot.core.catalog import Catalog
from bot.core.checkout import UnsavedOutcomes
from bot.core.records import Order
from bot.core.tracking import OrderTracking
from bot.telegram.context import UserData
from tests.fake_telegram import BOT_ME

TOKEN = "123456:TEST-token-abcdefghijklmnop"
MESSAGES = ("sendMessage", "editMessageText", "sendPhoto", "editMessageCaption")
"""The Bot API methods that send or change what a user reads."""
ADMIN = 1
USER = 2
OTHER = 3
STRANGER = 99


@dataclass
class Call:
    method: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        """The message's text, or a photo's caption."""
        return str(self.params.get("text", self.params.get("caption", "")))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback data) of every inline button."""
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not markup:
            return []
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    @property
    def copies(self) -> list[tuple[str, str]]:
        """(text, text it copies) of every copy button."""
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not markup:
            return []
        return [
            (b["text"], b["copy_text"]["text"])
            for row in markup.get("inline_keyboard", [])
            for b in row
            if "copy_text" in b
        ]

    @property
    def links(self) -> list[tuple[str, str]]:
        """(text, URL) of every link button."""
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not markup:
            return []
        return [
            (b["text"], b["url"])
            for row in markup.get("inline_keyboard", [])
            for b in row
            if "url" in b
        ]

    def button(self, starting: str) -> str:
        """The callback data of the first button whose text starts with `starting`."""
        for text, data in self.buttons:
            if text.startswith(starting):
                return data
        raise AssertionError(f"no button {starting!r} in {self.buttons}")

    def button_of(self, kind: Any, *last_args: object) -> str:
        """The callback data of the first button of this kind (a `bot.telegram.callback.Button`)
        whose last arguments are `last_args`: `reply.button_of(cb.DRIP_FEED, 0)`."""
        for _, data in self.buttons:
            args = kind.parse(data)
            if args is not None and args[len(args) - len(last_args) :] == last_args:
                return data
        raise AssertionError(f"no {kind.code} button {last_args} in {self.buttons}")


TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}


class _TelegramHTML(HTMLParser):
    """Parses a text the way the Bot API's HTML parse mode does, failing where it fails."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.length = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"unsupported start tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unexpected end tag </{tag}>")

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.errors.append(f"unsupported entity &{name};")
        self.length += 1

    def handle_data(self, data: str) -> None:
        self.length += len(data)


def telegram_html_error(text: str) -> str | None:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.stack:
        parser.errors.append(f"unclosed <{parser.stack[-1]}>")
    if parser.length > 4096:
        parser.errors.append("message is too long")
    if parser.length == 0 or not text.strip():
        parser.errors.append("message text is empty")
    return parser.errors[0] if parser.errors else None


class RecordingRequest(BaseRequest):
    """A Bot API that records every call and answers like Telegram would."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._ids = itertools.count(1000)
        self.fail_with: dict[str, list[tuple[int, dict[str, Any]] | Exception]] = {}
        """Per Bot API method, what its next calls get instead: (status, body) or an error."""
        self.rejected: list[tuple[str, str]] = []
        """(error, text) of every message Telegram would have refused."""
        self._answered: set[str] = set()

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        queued = self.fail_with.get(api_method)
        if queued:
            failure = queued.pop(0)
            if isinstance(failure, Exception):
                raise failure
            status, body = failure
            return status, json.dumps(body).encode()
        if api_method == "answerCallbackQuery":
            query_id = str(params.get("callback_query_id"))
            if query_id in self._answered:  # Telegram takes one answer per query
                self.rejected.append(("QUERY_ID_INVALID", query_id))
                body = {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: query is too old and response timeout expired "
                    "or query ID is invalid",
                }
                return 400, json.dumps(body).encode()
            self._answered.add(query_id)
        if api_method in MESSAGES:
            error = telegram_html_error(Call(api_method, params).text)
            call = Call(api_method, params)
            copies = {text for text, _ in call.copies} | {text for text, _ in call.links}
            buttons = [(text, data) for text, data in call.buttons if text not in copies]
            if error is None and any(
                not 1 <= len(data.encode()) <= 64 or not text for text, data in buttons
            ):
                error = "BUTTON_DATA_INVALID"
            if error is not None:
                self.rejected.append((error, str(params.get("text", ""))))
                body = {
                    "ok": False,
                    "error_code": 400,
                    "description": f"Bad Request: can't parse entities: {error}",
                }
                return 400, json.dumps(body).encode()
        self.calls.append(Call(api_method, params))
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_ME
        if method in MESSAGES or method == "sendInvoice":
            chat_id = int(params.get("chat_id", 0))
            message_id = int(params.get("message_id") or next(self._ids))
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": params.get("text", ""),
            }
        if method == "getUpdates":
            return []
        return True

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages sent or edited, oldest first (to one chat if given)."""
        return [
            c
            for c in self.calls
            if c.method in MESSAGES
            and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)
        ]


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "panel_url": "sandbox",
        "database_path": tmp_path / "bot.db",
        "admin_ids": str(ADMIN),
        "allowed_ids": f"{USER},{OTHER}",
        "poll_interval": 60,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def sandbox_client(sandbox: SandboxPanel, **kwargs: Any) -> PanelClient:
    http = httpx.AsyncClient(transport=sandbox.transport())
    kwargs.setdefault("backoff", 0.0)
    return PanelClient("http://panel.test/api/v2", SANDBOX_KEY, http=http, **kwargs)


@dataclass
class Clock:
    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """A wait on this clock: time jumps ahead, other tasks get their turn."""
        self.advance(seconds)
        await asyncio.sleep(0)


class Harness:
    """The application with simulated users. Use as `async with Harness(...) as bot:`."""

    def __init__(
        self,
        tmp_path: Path,
        sandbox: SandboxPanel | None = None,
        *,
        clock: Clock | None = None,
        settings: Settings | None = None,
        panel: PanelClient | None = None,
        request: RecordingRequest | None = None,
        **settings_overrides: Any,
    ) -> None:
        self.tmp_path = tmp_path
        self.clock = clock or Clock()
        self.sandbox = sandbox or SandboxPanel(clock=self.clock)
        self.settings = settings or make_settings(tmp_path, **settings_overrides)
        self.request = request or RecordingRequest()
        self.app, self.parts = build_application(
            self.settings,
            panel=panel or sandbox_client(self.sandbox, clock=self.clock, sleep=self.clock.sleep),
            request=self.request,
            clock=self.clock,
        )
        self._ids = itertools.count(1)

    async def __aenter__(self) -> Harness:
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        if self.state.balance.learning is not None:
            await self.state.balance.learning  # done before a test injects its faults
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.app.post_stop:
            await self.app.post_stop(self.app)
        await self.app.shutdown()
        if self.app.post_shutdown:
            await self.app.post_shutdown(self.app)
        if exc[0] is None:
            assert not self.request.rejected, f"Telegram would refuse: {self.request.rejected}"

    @property
    def state(self) -> Any:
        """The use cases, as the skin has them."""
        return self.app.bot_data

    @property
    def store(self) -> SqliteStore:
        return self.parts.store

    @property
    def panel(self) -> PanelClient:
        return self.parts.panel

    @property
    def catalog(self) -> Catalog:
        return self.parts.catalog

    @property
    def tracking(self) -> OrderTracking:
        return self.parts.tracking

    @property
    def unsaved(self) -> UnsavedOutcomes:
        return self.parts.unsaved

    def _user(self, user_id: int, language: str | None) -> User:
        return User(id=user_id, first_name=f"U{user_id}", is_bot=False, language_code=language)

    def message_update(self, user_id: int, text: str, language: str | None = "en") -> Update:
        user = self._user(user_id, language)
        entities = []
        if text.startswith("/"):
            command = text.split()[0] if text.split() else text
            entities = [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command))]
        message = Message(
            message_id=next(self._ids),
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type=Chat.PRIVATE),
            from_user=user,
            text=text,
            entities=entities,
        )
        message.set_bot(self.app.bot)
        update = Update(update_id=next(self._ids), message=message)
        update.set_bot(self.app.bot)
        return update

    def callback_update(self, user_id: int, data: str, language: str | None = "en") -> Update:
        user = self._user(user_id, language)
        message = Message(
            message_id=next(self._ids),
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type=Chat.PRIVATE),
            text="menu",
            from_user=User(id=42, first_name="SMM", is_bot=True),
        )
        message.set_bot(self.app.bot)
        query = CallbackQuery(
            id=str(next(self._ids)), from_user=user, chat_instance="ci", data=data, message=message
        )
        query.set_bot(self.app.bot)
        update = Update(update_id=next(self._ids), callback_query=query)
        update.set_bot(self.app.bot)
        return update

    async def process(self, update: Update) -> None:
        """One update, and the messages it asked to send at once (the outbox's)."""
        await self.app.process_update(update)
        await self.state.tracker.delivered()

    async def say(self, user_id: int, text: str, language: str | None = "en") -> Call:
        """The user sends a text; returns the bot's last message to them."""
        await self.process(self.message_update(user_id, text, language))
        return self.last(user_id)

    async def orders_of(self, user_id: int) -> list[Order]:
        """The user's orders as their list has them (refused attempts aside), newest first."""
        orders = self.store.orders
        return await orders.by_ids([o.id for o in await orders.listing(user_id)])

    def data(self, user_id: int) -> UserData:
        """What the bot keeps for this user (the draft, the search, ...)."""
        return self.app.user_data[user_id]

    async def tap(self, user_id: int, data: str, language: str | None = "en") -> Call:
        """The user taps a button; returns the bot's last message to them."""
        await self.process(self.callback_update(user_id, data, language))
        return self.last(user_id)

    def last(self, user_id: int) -> Call:
        sent = self.request.sent(user_id)
        assert sent, "the bot sent nothing"
        return sent[-1]

    def answers(self) -> list[Call]:
        return [c for c in self.request.calls if c.method == "answerCallbackQuery"]

    async def settle(self) -> None:
        """Let background tasks (catalog refreshes) finish."""
        await asyncio.sleep(0)


async def eventually(condition: Any, within: float = 5.0) -> None:
    """Wait until `condition()` is true (polling), or fail after `within` seconds."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")
