"""The running bot's heartbeat file, and `smm-bot health`, which reads it.

Apart from the rest of the bot so that the health check, which a container runs every 30 s,
loads nothing but the settings: it answers in a fraction of the bot's start-up time."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from bot.config import Settings

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 30.0
"""Seconds between two touches of the heartbeat file while the bot serves."""
HEARTBEAT_STALE = 3 * HEARTBEAT_EVERY
"""`smm-bot health` fails on a heartbeat older than this: the bot stopped or is stuck."""


def heartbeat_path(settings: Settings) -> Path:
    return settings.database_path.parent / "heartbeat"


async def beat(path: Path, every: float = HEARTBEAT_EVERY) -> None:
    """Touch `path` every `every` seconds: a container's health check (`smm-bot health`)
    watches the running bot itself, not the panel or Telegram it talks to."""
    while True:
        try:
            await asyncio.to_thread(path.touch)
        except OSError as exc:
            log.warning("the heartbeat %s cannot be written (%s)", path, exc)
        await asyncio.sleep(every)


def health(settings: Settings) -> bool:
    """Whether the running bot touched its heartbeat lately (a container's health check: it
    does not fail when the panel or Telegram is down, only when the bot is)."""
    path = heartbeat_path(settings)
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        print(f"health: FAILED (no heartbeat at {path}: the bot is not serving)")
        return False
    if age > HEARTBEAT_STALE:
        print(f"health: FAILED (the last heartbeat is {age:.0f} s old: the bot is stuck)")
        return False
    print(f"health: OK (heartbeat {age:.0f} s ago)")
    return True
