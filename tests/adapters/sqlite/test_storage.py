"""The database: migrations, WAL, and the order intent that makes double orders impossible."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.sqlite.db import MIGRATIONS, Database, DatabaseUnusable
from bot.adapters.sqlite.orders import DUE_FOR_CHECK
from bot.adapters.sqlite.store import SqliteStore
from bot.core.api import Service
from bot.core.checkout import resolve_interrupted
from bot.core.notices import Interrupted
from bot.core.records import Outcome
from bot.telegram.context import PendingRetry, UserData
from bot.telegram.persistence import StorePersistence

SERVICE = Service.model_validate(
    {
        "service": 1,
        "name": "S",
        "type": "Default",
        "rate": "1.5",
        "min": 1,
        "max": 10,
        "refill": True,
    }
)


async def test_the_tracker_reads_its_due_orders_from_the_index_alone(tmp_path: Path) -> None:
    """The cycle over 100,000 orders reads no table row until an order has news (bench)."""
    db = Database(tmp_path / "bot.db")
    await db.open()
    try:
        plan = await db.fetchall(f"EXPLAIN QUERY PLAN {DUE_FOR_CHECK}", (0.0,))
    finally:
        await db.close()
    assert any("COVERING INDEX orders_due" in row["detail"] for row in plan), list(map(dict, plan))


async def test_fresh_create(tmp_path: Path) -> None:
    db = Database(tmp_path / "a" / "bot.db")
    await db.open()
    assert await db.version() == len(MIGRATIONS)
    row = await db.fetchone("PRAGMA journal_mode")
    assert row is not None and row[0] == "wal"
    tables = {r["name"] for r in await db.fetchall("SELECT name FROM sqlite_master")}
    assert {
        "users",
        "orders",
        "refills",
        "service_cache",
        "outbox",
        "ptb_user_data",
        "ptb_conversations",
    } <= tables
    await db.close()


async def test_upgrade_from_an_older_version_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE schema_version (version INTEGER);"
        + MIGRATIONS[0]
        + "INSERT INTO schema_version VALUES (1);"
        "INSERT INTO users (user_id, first_seen, last_seen) VALUES (7, 0, 0);"
    )
    conn.close()
    db = Database(path)
    await db.open()
    assert await db.version() == len(MIGRATIONS)
    assert (await db.fetchone("SELECT user_id FROM users"))["user_id"] == 7  # type: ignore[index]
    assert await db.fetchone("SELECT COUNT(*) FROM outbox") is not None
    await db.close()
    # The file as it was, copied before the upgrade touched it.
    (copy,) = backups(tmp_path)
    assert copy.name.startswith("bot.db.v1-")
    kept = sqlite3.connect(copy)
    assert kept.execute("SELECT MAX(version) FROM schema_version").fetchone() == (1,)
    assert kept.execute("SELECT user_id FROM users").fetchall() == [(7,)]
    kept.close()
    # Opening again applies nothing, and copies nothing.
    db = Database(path)
    await db.open()
    assert await db.version() == len(MIGRATIONS)
    await db.close()
    assert len(backups(tmp_path)) == 1


def backups(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.bak"))


async def test_a_fresh_database_is_not_backed_up(tmp_path: Path) -> None:
    db = Database(tmp_path / "bot.db")
    await db.open()
    await db.close()
    assert not backups(tmp_path)


async def test_a_database_file_the_bot_cannot_write_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = Database(tmp_path / "bot.db")
    await made.open()
    await made.close()
    monkeypatch.setattr("os.access", lambda path, mode: False)  # as root, every file is
    with pytest.raises(DatabaseUnusable, match="is not readable and writable by the user"):
        await Database(tmp_path / "bot.db").open()


async def test_an_unusable_place_is_refused_before_aiosqlite_starts_its_thread(
    tmp_path: Path,
) -> None:
    """A failed aiosqlite open leaves its thread to finish after the event loop closed ("Event
    loop is closed", a traceback in most runs of a busy machine): none is started."""
    (tmp_path / "file").write_text("in the way of a directory")
    threads = threading.active_count()
    with pytest.raises(DatabaseUnusable, match="cannot be made: a file is in its way"):
        await Database(tmp_path / "file" / "bot.db").open()
    assert threading.active_count() == threads


async def test_one_database_one_bot(tmp_path: Path) -> None:
    first = Database(tmp_path / "bot.db")
    await first.open()
    with pytest.raises(DatabaseUnusable, match=f"Another bot \\(pid {os.getpid()}\\)"):
        await Database(tmp_path / "bot.db").open()
    await first.close()
    second = Database(tmp_path / "bot.db")
    await second.open()
    await second.close()


async def test_an_intent_is_recorded_once(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "bot.db"))
    await store.open()
    kwargs = dict(
        intent_key="k1",
        user_id=5,
        service=SERVICE,
        fields={"link": "l"},
        quantity=10,
        price=Decimal("0.015"),
        currency="USD",
        paid=None,
        cost=None,
    )
    row, created = await store.orders.record_intent(**kwargs)  # type: ignore[arg-type]
    again, created_again = await store.orders.record_intent(**kwargs)  # type: ignore[arg-type]
    assert created and not created_again and again.id == row.id
    assert row.outcome is Outcome.SUBMITTING and row.price == Decimal("0.015")
    await store.orders.set_placed(row.id, 777)
    placed = await store.orders.get(row.id)
    assert placed is not None
    assert placed.panel_order_id == 777 and placed.outcome is Outcome.PLACED
    await store.close()


async def test_a_submission_interrupted_by_a_restart_becomes_outcome_unknown(
    tmp_path: Path,
) -> None:
    store = SqliteStore(str(tmp_path / "bot.db"))
    await store.open()
    row, _ = await store.orders.record_intent(
        intent_key="k",
        user_id=5,
        service=SERVICE,
        fields={},
        quantity=1,
        price=Decimal(1),
        currency="",
        paid=None,
        cost=None,
    )
    await store.close()
    store = SqliteStore(str(tmp_path / "bot.db"))
    await store.open()
    assert await resolve_interrupted(store) == 1  # as the bot does at start
    assert await resolve_interrupted(store) == 0  # once
    reopened = await store.orders.get(row.id)
    assert reopened is not None and reopened.outcome is Outcome.UNKNOWN
    (told,) = await store.outbox.pending(10)
    assert isinstance(told.notice, Interrupted) and told.notice.to == 5
    await store.close()


async def test_persistence_writes_user_data_only_when_it_changed(store: SqliteStore) -> None:
    persistence = StorePersistence(store.sessions, store.open)
    writes: list[str] = []
    execute_many = store.db.execute_many

    async def counting(statements: Any) -> None:
        statements = list(statements)
        writes.extend(sql.split()[0] for sql, rows in statements for _ in rows)
        await execute_many(statements)

    store.db.execute_many = counting  # type: ignore[method-assign]
    data = UserData()
    data.search = "followers"
    await persistence.update_user_data(1, data)
    await persistence.update_user_data(1, data)  # PTB offers it again, unchanged
    assert writes == ["INSERT"]
    data.search = "likes"
    await persistence.update_user_data(1, data)
    assert writes == ["INSERT", "INSERT"]
    await persistence.drop_user_data(1)
    await persistence.update_user_data(1, data)
    assert writes == ["INSERT", "INSERT", "DELETE", "INSERT"]
    restarted = StorePersistence(
        store.sessions, store.open
    )  # a new process knows what is stored already
    assert (await restarted.get_user_data())[1].search == "likes"
    await restarted.update_user_data(1, data)
    assert writes == ["INSERT", "INSERT", "DELETE", "INSERT"]


async def test_a_save_round_is_one_transaction_and_a_failing_one_fails_every_writer(
    store: SqliteStore,
) -> None:
    persistence = StorePersistence(store.sessions, store.open)
    transactions = 0
    execute_many = store.db.execute_many

    async def counting(statements: Any) -> None:
        nonlocal transactions
        transactions += 1
        await execute_many(statements)

    store.db.execute_many = counting  # type: ignore[method-assign]
    users = {user_id: UserData() for user_id in range(1, 51)}
    for user_id, data in users.items():
        data.search = f"search {user_id}"
    await asyncio.gather(
        *(persistence.update_user_data(user_id, data) for user_id, data in users.items()),
        *(persistence.update_conversation("order", (u, u), "ask") for u in users),
        persistence.update_conversation("order", (99, 99), None),
    )
    assert transactions == 1
    assert (await StorePersistence(store.sessions, store.open).get_user_data())[
        50
    ].search == "search 50"
    assert len(await persistence.get_conversations("order")) == 50

    async def failing(statements: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    store.db.execute_many = failing  # type: ignore[method-assign]
    users[1].search = "changed"
    results = await asyncio.gather(
        persistence.update_user_data(1, users[1]),
        persistence.update_conversation("order", (1, 1), None),
        return_exceptions=True,
    )
    assert all(isinstance(r, sqlite3.OperationalError) for r in results)
    store.db.execute_many = execute_many  # type: ignore[method-assign]
    await persistence.update_user_data(1, users[1])  # not taken for written: written now
    assert (await StorePersistence(store.sessions, store.open).get_user_data())[
        1
    ].search == "changed"


def test_a_pending_retry_survives_json_and_nothing_else_passes_for_one() -> None:
    data = UserData()
    data.retry = PendingRetry("refill_status", (501, 502))
    assert UserData.from_json(json.loads(json.dumps(data.to_json()))).retry == data.retry
    for stored in ("status 1 2", ["status"], ["status", [1, "2"]], [1, [2]], None, {"a": 1}):
        assert PendingRetry.from_json(stored) is None
