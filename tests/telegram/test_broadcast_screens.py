"""Broadcasts through the bot: compose, audience, preview with its count, Send; paced, blocked
users skipped and counted, /notifications off respected, a crash halfway resumed without
sending anyone the message twice."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram.error import TimedOut
from telegram.request import RequestData

from bot.core.records import Audience
from bot.telegram import callback as cb
from bot.telegram.jobs.broadcast import BroadcastJob
from tests.harness import ADMIN, OTHER, USER, Harness, RecordingRequest

BLOCKED = {
    "ok": False,
    "error_code": 403,
    "description": "Forbidden: bot was blocked by the user",
}


class FloodingRequest(RecordingRequest):
    """A Bot API that answers 429 above `limit` messages a second, and "blocked" for some."""

    def __init__(self, limit: int, blocked: set[int]) -> None:
        super().__init__()
        self.limit = limit
        self.blocked = blocked
        self.window: list[float] = []
        self.floods = 0
        self.received: Counter[int] = Counter()
        self.before_send: Callable[[int], None] | None = None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **kwargs: Any
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        if api_method in ("sendMessage", "sendPhoto") and request_data is not None:
            chat = int(request_data.parameters.get("chat_id", 0))
            if chat != ADMIN:
                if self.before_send is not None:
                    self.before_send(chat)
                now = time.monotonic()
                self.window = [at for at in self.window if now - at < 1.0]
                if len(self.window) >= self.limit:
                    self.floods += 1
                    body = {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    }
                    return 429, json.dumps(body).encode()
                self.window.append(now)
                if chat in self.blocked:
                    return 403, json.dumps(BLOCKED).encode()
                self.received[chat] += 1
        return await super().do_request(url, method, request_data, **kwargs)


async def test_an_admin_composes_previews_and_sends_a_broadcast(tmp_path: Path) -> None:
    async with Harness(tmp_path, wallets="on") as bot:
        for user in (USER, OTHER):
            await bot.say(user, "/start")
        await bot.say(OTHER, "/notifications")
        await bot.tap(OTHER, cb.NOTIFICATIONS(0))  # off: no broadcasts either
        prompt = await bot.say(ADMIN, "/broadcast")
        assert "Send the message to broadcast" in prompt.text
        asked = await bot.say(ADMIN, "Big sale & more today!\n[Open the shop](https://t.me/shop)")
        assert "Who gets it?" in asked.text
        preview = await bot.tap(ADMIN, asked.button("👥"))
        shown = bot.request.sent(ADMIN)[-2]
        assert shown.text == "Big sale &amp; more today!"
        assert shown.links == [("Open the shop", "https://t.me/shop")]
        assert "goes to <b>2</b> users" in preview.text  # the admin and USER
        await bot.tap(ADMIN, preview.button("📣"))
        await bot.tap(ADMIN, preview.button("📣"))  # twice: sent once
        await bot.state.broadcast_job.wait()
        await bot.state.tracker.delivered()
        got = [c for c in bot.request.sent(USER) if c.text == "Big sale &amp; more today!"]
        assert len(got) == 1 and got[0].links == [("Open the shop", "https://t.me/shop")]
        assert not [c for c in bot.request.sent(OTHER) if "sale" in c.text]
        report = bot.request.sent(ADMIN)[-1]
        assert "Broadcast #1 done" in report.text and "Sent: 2" in report.text
        assert "Blocked the bot: 0" in report.text
        audience = await bot.say(ADMIN, "/broadcast")
        assert audience.text
        asked = await bot.say(ADMIN, "Second")
        preview = await bot.tap(ADMIN, asked.button("🛒 Ordered in the last 7"))
        assert "goes to <b>0</b> users" in preview.text and "📣 Send" not in str(preview.buttons)
        assert bot.request.sent(USER)[-1].text == "Big sale &amp; more today!"


async def many(bot: Harness, users: list[int]) -> int:
    for user in users:
        await bot.store.users.touch(user, "en")
    actor = bot.state.access.actor(ADMIN)
    draft = await bot.state.broadcasts.draft(actor, "text", "Hello all", None)
    assert draft is not None
    assert await bot.state.broadcasts.preview(actor, draft.id, Audience("all")) == len(users)
    assert await bot.state.broadcasts.start(actor, draft.id, ADMIN, 1) is not None
    return draft.id


def job_of(bot: Harness, per_second: float) -> BroadcastJob:
    state = bot.state
    return BroadcastJob(
        state.broadcasts, state.accounts, state.i18n, clock=time.time, per_second=per_second
    )


async def test_a_broadcast_to_many_is_paced_skips_the_blocked_and_survives_a_crash(
    tmp_path: Path,
) -> None:
    users = list(range(1000, 2000))
    blocked = set(users[::10])
    request = FloodingRequest(limit=300, blocked=blocked)
    async with Harness(tmp_path, request=request) as bot:
        broadcast_id = await many(bot, users)
        job = job_of(bot, 250)
        in_flight: list[int] = []

        def crash(chat: int) -> None:
            """Halfway, the process dies: the message in flight has an unknown outcome, and
            nothing after it is sent."""
            if sum(request.received.values()) >= 450 and not in_flight:
                in_flight.append(chat)
                job._stopping = True
                raise TimedOut("killed")

        request.before_send = crash
        started = await bot.state.broadcasts.running()
        job.start(bot.app.bot, started[0])
        await job.wait()
        halfway = await bot.state.broadcasts.tally(broadcast_id)
        assert in_flight and 0 < halfway.pending < len(users)
        request.before_send = None
        again = job_of(bot, 250)
        await again.resume(bot.app.bot)  # the next start goes on
        await again.wait()
        tally = await bot.state.broadcasts.tally(broadcast_id)
        assert tally.pending == 0 and tally.total == len(users)
        assert tally.blocked == len(blocked - set(in_flight))
        assert max(request.received.values()) == 1  # nobody got it twice
        assert tally.failed == 1 and in_flight[0] not in request.received  # the one in doubt
        assert len(request.received) == tally.sent == len(users) - len(blocked | set(in_flight))
        assert request.floods == 0  # paced under the limit
        blocked_users = await bot.store.users.get_many(blocked - set(in_flight))
        assert all(record.blocked for record in blocked_users.values())


async def test_flood_waits_are_waited_out(tmp_path: Path) -> None:
    users = list(range(1000, 1060))
    request = FloodingRequest(limit=25, blocked=set())
    async with Harness(tmp_path, request=request) as bot:
        broadcast_id = await many(bot, users)
        job = job_of(bot, 250)  # faster than this Bot API takes
        job.start(bot.app.bot, (await bot.state.broadcasts.running())[0])
        await job.wait()
        tally = await bot.state.broadcasts.tally(broadcast_id)
        assert request.floods > 0
        assert tally.sent == len(users) and set(request.received) == set(users)
        assert max(request.received.values()) == 1
