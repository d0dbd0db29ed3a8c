"""Repositories: the only place that knows the tables' columns."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

import aiosqlite

from bot.adapters.sqlite import ledger
from bot.adapters.sqlite.db import Database
from bot.adapters.sqlite.ledger import add_notices
from bot.adapters.sqlite.wallets import DepositRepo, MarkupRepo, WalletRepo
from bot.core.api import OrderState, OrderStatus, RefillState, Service
from bot.core.money import REFUND_ALL, WalletPayment, panel_cost
from bot.core.records import (
    ADMINS,
    BatchLine,
    BatchState,
    Check,
    EntryKind,
    ListedOrder,
    MassBatch,
    Notice,
    Order,
    OutboxItem,
    Outcome,
    Refill,
    Skipped,
    TrackedOrder,
    UserRecord,
    same_target,
    target_core,
    target_of,
)

log = logging.getLogger(__name__)

IN_CHUNK = 500
"""Ids per `IN (...)` list: well below SQLite's limit on parameters."""


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in_lists(ids: list[int]) -> Iterator[tuple[list[int], str]]:
    """The ids `IN_CHUNK` at a time, each part with its `?,?,...` placeholders."""
    for start in range(0, len(ids), IN_CHUNK):
        part = ids[start : start + IN_CHUNK]
        yield part, ",".join("?" * len(part))


Clock = Callable[[], float]
RECENT_SCAN = 500


async def _held(conn: aiosqlite.Connection, row_ids: list[int], now: float) -> None:
    """Orders of unknown outcome paid from a wallet: the money stays taken, and the admins
    are asked (in the same transaction) whether each was placed."""
    if not row_ids:
        return
    notices = []
    for part, marks in _in_lists(row_ids):
        rows = await conn.execute_fetchall(
            "SELECT id, user_id, service_name, fields, paid, currency FROM orders"
            f" WHERE id IN ({marks}) AND paid IS NOT NULL",
            part,
        )
        notices += [
            Notice(
                ADMINS,
                "unknown_paid",
                {
                    "order": row["id"],
                    "user": row["user_id"],
                    "service": row["service_name"],
                    "link": target_of(json.loads(row["fields"])) or "",
                    "paid": row["paid"],
                    "currency": row["currency"],
                },
            )
            for row in rows
        ]
    await add_notices(conn, notices, now)


REFUND_TOLD = frozenset({"order", "unknown_resolved"})
"""The kinds of notices about one order that tell the refund its change causes."""


def _with_refund(notice: Notice, amount: Decimal) -> Notice:
    if amount and notice.kind in REFUND_TOLD:
        return replace(notice, payload={**notice.payload, "refund": str(amount)})
    return notice


async def _store_checks(
    conn: aiosqlite.Connection, checks: list[Check], notices: list[Notice], now: float
) -> None:
    """Statuses (refunded as they say), schedules and the notices they cause, inside the
    caller's transaction; a notice about a refunded order says how much came back."""
    unchanged: dict[float | None, list[int]] = {}
    for check in checks:
        if check.status is None:
            unchanged.setdefault(check.next_check_at, []).append(check.order_id)
    await conn.executemany(
        "UPDATE orders SET status = ?, charge = COALESCE(?, charge), remains = ?,"
        " start_count = ?, final = ?, updated_at = ?, next_check_at = ? WHERE id = ?",
        [
            (
                c.status.status_raw,
                str(c.status.charge) if c.status.charge is not None else None,
                c.status.remains,
                c.status.start_count,
                int(c.status.state.is_final),
                now,
                c.next_check_at,
                c.order_id,
            )
            for c in checks
            if c.status is not None
        ],
    )
    refunds: dict[object, Decimal] = {}
    for c in checks:
        if c.status is not None and (
            c.status.state in REFUND_ALL or c.status.state is OrderState.PARTIAL
        ):
            refunds[c.order_id] = await ledger.refund(
                conn, c.order_id, c.status.state, c.status.remains, now
            )
    # Unchanged orders share their new schedule: one statement per few hundred.
    for next_check_at, ids in unchanged.items():
        for part, marks in _in_lists(ids):
            await conn.execute(
                f"UPDATE orders SET next_check_at = ? WHERE id IN ({marks})",
                (next_check_at, *part),
            )
    told = [_with_refund(n, refunds.get(n.payload.get("order"), Decimal(0))) for n in notices]
    await add_notices(conn, told, now)


def _order(row: aiosqlite.Row) -> Order:
    return Order(
        id=row["id"],
        intent_key=row["intent_key"],
        user_id=row["user_id"],
        panel_order_id=row["panel_order_id"],
        service_id=row["service_id"],
        service_name=row["service_name"],
        service_type=row["service_type"],
        category=row["category"],
        rate=Decimal(row["rate"]),
        can_refill=bool(row["can_refill"]),
        can_cancel=bool(row["can_cancel"]),
        fields=json.loads(row["fields"]),
        quantity=row["quantity"],
        price=Decimal(row["price"]),
        charge=Decimal(row["charge"]) if row["charge"] is not None else None,
        currency=row["currency"],
        outcome=Outcome(row["outcome"]),
        error=row["error"],
        status=row["status"],
        remains=row["remains"],
        start_count=row["start_count"],
        final=bool(row["final"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        cancel_requested_at=row["cancel_requested_at"],
        paid=Decimal(row["paid"]) if row["paid"] is not None else None,
        refunded=Decimal(row["refunded"]),
        cost=Decimal(row["cost"]) if row["cost"] is not None else None,
        known_panel_id=row["known_panel_id"],
    )


class UserRepo:
    """Users, with their rows kept in memory: every update touches its user, and the database
    is written only when something changed or `last_seen` is a minute old."""

    TOUCH_EVERY = 60.0

    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock
        self._rows: dict[int, tuple[UserRecord, float]] = {}

    async def touch(self, user_id: int, telegram_language: str | None = None) -> UserRecord:
        """Record that the user wrote to the bot (which also means they no longer block it),
        and the language of their Telegram."""
        now = self._clock()
        cached = self._rows.get(user_id)
        if (
            cached is not None
            and not cached[0].blocked
            and cached[0].telegram_language == telegram_language
            and now - cached[1] < self.TOUCH_EVERY
        ):
            return cached[0]
        await self._db.execute(
            "INSERT INTO users (user_id, first_seen, last_seen, telegram_language)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
            " last_seen = excluded.last_seen, blocked = 0,"
            " telegram_language = excluded.telegram_language",
            (user_id, now, now, telegram_language),
        )
        row = await self._load(user_id)
        assert row is not None
        self._rows[user_id] = (row, now)
        return row

    async def get(self, user_id: int) -> UserRecord | None:
        cached = self._rows.get(user_id)
        return cached[0] if cached is not None else await self._load(user_id)

    async def _load(self, user_id: int) -> UserRecord | None:
        row = await self._db.fetchone("SELECT * FROM users WHERE user_id = ?", (user_id,))
        return _user(row) if row else None

    async def _changed(self, user_id: int) -> None:
        row = await self._load(user_id)
        if row is not None and user_id in self._rows:
            self._rows[user_id] = (row, self._rows[user_id][1])

    async def get_many(self, user_ids: Iterable[int]) -> dict[int, UserRecord]:
        ids = list(set(user_ids))
        result: dict[int, UserRecord] = {}
        for part, marks in _in_lists(ids):
            rows = await self._db.fetchall(f"SELECT * FROM users WHERE user_id IN ({marks})", part)
            result.update((row["user_id"], _user(row)) for row in rows)
        return result

    async def set_language(self, user_id: int, language: str) -> None:
        await self._db.execute(
            "UPDATE users SET language = ? WHERE user_id = ?", (language, user_id)
        )
        await self._changed(user_id)

    async def set_notifications(self, user_id: int, enabled: bool) -> None:
        await self._db.execute(
            "UPDATE users SET notifications = ? WHERE user_id = ?", (int(enabled), user_id)
        )
        await self._changed(user_id)

    async def mark_blocked(self, user_id: int) -> None:
        await self._db.execute("UPDATE users SET blocked = 1 WHERE user_id = ?", (user_id,))
        await self._changed(user_id)

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) AS n FROM users")
        return int(row["n"]) if row else 0


def _user(row: aiosqlite.Row) -> UserRecord:
    return UserRecord(
        user_id=row["user_id"],
        language=row["language"],
        telegram_language=row["telegram_language"],
        notifications=bool(row["notifications"]),
        blocked=bool(row["blocked"]),
    )


class OrderRepo:
    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock
        self._ordered: set[int] = set()
        """Users known to have orders."""

    async def record_intent(
        self,
        *,
        intent_key: str,
        user_id: int,
        service: Service,
        fields: Mapping[str, str],
        quantity: int | None,
        price: Decimal,
        currency: str,
        payment: WalletPayment | None = None,
    ) -> tuple[Order, bool]:
        """Store the intent to order before the panel is called; `payment`: taken from the
        user's wallet in the same transaction (`InsufficientFunds`: no intent, nothing
        taken).

        Returns the row and whether it is new. An existing row means this intent was already
        submitted (a double tap, a repeated callback, a restart): it must not be sent again.
        Raises `StorageLost` when the database file is gone: an order it cannot keep is not
        placed.
        """
        self._db.check_file()
        now = self._clock()
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO orders (intent_key, user_id, service_id, service_name, service_type,"
                " category, rate, can_refill, can_cancel, fields, quantity, price, currency,"
                " outcome, created_at, updated_at, paid, cost, known_panel_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " (SELECT MAX(panel_order_id) FROM orders))"
                " ON CONFLICT (intent_key) DO NOTHING",
                (
                    intent_key,
                    user_id,
                    service.id,
                    service.name,
                    service.type_raw,
                    service.category,
                    str(service.rate),
                    int(service.refill),
                    int(service.cancel),
                    json.dumps(dict(fields), ensure_ascii=False),
                    quantity,
                    str(price),
                    currency,
                    Outcome.SUBMITTING.value,
                    now,
                    now,
                    str(payment.amount) if payment is not None else None,
                    str(payment.cost) if payment is not None else None,
                ),
            )
            if cursor.rowcount == 1 and payment is not None:
                await ledger.post(
                    conn,
                    user_id,
                    -payment.amount,
                    EntryKind.DEBIT_ORDER,
                    now,
                    order_id=cursor.lastrowid,
                )
        created = cursor.rowcount == 1
        row = await self.by_intent(intent_key, user_id)
        if row is None:
            raise PermissionError("this intent key belongs to another user")
        return row, created

    async def by_intent(self, intent_key: str, user_id: int) -> Order | None:
        """The order placed from this intent, only for the user who placed it."""
        row = await self._db.fetchone(
            "SELECT * FROM orders WHERE intent_key = ? AND user_id = ?", (intent_key, user_id)
        )
        return _order(row) if row else None

    async def get(self, row_id: int) -> Order | None:
        row = await self._db.fetchone("SELECT * FROM orders WHERE id = ?", (row_id,))
        return _order(row) if row else None

    async def mark_placed(self, row_id: int, panel_order_id: int) -> Order:
        now = self._clock()
        await self._db.execute(
            "UPDATE orders SET outcome = ?, panel_order_id = ?, status = 'Pending',"
            " updated_at = ? WHERE id = ?",
            (Outcome.PLACED.value, panel_order_id, now, row_id),
        )
        return await self._must_get(row_id)

    async def mark_failed(self, row_id: int, outcome: Outcome, error: str) -> Order:
        """A refused order's payment comes back at once, in the same transaction; one of
        unknown outcome keeps it (held until someone finds out). Only a submission under way
        changes: written twice (a retry after a failed write), it moves nothing twice."""
        now = self._clock()
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE orders SET outcome = ?, error = ?, updated_at = ? WHERE id = ?"
                " AND outcome = ?",
                (outcome.value, error, now, row_id, Outcome.SUBMITTING.value),
            )
            if cursor.rowcount and outcome is Outcome.REJECTED:
                await ledger.refund(conn, row_id, OrderState.FAIL, None, now)
            elif cursor.rowcount and outcome is Outcome.UNKNOWN:
                await _held(conn, [row_id], now)
        return await self._must_get(row_id)

    async def mark_not_placed(self, row_id: int, notices: Sequence[Notice] = ()) -> Order | None:
        """An order of unknown outcome the user (or an admin) found absent from the panel: its
        money back, `notices` (told how much) with it; None when it is no longer of unknown
        outcome (attached meanwhile, say)."""
        now = self._clock()
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE orders SET outcome = ?, final = 1, updated_at = ?"
                " WHERE id = ? AND outcome = ?",
                (Outcome.NOT_PLACED.value, now, row_id, Outcome.UNKNOWN.value),
            )
            if cursor.rowcount:
                back = await ledger.refund(conn, row_id, OrderState.FAIL, None, now)
                await add_notices(conn, [_with_refund(n, back) for n in notices], now)
        return await self._must_get(row_id) if cursor.rowcount else None

    async def mark_cancel_requested(self, row_ids: list[int]) -> None:
        now = self._clock()
        async with self._db.transaction() as conn:
            await conn.executemany(
                "UPDATE orders SET cancel_requested_at = ?, updated_at = ? WHERE id = ?",
                [(now, now, row_id) for row_id in row_ids],
            )

    async def resolve_interrupted(self) -> int:
        """After a restart: a submission that was under way has an unknown outcome, and its
        owner is told so (in the same transaction)."""
        now = self._clock()
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT id, user_id, service_name, fields, paid FROM orders WHERE outcome = ?",
                (Outcome.SUBMITTING.value,),
            )
            await conn.execute(
                "UPDATE orders SET outcome = ?, error = 'interrupted by a restart',"
                " updated_at = ? WHERE outcome = ?",
                (Outcome.UNKNOWN.value, now, Outcome.SUBMITTING.value),
            )
            await _held(conn, [row["id"] for row in rows], now)
            notices = [
                Notice(
                    row["user_id"],
                    "interrupted",
                    {
                        "order": row["id"],
                        "service": row["service_name"],
                        "link": json.loads(row["fields"]).get("link", ""),
                        "wallet": row["paid"] is not None,
                    },
                )
                for row in rows
            ]
            await add_notices(conn, notices, now)
        return len(notices)

    async def attach(self, check: Check, panel_order_id: int, notices: list[Notice]) -> bool:
        """An order of unknown outcome found on the panel: it is placed with this id, its
        status stored (and refunded as it says) with `notices`, in one transaction. False
        (nothing written) if the row is no longer of unknown outcome, or another order has
        that id."""
        now = self._clock()
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE orders SET outcome = ?, panel_order_id = ?, status = 'Pending',"
                " error = NULL, updated_at = ? WHERE id = ? AND outcome = ? AND NOT EXISTS"
                " (SELECT 1 FROM orders WHERE panel_order_id = ?)",
                (
                    Outcome.PLACED.value,
                    panel_order_id,
                    now,
                    check.order_id,
                    Outcome.UNKNOWN.value,
                    panel_order_id,
                ),
            )
            if cursor.rowcount != 1:
                return False
            await _store_checks(conn, [check], notices, now)
        return True

    async def _must_get(self, row_id: int) -> Order:
        row = await self.get(row_id)
        assert row is not None
        return row

    async def active_for(self, user_id: int, target: str) -> list[Order]:
        """The user's unfinished orders (placed, or of unknown outcome) for this link. SQL
        keeps the rows holding the link's core (LIKE ignores ASCII case); the exact check is
        `same_target`'s."""
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE user_id = ? AND final = 0"
            " AND outcome IN ('submitting', 'placed', 'unknown') AND fields LIKE ? ESCAPE '\\'"
            " ORDER BY id",
            (user_id, "%" + _like_escaped(target_core(target)) + "%"),
        )
        orders = [_order(row) for row in rows]
        return [o for o in orders if o.target is not None and same_target(o.target, target)]

    async def unfinished_of(self, user_id: int) -> list[Order]:
        """All the user's unfinished orders (placed, or of unknown outcome), oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM orders WHERE user_id = ? AND final = 0"
            " AND outcome IN ('submitting', 'placed', 'unknown') ORDER BY id",
            (user_id,),
        )
        return [_order(row) for row in rows]

    async def by_intents(self, intent_keys: list[str], user_id: int) -> dict[str, Order]:
        """The user's orders placed from these intents, by intent key."""
        found: dict[str, Order] = {}
        for start in range(0, len(intent_keys), IN_CHUNK):
            part = intent_keys[start : start + IN_CHUNK]
            rows = await self._db.fetchall(
                f"SELECT * FROM orders WHERE user_id = ? AND intent_key IN"
                f" ({','.join('?' * len(part))})",
                (user_id, *part),
            )
            found.update((row["intent_key"], _order(row)) for row in rows)
        return found

    async def has_orders(self, user_id: int) -> bool:
        """Whether the user ever ordered (remembered once true: menus ask it often)."""
        if user_id in self._ordered:
            return True
        row = await self._db.fetchone("SELECT 1 FROM orders WHERE user_id = ? LIMIT 1", (user_id,))
        if row is not None:
            self._ordered.add(user_id)
        return row is not None

    async def recent_services(self, user_id: int, limit: int) -> list[int]:
        """The services of the user's latest orders, the latest first (from their last
        `RECENT_SCAN` orders: a reseller's whole history is not read for a menu)."""
        rows = await self._db.fetchall(
            "SELECT service_id FROM orders WHERE user_id = ?"
            " AND outcome IN ('submitting', 'placed', 'unknown') ORDER BY id DESC LIMIT ?",
            (user_id, RECENT_SCAN),
        )
        return list(dict.fromkeys(row["service_id"] for row in rows))[:limit]

    async def fields_of(self, row_ids: list[int]) -> dict[int, dict[str, str]]:
        """The fields (link, quantity, runs…) of each of these orders."""
        result: dict[int, dict[str, str]] = {}
        for part, marks in _in_lists(row_ids):
            rows = await self._db.fetchall(
                f"SELECT id, fields FROM orders WHERE id IN ({marks})", part
            )
            result.update((row["id"], json.loads(row["fields"])) for row in rows)
        return result

    async def by_panel_ids(self, panel_ids: Iterable[int]) -> dict[int, Order]:
        ids = list(set(panel_ids))
        result: dict[int, Order] = {}
        for part, marks in _in_lists(ids):
            rows = await self._db.fetchall(
                f"SELECT * FROM orders WHERE panel_order_id IN ({marks})", part
            )
            for row in rows:
                order = _order(row)
                assert order.panel_order_id is not None
                result[order.panel_order_id] = order
        return result

    async def listing(self, user_id: int) -> list[ListedOrder]:
        """The user's orders (not refused attempts), newest first, as much as a list needs
        to filter and count them."""
        async with self._db.conn.execute(
            "SELECT id, final, status FROM orders WHERE user_id = ?"
            " AND outcome IN ('submitting', 'placed', 'unknown') ORDER BY id DESC",
            (user_id,),
        ) as cursor:
            cursor.row_factory = None  # plain tuples: a reseller may have thousands
            rows = await cursor.fetchall()
        return [ListedOrder(row[0], bool(row[1]), row[2]) for row in rows]

    async def by_ids(self, row_ids: list[int]) -> list[Order]:
        """These orders, in the order of `row_ids` (those that exist)."""
        found: dict[int, Order] = {}
        for part, marks in _in_lists(row_ids):
            rows = await self._db.fetchall(f"SELECT * FROM orders WHERE id IN ({marks})", part)
            found.update((row["id"], _order(row)) for row in rows)
        return [found[i] for i in row_ids if i in found]

    async def save_status(
        self, row_id: int, status: OrderStatus, next_check_at: float | None
    ) -> None:
        await self.apply_checks([Check(row_id, status, next_check_at)], [])

    async def due_for_check(self, now: float) -> list[TrackedOrder]:
        """Placed, unfinished orders whose next check is due."""
        async with self._db.conn.execute(
            "SELECT id, panel_order_id, user_id, status, remains, quantity, created_at,"
            " service_name, paid, currency, price FROM orders WHERE final = 0"
            " AND outcome = 'placed'"
            " AND (next_check_at IS NULL OR next_check_at <= ?)",
            (now,),
        ) as cursor:
            cursor.row_factory = None  # plain tuples: much cheaper for many rows
            rows = await cursor.fetchall()
        return list(map(TrackedOrder._make, rows))

    async def apply_checks(self, checks: list[Check], notices: list[Notice]) -> None:
        """Store a poll's results and the notifications they cause, all or nothing, with the
        refunds of wallet-paid orders the panel canceled, refunded, failed or delivered in
        part (a notice of such an order says how much came back)."""
        async with self._db.transaction() as conn:
            await _store_checks(conn, checks, notices, self._clock())

    async def panel_costs(self, since: float) -> list[tuple[float, Decimal]]:
        """(time, the panel's cost) of the wallet-paid orders placed since then (`panel_cost`:
        what the panel charged, less what it gives back)."""
        rows = await self._db.fetchall(
            "SELECT created_at, charge, cost, status, quantity, remains FROM orders"
            " WHERE paid IS NOT NULL AND outcome = 'placed' AND cost IS NOT NULL"
            " AND created_at >= ?",
            (since,),
        )
        return [
            (
                row["created_at"],
                panel_cost(
                    Decimal(row["cost"]),
                    Decimal(row["charge"]) if row["charge"] is not None else None,
                    row["quantity"],
                    OrderState.parse(row["status"] or ""),
                    row["remains"],
                ),
            )
            for row in rows
        ]

    async def counts_by_status(self) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT COALESCE(status, outcome) AS s, COUNT(*) AS n FROM orders GROUP BY s"
        )
        return {row["s"]: row["n"] for row in rows}

    async def count_since(self, since: float) -> int:
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM orders WHERE created_at >= ?", (since,)
        )
        return int(row["n"]) if row else 0


class RefillRepo:
    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def add(self, panel_refill_id: int, panel_order_id: int, user_id: int) -> None:
        now = self._clock()
        await self._db.execute(
            "INSERT INTO refills (panel_refill_id, panel_order_id, user_id, status, created_at,"
            " updated_at) VALUES (?, ?, ?, 'Pending', ?, ?) ON CONFLICT DO NOTHING",
            (panel_refill_id, panel_order_id, user_id, now, now),
        )

    async def get_many(self, refill_ids: Iterable[int]) -> dict[int, Refill]:
        result: dict[int, Refill] = {}
        for part, marks in _in_lists(list(set(refill_ids))):
            rows = await self._db.fetchall(
                f"SELECT * FROM refills WHERE panel_refill_id IN ({marks})", part
            )
            result.update((row["panel_refill_id"], _refill(row)) for row in rows)
        return result

    async def latest_for(self, panel_order_id: int) -> Refill | None:
        """The order's most recent refill, if it had any."""
        row = await self._db.fetchone(
            "SELECT * FROM refills WHERE panel_order_id = ? ORDER BY rowid DESC LIMIT 1",
            (panel_order_id,),
        )
        return _refill(row) if row else None

    async def active(self) -> list[Refill]:
        rows = await self._db.fetchall("SELECT * FROM refills WHERE final = 0")
        return [_refill(row) for row in rows]

    async def save_status(self, panel_refill_id: int, status: str) -> None:
        await self.apply_checks({panel_refill_id: status}, [])

    async def apply_checks(self, statuses: dict[int, str], notices: list[Notice]) -> None:
        now = self._clock()
        async with self._db.transaction() as conn:
            await conn.executemany(
                "UPDATE refills SET status = ?, final = ?, updated_at = ?"
                " WHERE panel_refill_id = ?",
                [
                    (status, int(RefillState.parse(status).is_final), now, refill_id)
                    for refill_id, status in statuses.items()
                ],
            )
            await add_notices(conn, notices, now)


def _refill(row: aiosqlite.Row) -> Refill:
    return Refill(
        panel_refill_id=row["panel_refill_id"],
        panel_order_id=row["panel_order_id"],
        user_id=row["user_id"],
        status=row["status"],
        final=bool(row["final"]),
    )


class OutboxRepo:
    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self._db = db
        self._clock = clock

    async def add(self, notices: list[Notice]) -> None:
        async with self._db.transaction() as conn:
            await add_notices(conn, notices, self._clock())

    async def pending(self, limit: int) -> list[OutboxItem]:
        rows = await self._db.fetchall(
            "SELECT id, user_id, kind, payload FROM outbox ORDER BY id LIMIT ?", (limit,)
        )
        return [
            OutboxItem(r["id"], r["user_id"], r["kind"], json.loads(r["payload"])) for r in rows
        ]

    async def remove(self, ids: list[int]) -> None:
        async with self._db.transaction() as conn:
            await conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) AS n FROM outbox")
        return int(row["n"]) if row else 0


class ServiceCacheRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> tuple[float, str] | None:
        """When the list was fetched, and the list as JSON text."""
        row = await self._db.fetchone("SELECT fetched_at, payload FROM service_cache WHERE id = 1")
        if row is None:
            return None
        return row["fetched_at"], row["payload"]

    async def save(self, fetched_at: float, services: list[Service]) -> None:
        payload = json.dumps(
            [s.model_dump(mode="json", by_alias=True) for s in services], ensure_ascii=False
        )
        await self._db.execute(
            "INSERT INTO service_cache (id, fetched_at, payload) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET fetched_at = excluded.fetched_at,"
            " payload = excluded.payload",
            (fetched_at, payload),
        )


class FavouriteRepo:
    """The services each user starred. Menus ask for them often and only `toggle` changes
    them: each user's list is kept once read."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._lists: dict[int, list[int]] = {}

    async def of(self, user_id: int) -> list[int]:
        """The user's favourite service ids, the latest starred first."""
        if user_id not in self._lists:
            rows = await self._db.fetchall(
                "SELECT service_id FROM favourites WHERE user_id = ? ORDER BY added_at DESC",
                (user_id,),
            )
            self._lists[user_id] = [row["service_id"] for row in rows]
        return list(self._lists[user_id])

    async def toggle(self, user_id: int, service_id: int) -> bool:
        """Star or unstar; whether the service is a favourite now."""
        async with self._db.transaction() as conn:
            removed = await conn.execute(
                "DELETE FROM favourites WHERE user_id = ? AND service_id = ?",
                (user_id, service_id),
            )
            starred = not removed.rowcount
            if starred:
                await conn.execute(
                    "INSERT INTO favourites (user_id, service_id, added_at) VALUES (?, ?, ?)",
                    (user_id, service_id, self._clock()),
                )
        self._lists.pop(user_id, None)  # read again, in the database's order
        return starred


class MassBatchRepo:
    """Mass orders: stored at the preview, started once, finished."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(self, key: str, user_id: int, lines: list[BatchLine]) -> None:
        """A new batch waiting for Confirm; the user's earlier waiting one is dropped."""
        now = self._clock()
        encoded = json.dumps(
            [
                [line.number, line.service_id, dict(line.fields), _text(line.price)]
                for line in lines
            ],
            ensure_ascii=False,
        )
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM mass_batches WHERE user_id = ? AND state = ?",
                (user_id, BatchState.PREVIEW.value),
            )
            await conn.execute(
                "INSERT INTO mass_batches (key, user_id, lines, state, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key, user_id, encoded, BatchState.PREVIEW.value, now, now),
            )

    async def start(
        self, key: str, user_id: int, chat_id: int, message_id: int
    ) -> MassBatch | None:
        """The batch, now running (its progress in that message); None unless it was this
        user's and waiting for Confirm: it starts once."""
        cursor = await self._db.execute(
            "UPDATE mass_batches SET state = ?, chat_id = ?, message_id = ?, updated_at = ?"
            " WHERE key = ? AND user_id = ? AND state = ?",
            (
                BatchState.RUNNING.value,
                chat_id,
                message_id,
                self._clock(),
                key,
                user_id,
                BatchState.PREVIEW.value,
            ),
        )
        return await self.get(key, user_id) if cursor.rowcount == 1 else None

    async def drop(self, key: str, user_id: int) -> bool:
        """A batch waiting for Confirm, dropped; False when it was not waiting."""
        cursor = await self._db.execute(
            "DELETE FROM mass_batches WHERE key = ? AND user_id = ? AND state = ?",
            (key, user_id, BatchState.PREVIEW.value),
        )
        return cursor.rowcount == 1

    async def skip(self, key: str, number: int, reason: Skipped) -> None:
        """A line of the running batch not sent, and why (for its report)."""
        await self._db.execute(
            "UPDATE mass_batches SET skipped = json_set(skipped, ?, ?), updated_at = ?"
            " WHERE key = ?",
            (f'$."{number}"', reason.value, self._clock(), key),
        )

    async def finish(self, key: str) -> None:
        await self._db.execute(
            "UPDATE mass_batches SET state = ?, updated_at = ? WHERE key = ?",
            (BatchState.DONE.value, self._clock(), key),
        )

    async def get(self, key: str, user_id: int) -> MassBatch | None:
        row = await self._db.fetchone(
            "SELECT * FROM mass_batches WHERE key = ? AND user_id = ?", (key, user_id)
        )
        return _batch(row) if row else None

    async def running(self) -> list[MassBatch]:
        rows = await self._db.fetchall(
            "SELECT * FROM mass_batches WHERE state = ? ORDER BY created_at",
            (BatchState.RUNNING.value,),
        )
        return [_batch(row) for row in rows]


def _batch(row: aiosqlite.Row) -> MassBatch:
    return MassBatch(
        key=row["key"],
        user_id=row["user_id"],
        state=BatchState(row["state"]),
        lines=tuple(_batch_line(*line) for line in json.loads(row["lines"])),
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        skipped={int(n): Skipped(r) for n, r in json.loads(row["skipped"]).items()},
    )


def _text(amount: Decimal | None) -> str | None:
    return str(amount) if amount is not None else None


def _batch_line(
    number: int, service_id: int, fields: dict[str, str], price: str | None = None
) -> BatchLine:
    return BatchLine(number, service_id, fields, Decimal(price) if price else None)


class KeyValueRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        row = await self._db.fetchone("SELECT value FROM kv WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def delete(self, key: str) -> None:
        await self._db.execute("DELETE FROM kv WHERE key = ?", (key,))


class Store:
    """The database and its repositories, opened and closed together."""

    def __init__(self, path: str, clock: Clock = time.time) -> None:
        self.db = Database(path)
        self.users = UserRepo(self.db, clock)
        self.orders = OrderRepo(self.db, clock)
        self.refills = RefillRepo(self.db, clock)
        self.outbox = OutboxRepo(self.db, clock)
        self.services = ServiceCacheRepo(self.db)
        self.kv = KeyValueRepo(self.db)
        self.favourites = FavouriteRepo(self.db, clock)
        self.mass = MassBatchRepo(self.db, clock)
        self.wallets = WalletRepo(self.db, clock)
        self.deposits = DepositRepo(self.db, clock)
        self.markups = MarkupRepo(self.db)

    async def open(self) -> None:
        """Open once; later calls do nothing."""
        if self.db.is_open:
            return
        await self.db.open()
        interrupted = await self.orders.resolve_interrupted()
        if interrupted:
            log.warning(
                "%d order submission(s) were interrupted; marked outcome unknown", interrupted
            )

    async def close(self) -> None:
        await self.db.close()
