"""Referrals: each user's code, who brought whom (written once), and each order's share of
its referrer (the percent when it was paid, what was paid of it so far)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from bot.adapters.sqlite.session import Session
from bot.core.ports import Clock
from bot.core.records import EntryKind, ReferralShare

ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class ReferralRepo:
    def __init__(self, session: Session, clock: Clock) -> None:
        self._session = session
        self._clock = clock

    async def code_of(self, user_id: int) -> str:
        """The user's code, made at the first ask (random: it tells nothing of their id)."""
        row = await self._session.fetchone(
            "SELECT code FROM referral_codes WHERE user_id = ?", (user_id,)
        )
        while row is None:
            code = "".join(secrets.choice(ALPHABET) for _ in range(8))
            await self._session.execute(
                "INSERT OR IGNORE INTO referral_codes (user_id, code) VALUES (?, ?)",
                (user_id, code),
            )
            row = await self._session.fetchone(
                "SELECT code FROM referral_codes WHERE user_id = ?", (user_id,)
            )
        return str(row["code"])

    async def owner_of(self, code: str) -> int | None:
        row = await self._session.fetchone(
            "SELECT user_id FROM referral_codes WHERE code = ?", (code,)
        )
        return int(row["user_id"]) if row else None

    async def referrer_of(self, user_id: int) -> int | None:
        row = await self._session.fetchone(
            "SELECT referrer_id FROM referrals WHERE user_id = ?", (user_id,)
        )
        return int(row["referrer_id"]) if row else None

    async def link(self, user_id: int, referrer_id: int) -> bool:
        """Linked once: False (nothing changed) when the user has a referrer already."""
        cursor = await self._session.execute(
            "INSERT OR IGNORE INTO referrals (user_id, referrer_id, linked_at) VALUES (?, ?, ?)",
            (user_id, referrer_id, self._clock()),
        )
        return cursor.rowcount == 1

    async def count_referred(self, referrer_id: int) -> int:
        row = await self._session.fetchone(
            "SELECT COUNT(*) AS n FROM referrals WHERE referrer_id = ?", (referrer_id,)
        )
        return int(row["n"]) if row else 0

    async def open_share(self, order_id: int, referrer_id: int, percent: Decimal) -> None:
        await self._session.execute(
            "INSERT OR IGNORE INTO referral_shares (order_id, referrer_id, percent)"
            " VALUES (?, ?, ?)",
            (order_id, referrer_id, str(percent)),
        )

    async def share(self, order_id: int) -> ReferralShare | None:
        row = await self._session.fetchone(
            "SELECT * FROM referral_shares WHERE order_id = ?", (order_id,)
        )
        if row is None:
            return None
        return ReferralShare(
            row["order_id"], row["referrer_id"], Decimal(row["percent"]), Decimal(row["paid"])
        )

    async def set_paid(self, order_id: int, paid: Decimal) -> None:
        await self._session.execute(
            "UPDATE referral_shares SET paid = ? WHERE order_id = ?", (str(paid), order_id)
        )

    async def earned(self, referrer_id: int, since: float) -> Decimal:
        """The referrer's shares since then, net of those taken back (summed exactly)."""
        rows = await self._session.fetchall(
            "SELECT amount FROM ledger WHERE user_id = ? AND kind IN (?, ?) AND created_at >= ?",
            (referrer_id, EntryKind.REFERRAL.value, EntryKind.REFERRAL_BACK.value, since),
        )
        return sum((Decimal(row["amount"]) for row in rows), Decimal(0))
