from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.sqlite.store import SqliteStore
from tests.harness import Clock

CATALOGS = Path(__file__).resolve().parent / "catalogs"
"""The service lists of two real panels, as their `services` action answered (public data)."""


@pytest.fixture
def catalogs() -> list[Path]:
    files = sorted(CATALOGS.glob("*.json"))
    assert len(files) == 2, f"the real catalogs are missing from {CATALOGS}"
    return files


def load_catalog(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def clock() -> Clock:
    return Clock(1_000_000.0)


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(str(tmp_path / "bot.db"), clock)
    await opened.open()
    yield opened
    await opened.close()
