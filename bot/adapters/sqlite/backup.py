"""A consistent copy of the live database (SQLite's online backup), safe while the bot runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def backup(source: Path, destination: Path) -> int:
    """Copy `source` to `destination`; returns the number of orders in the copy."""
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True) as live,
        sqlite3.connect(partial) as copy,
    ):
        live.backup(copy, pages=1024)
        (orders,) = copy.execute("SELECT COUNT(*) FROM orders").fetchone()
    live.close()
    copy.close()
    partial.replace(destination)
    return int(orders)
