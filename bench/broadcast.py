"""A broadcast to 5,000 users through the real process, against a fake Bot API over HTTP on
127.0.0.1 that answers 429 past 30 messages a second and "blocked" for 10 % of the users; the
process is killed (SIGKILL) halfway and started again: every other user gets it once."""

from __future__ import annotations

import asyncio
import itertools
import signal
import sys
import tempfile
import time
from pathlib import Path

from bot.adapters.sqlite.store import SqliteStore
from bot.core.actor import Actor
from bot.core.broadcasts import Broadcasts
from bot.core.records import Audience
from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN
from tests.process.bot_process import start_bot, wait_for

COUNT = 5_000
ADMIN = 1


async def seed(path: Path, users: list[int]) -> None:
    """The users, and a broadcast to all of them Sent (the process sends it at its start)."""
    store = SqliteStore(path)
    await store.open()
    try:
        for user in users:
            await store.users.touch(user, "en")
        broadcasts = Broadcasts(store, "en", time.time)
        admin = Actor(ADMIN, is_admin=True)
        draft = await broadcasts.draft(admin, "text", "Our big sale starts now", None)
        assert draft is not None
        await broadcasts.preview(admin, draft.id, Audience("all"))
        assert await broadcasts.start(admin, draft.id, ADMIN, 1) is not None
    finally:
        await store.close()


def measure(count: int) -> dict[str, float]:
    users = list(range(100_000, 100_000 + count))
    blocked = set(users[::10])
    telegram = FakeTelegram(TOKEN, max_per_second=30, blocked=blocked).start()
    try:
        with tempfile.TemporaryDirectory() as directory:
            folder = Path(directory)
            asyncio.run(seed(folder / "bot.db", users))
            wanted = set(users) - blocked

            def received() -> int:
                return sum(1 for chat in telegram.replies if chat in wanted)

            with (folder / "run1.log").open("w") as log:
                bot = start_bot(folder, telegram, output=log, ADMIN_IDS=str(ADMIN))
                wait_for(lambda: received() >= len(wanted) // 2, 600)
                bot.send_signal(signal.SIGKILL)
                bot.wait(30)
            with (folder / "run2.log").open("w") as log:
                bot = start_bot(folder, telegram, output=log, ADMIN_IDS=str(ADMIN))
                try:
                    wait_for(
                        lambda: any(
                            "done" in str(m.get("text")) and "Broadcast" in str(m.get("text"))
                            for m in telegram.sent(ADMIN)
                        ),
                        600,
                    )
                finally:
                    bot.terminate()
                    bot.wait(30)
        times = sorted(
            [at for chat, ats in telegram.replies.items() if chat in wanted for at in ats]
            + [at for _, at in telegram.refused]
        )
        gaps = [b - a for a, b in itertools.pairwise(times)]
        sending = sum(gap for gap in gaps if gap < 1.0)  # the restart's pause left out
        # the rate: messages to the users (delivered, and answered "blocked") a second
        counts = [len(telegram.replies.get(chat, [])) for chat in wanted]
        return {
            "rate": len(times) / sending if sending else 0.0,
            "duplicates": sum(n - 1 for n in counts if n > 1),
            "lost": sum(1 for n in counts if n == 0),
            "too_many": telegram.too_many,
        }
    finally:
        telegram.stop()


def run(count: int = COUNT) -> list[tuple[str, str, str, bool]]:
    figures = measure(count)
    return [
        (
            f"broadcast: {count:,} users against a 30/s Bot API, 10 % blocked, rate",
            "25 /s pace (>= 24)",
            f"{figures['rate']:.1f} /s",
            figures["rate"] >= 24,
        ),
        (
            "broadcast: killed halfway, duplicates and lost",
            "0 and 0",
            f"{figures['duplicates']:.0f} and {figures['lost']:.0f}",
            figures["duplicates"] == 0 and figures["lost"] == 0,
        ),
    ]


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else COUNT):
        print(row)
