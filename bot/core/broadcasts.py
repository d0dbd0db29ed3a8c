"""Broadcasts without Telegram: an admin's message (text or a photo, with link buttons), its
audience (everyone, customers with a wallet, users who ordered in the last N days, one
language) counted for the preview, then sent once to each of its recipients.

At Send the audience is fixed: one row per recipient (an outbox of its own, so that a
broadcast never holds back the other notices). Users who blocked the bot or turned
notifications off are not messaged (the blocked ones are counted). The sender takes a few
recipients at a time, marks each "sending" right before its call and "sent", "blocked" or
"failed" right after: after a crash or a restart it goes on with the rest, and never sends
twice to one who may have got it (a recipient left "sending" by a crash counts as failed).
"""

from __future__ import annotations

import json
import re

from bot.core.actor import Actor
from bot.core.notices import BroadcastReport
from bot.core.ports import Clock, Store
from bot.core.records import Audience, Broadcast, BroadcastState, RecipientState, Tally

DAY = 86_400.0
MAX_BUTTONS = 6
BUTTON_LINE = re.compile(r"^\s*\[([^\]\n]{1,40})\]\((https?://[^\s)]{1,300})\)\s*$")
"""A link button, as an admin writes it on a line of its own at the end: `[Text](https://…)`."""


def split_buttons(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The message without its last lines of link buttons, and the buttons."""
    lines = html.rstrip().split("\n")
    buttons: list[tuple[str, str]] = []
    while lines and (found := BUTTON_LINE.match(lines[-1])) and len(buttons) < MAX_BUTTONS:
        buttons.insert(0, (found.group(1).strip(), found.group(2).replace("&amp;", "&")))
        lines.pop()
    return "\n".join(lines).rstrip(), buttons


def encode_buttons(buttons: list[tuple[str, str]]) -> str:
    return json.dumps([list(b) for b in buttons], ensure_ascii=False)


def decode_buttons(text: str) -> list[tuple[str, str]]:
    return [(str(label), str(url)) for label, url in json.loads(text or "[]")]


class Broadcasts:
    def __init__(self, store: Store, default_language: str, clock: Clock) -> None:
        self._store = store
        self._default = default_language
        self._clock = clock

    async def draft(
        self, actor: Actor, kind: str, html: str, photo: str | None
    ) -> Broadcast | None:
        """An admin's message kept as a draft (None: not an admin, or nothing to send)."""
        if not actor.is_admin:
            return None
        body, buttons = split_buttons(html)
        if not body and photo is None:
            return None
        return await self._store.broadcasts.create(actor.user_id, kind, body, photo, buttons)

    async def get(self, actor: Actor, broadcast_id: int) -> Broadcast | None:
        found = await self._store.broadcasts.get(broadcast_id)
        return found if found is not None and actor.is_admin else None

    async def preview(self, actor: Actor, broadcast_id: int, audience: Audience) -> int | None:
        """The audience chosen for a draft, and how many it reaches now (None: no such
        draft)."""
        found = await self.get(actor, broadcast_id)
        if found is None or found.state is not BroadcastState.DRAFT:
            return None
        await self._store.broadcasts.set_audience(broadcast_id, audience.code())
        return len(await self._audience(audience))

    async def _audience(self, audience: Audience) -> list[tuple[int, bool]]:
        since = self._clock() - int(audience.value or 0) * DAY
        return await self._store.broadcasts.audience(
            audience.kind, audience.value, since, self._default
        )

    async def start(
        self, actor: Actor, broadcast_id: int, chat_id: int, message_id: int
    ) -> Broadcast | None:
        """Send: the recipients fixed (once; a second tap finds it running: None)."""
        found = await self.get(actor, broadcast_id)
        if found is None or found.state is not BroadcastState.DRAFT or found.audience is None:
            return None
        recipients = await self._audience(found.audience)
        async with self._store.transaction() as tx:
            if not await tx.broadcasts.start(broadcast_id, recipients, chat_id, message_id):
                return None
        return await self._store.broadcasts.get(broadcast_id)

    async def cancel(self, actor: Actor, broadcast_id: int) -> bool:
        found = await self.get(actor, broadcast_id)
        return found is not None and await self._store.broadcasts.cancel(broadcast_id)

    async def running(self) -> list[Broadcast]:
        return await self._store.broadcasts.running()

    async def next_recipients(self, broadcast_id: int, limit: int) -> list[int]:
        """The next recipients not sent to yet."""
        return await self._store.broadcasts.take(broadcast_id, limit)

    async def record(self, broadcast_id: int, results: dict[int, RecipientState]) -> None:
        """Where recipients stand: `SENDING` is written (committed) right before the message
        is sent, its outcome right after, so a crash leaves in doubt only the messages in
        flight."""
        await self._store.broadcasts.record(broadcast_id, results)

    async def tally(self, broadcast_id: int) -> Tally:
        return await self._store.broadcasts.tally(broadcast_id)

    async def finish(self, broadcast_id: int) -> Tally | None:
        """Done: the report to its admin (through the outbox), once."""
        found = await self._store.broadcasts.get(broadcast_id)
        if found is None:
            return None
        async with self._store.transaction() as tx:
            tally = await tx.broadcasts.tally(broadcast_id)
            if not await tx.broadcasts.finish(broadcast_id):
                return None
            await tx.outbox.add(
                [
                    BroadcastReport(
                        found.admin_id,
                        broadcast=broadcast_id,
                        total=tally.total,
                        sent=tally.sent,
                        blocked=tally.blocked,
                        failed=tally.failed,
                    )
                ]
            )
        return tally

    async def interrupted(self, broadcast_id: int) -> int:
        """After a crash: recipients left "sending" may have got it; they are not sent to
        again (counted as failed). Returns how many."""
        return await self._store.broadcasts.give_up_sending(broadcast_id)
