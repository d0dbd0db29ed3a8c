"""Notification throughput: 3,000 notifications through the tracker's delivery, against a
fake Bot API over HTTP on 127.0.0.1 that enforces 30 messages a second (429 past it)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bot.adapters.sandbox.panel import SandboxPanel
from bot.app import build_application
from bot.core.notices import OrderChanged
from tests.fake_telegram import FakeTelegram
from tests.harness import TOKEN, make_settings, sandbox_client

COUNT = 3_000


async def measure(count: int) -> dict[str, float]:
    telegram = FakeTelegram(TOKEN, max_per_second=30).start()
    try:
        with tempfile.TemporaryDirectory() as directory:
            settings = make_settings(Path(directory), telegram_api_url=telegram.api_url)
            app, parts = build_application(settings, panel=sandbox_client(SandboxPanel()))
            await app.initialize()
            await app.post_init(app)  # type: ignore[misc]
            try:
                state = app.bot_data
                notices = [
                    OrderChanged(
                        100_000 + i,
                        order=i + 1,
                        panel_id=5000 + i,
                        service="Followers <HQ>",
                        old="In progress",
                        new="Completed",
                        quantity=1000,
                        remains=0,
                        charge=Decimal(15000),
                        currency="IDR",
                    )
                    for i in range(count)
                ]
                await parts.store.outbox.add(notices)
                started = time.perf_counter()
                sent = await state.tracker.deliver(app.bot)
                seconds = time.perf_counter() - started
                left = await parts.store.outbox.count()
            finally:
                await app.shutdown()
                await app.post_shutdown(app)  # type: ignore[misc]
        received = len(telegram.sent())
        return {
            "sent": sent,
            "received": received,
            "left": left,
            "seconds": seconds,
            "rate": received / seconds,
            "too_many": telegram.too_many,
        }
    finally:
        telegram.stop()


def run(count: int = COUNT) -> list[tuple[str, str, str, bool]]:
    figures = asyncio.run(measure(count))
    lost = count - figures["received"]
    return [
        (
            f"notifications: {count:,} against a 30/s Bot API, rate",
            ">= 25 /s",
            f"{figures['rate']:.1f} /s",
            figures["rate"] >= 25,
        ),
        (
            "notifications: lost, and 429 answers",
            "0 and 0",
            f"{lost:.0f} and {figures['too_many']:.0f}",
            lost == 0 and figures["too_many"] == 0,
        ),
    ]


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else COUNT):
        print(row)
