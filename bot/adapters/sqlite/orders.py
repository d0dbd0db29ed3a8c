"""Orders: the intent stored before the panel is called, its outcome after, the statuses the
panel reports. Persists only: what refunds, what a notice says is the core's."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal

import aiosqlite

from bot.adapters.sqlite.session import Session, in_lists
from bot.core.api import Service
from bot.core.ports import Clock
from bot.core.records import (
    Check,
    DueOrder,
    ListedOrder,
    NoticeDetails,
    Order,
    Outcome,
    PlacedCost,
    same_target,
    target_core,
)

RECENT_SCAN = 500
DUE_FOR_CHECK = (
    "SELECT id, panel_order_id, status, remains, quantity, created_at FROM orders"
    " WHERE final = 0 AND outcome = 'placed' AND (next_check_at IS NULL OR next_check_at <= ?)"
)
"""Answered from the index `orders_due` alone (a test pins it)."""
AN_ORDER = "('submitting', 'placed', 'unknown')"
"""The outcomes that are (or may be) an order: what the lists show and count."""


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text(amount: Decimal | None) -> str | None:
    return str(amount) if amount is not None else None


class OrderRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._ordered: set[int] = set()
        """Users known to have orders."""

    # -- writes -----------------------------------------------------------------------------

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
        paid: Decimal | None,
        cost: Decimal | None,
    ) -> tuple[Order, bool]:
        """The intent, stored unless one has this key already: the row, and whether it is
        new. It keeps the newest panel order id known now (an order of unknown outcome can
        only be one placed after it)."""
        now = self._clock()
        cursor = await self._session.execute(
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
                _text(paid),
                _text(cost),
            ),
        )
        created = cursor.rowcount == 1
        row = await self.by_intent(intent_key, user_id)
        if row is None:
            raise PermissionError("this intent key belongs to another user")
        return row, created

    async def set_placed(self, row_id: int, panel_order_id: int) -> None:
        await self._session.execute(
            "UPDATE orders SET outcome = ?, panel_order_id = ?, status = 'Pending',"
            " updated_at = ? WHERE id = ?",
            (Outcome.PLACED.value, panel_order_id, self._clock(), row_id),
        )

    async def set_outcome(self, row_id: int, outcome: Outcome, error: str) -> bool:
        """A submission under way ends refused or of unknown outcome; False (nothing
        written) when it is not under way (written already)."""
        cursor = await self._session.execute(
            "UPDATE orders SET outcome = ?, error = ?, updated_at = ? WHERE id = ? AND outcome = ?",
            (outcome.value, error, self._clock(), row_id, Outcome.SUBMITTING.value),
        )
        return cursor.rowcount == 1

    async def interrupt_submissions(self) -> list[Order]:
        """After a restart: the submissions that were under way, now of unknown outcome."""
        rows = await self._session.fetchall(
            "SELECT * FROM orders WHERE outcome = ?", (Outcome.SUBMITTING.value,)
        )
        await self._session.execute(
            "UPDATE orders SET outcome = ?, error = 'interrupted by a restart',"
            " updated_at = ? WHERE outcome = ?",
            (Outcome.UNKNOWN.value, self._clock(), Outcome.SUBMITTING.value),
        )
        return [
            replace(_order(row), outcome=Outcome.UNKNOWN, error="interrupted by a restart")
            for row in rows
        ]

    async def set_not_placed(self, row_id: int) -> bool:
        """An order of unknown outcome found absent from the panel; False when it is no
        longer of unknown outcome."""
        cursor = await self._session.execute(
            "UPDATE orders SET outcome = ?, final = 1, updated_at = ? WHERE id = ? AND outcome = ?",
            (Outcome.NOT_PLACED.value, self._clock(), row_id, Outcome.UNKNOWN.value),
        )
        return cursor.rowcount == 1

    async def attach(self, row_id: int, panel_order_id: int) -> bool:
        """An order of unknown outcome found on the panel: placed with this id. False
        (nothing written) if it is no longer of unknown outcome, or another order has that
        id: one statement, so no other write comes between the check and the write."""
        cursor = await self._session.execute(
            "UPDATE orders SET outcome = ?, panel_order_id = ?, status = 'Pending',"
            " error = NULL, updated_at = ? WHERE id = ? AND outcome = ? AND NOT EXISTS"
            " (SELECT 1 FROM orders WHERE panel_order_id = ?)",
            (
                Outcome.PLACED.value,
                panel_order_id,
                self._clock(),
                row_id,
                Outcome.UNKNOWN.value,
                panel_order_id,
            ),
        )
        return cursor.rowcount == 1

    async def add_refunded(self, row_id: int, amount: Decimal) -> None:
        """What came back to the wallet for this order (kept: never refunded twice)."""
        row = await self._session.fetchone("SELECT refunded FROM orders WHERE id = ?", (row_id,))
        refunded = Decimal(row["refunded"]) if row else Decimal(0)
        await self._session.execute(
            "UPDATE orders SET refunded = ? WHERE id = ?", (str(refunded + amount), row_id)
        )

    async def mark_cancel_requested(self, row_ids: list[int]) -> None:
        now = self._clock()
        await self._session.executemany(
            "UPDATE orders SET cancel_requested_at = ?, updated_at = ? WHERE id = ?",
            [(now, now, row_id) for row_id in row_ids],
        )

    async def store_checks(self, checks: Iterable[Check]) -> None:
        """New statuses, and the schedule of the next poll."""
        now = self._clock()
        checks = list(checks)
        await self._session.executemany(
            "UPDATE orders SET status = ?, charge = COALESCE(?, charge), remains = ?,"
            " start_count = ?, final = ?, updated_at = ?, next_check_at = ? WHERE id = ?",
            [
                (
                    c.status.status_raw,
                    _text(c.status.charge),
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
        # Unchanged orders share their new schedule: one statement per few hundred.
        unchanged: dict[float | None, list[int]] = {}
        for check in checks:
            if check.status is None:
                unchanged.setdefault(check.next_check_at, []).append(check.order_id)
        for next_check_at, ids in unchanged.items():
            for part, marks in in_lists(ids):
                await self._session.execute(
                    f"UPDATE orders SET next_check_at = ? WHERE id IN ({marks})",
                    (next_check_at, *part),
                )

    # -- reads ------------------------------------------------------------------------------

    async def get(self, row_id: int) -> Order | None:
        row = await self._session.fetchone("SELECT * FROM orders WHERE id = ?", (row_id,))
        return _order(row) if row else None

    async def by_intent(self, intent_key: str, user_id: int) -> Order | None:
        """The order placed from this intent, only for the user who placed it."""
        row = await self._session.fetchone(
            "SELECT * FROM orders WHERE intent_key = ? AND user_id = ?", (intent_key, user_id)
        )
        return _order(row) if row else None

    async def by_intents(self, intent_keys: list[str], user_id: int) -> dict[str, Order]:
        """The user's orders placed from these intents, by intent key."""
        found: dict[str, Order] = {}
        for part, marks in in_lists(intent_keys):
            rows = await self._session.fetchall(
                f"SELECT * FROM orders WHERE user_id = ? AND intent_key IN ({marks})",
                (user_id, *part),
            )
            found.update((row["intent_key"], _order(row)) for row in rows)
        return found

    async def by_ids(self, row_ids: list[int]) -> list[Order]:
        """These orders, in the order of `row_ids` (those that exist)."""
        found: dict[int, Order] = {}
        for part, marks in in_lists(row_ids):
            rows = await self._session.fetchall(f"SELECT * FROM orders WHERE id IN ({marks})", part)
            found.update((row["id"], _order(row)) for row in rows)
        return [found[i] for i in row_ids if i in found]

    async def by_panel_ids(self, panel_ids: Iterable[int]) -> dict[int, Order]:
        result: dict[int, Order] = {}
        for part, marks in in_lists(list(set(panel_ids))):
            rows = await self._session.fetchall(
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
        rows = await self._session.fetchall(
            f"SELECT id, final, status FROM orders WHERE user_id = ? AND outcome IN {AN_ORDER}"
            " ORDER BY id DESC",
            (user_id,),
        )
        return [ListedOrder(row[0], bool(row[1]), row[2]) for row in rows]

    async def active_for(self, user_id: int, target: str) -> list[Order]:
        """The user's unfinished orders (placed, or of unknown outcome) for this link. SQL
        keeps the rows holding the link's core (LIKE ignores ASCII case); the exact check is
        `same_target`'s."""
        rows = await self._session.fetchall(
            "SELECT * FROM orders WHERE user_id = ? AND final = 0"
            f" AND outcome IN {AN_ORDER} AND fields LIKE ? ESCAPE '\\' ORDER BY id",
            (user_id, "%" + _like_escaped(target_core(target)) + "%"),
        )
        orders = [_order(row) for row in rows]
        return [o for o in orders if o.target is not None and same_target(o.target, target)]

    async def unfinished_of(self, user_id: int) -> list[Order]:
        """All the user's unfinished orders (placed, or of unknown outcome), oldest first."""
        rows = await self._session.fetchall(
            f"SELECT * FROM orders WHERE user_id = ? AND final = 0 AND outcome IN {AN_ORDER}"
            " ORDER BY id",
            (user_id,),
        )
        return [_order(row) for row in rows]

    async def has_orders(self, user_id: int) -> bool:
        """Whether the user ever ordered (remembered once true: menus ask it often)."""
        if user_id in self._ordered:
            return True
        row = await self._session.fetchone(
            "SELECT 1 FROM orders WHERE user_id = ? LIMIT 1", (user_id,)
        )
        if row is not None:
            self._ordered.add(user_id)
        return row is not None

    async def recent_services(self, user_id: int, limit: int) -> list[int]:
        """The services of the user's latest orders, the latest first (from their last
        `RECENT_SCAN` orders: a reseller's whole history is not read for a menu)."""
        rows = await self._session.fetchall(
            f"SELECT service_id FROM orders WHERE user_id = ? AND outcome IN {AN_ORDER}"
            " ORDER BY id DESC LIMIT ?",
            (user_id, RECENT_SCAN),
        )
        return list(dict.fromkeys(row["service_id"] for row in rows))[:limit]

    async def notice_details(self, row_ids: list[int]) -> dict[int, NoticeDetails]:
        """What the status notices of these orders tell beyond the status."""
        result: dict[int, NoticeDetails] = {}
        for part, marks in in_lists(row_ids):
            rows = await self._session.tuples(
                "SELECT id, user_id, service_name, paid, currency, price, fields FROM orders"
                f" WHERE id IN ({marks})",
                part,
            )
            result.update(
                (row_id, NoticeDetails(user, name, paid, currency, price, json.loads(fields)))
                for row_id, user, name, paid, currency, price, fields in rows
            )
        return result

    async def due_for_check(self, now: float) -> list[DueOrder]:
        """Placed, unfinished orders whose next check is due (read from the index alone)."""
        rows = await self._session.tuples(DUE_FOR_CHECK, (now,))
        return list(map(DueOrder._make, rows))

    async def placed_costs(self, since: float) -> list[PlacedCost]:
        """What the panel charged (and how far it delivered) for each wallet-paid order
        placed since then."""
        rows = await self._session.tuples(
            "SELECT created_at, cost, charge, status, quantity, remains FROM orders"
            " WHERE paid IS NOT NULL AND outcome = 'placed' AND cost IS NOT NULL"
            " AND created_at >= ?",
            (since,),
        )
        return [
            PlacedCost(
                at,
                Decimal(cost),
                Decimal(charge) if charge is not None else None,
                status or "",
                quantity,
                remains,
            )
            for at, cost, charge, status, quantity, remains in rows
        ]

    async def counts_by_status(self) -> dict[str, int]:
        rows = await self._session.fetchall(
            "SELECT COALESCE(status, outcome) AS s, COUNT(*) AS n FROM orders GROUP BY s"
        )
        return {row["s"]: row["n"] for row in rows}

    async def count_since(self, since: float) -> int:
        row = await self._session.fetchone(
            "SELECT COUNT(*) AS n FROM orders WHERE created_at >= ?", (since,)
        )
        return int(row["n"]) if row else 0


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
