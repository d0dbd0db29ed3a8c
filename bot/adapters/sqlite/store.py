"""The SQLite store: the database and its repositories, opened and closed together, and the
unit of work (`transaction`): repositories bound to one transaction, all written or none."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.adapters.sqlite.broadcasts import BroadcastRepo
from bot.adapters.sqlite.catalog import FavouriteRepo, MarkupRepo, ServiceCacheRepo
from bot.adapters.sqlite.db import Database
from bot.adapters.sqlite.deposits import DepositRepo
from bot.adapters.sqlite.kv import KeyValueRepo
from bot.adapters.sqlite.mass import MassBatchRepo
from bot.adapters.sqlite.orders import OrderRepo
from bot.adapters.sqlite.outbox import OutboxRepo
from bot.adapters.sqlite.payments import PaymentRepo
from bot.adapters.sqlite.promos import PromoRepo
from bot.adapters.sqlite.referrals import ReferralRepo
from bot.adapters.sqlite.refills import RefillRepo
from bot.adapters.sqlite.session import InTransaction, Session
from bot.adapters.sqlite.sessions import SessionRepo
from bot.adapters.sqlite.tickets import TicketRepo
from bot.adapters.sqlite.users import UserRepo
from bot.adapters.sqlite.wallets import WalletRepo
from bot.core.ports import Clock


class SqliteTransaction:
    """The repositories that take part in a unit of work, bound to its transaction."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.orders = OrderRepo(session, clock)
        self.refills = RefillRepo(session, clock)
        self.wallets = WalletRepo(session, clock)
        self.deposits = DepositRepo(session, clock)
        self.outbox = OutboxRepo(session, clock)
        self.mass = MassBatchRepo(session, clock)
        self.payments = PaymentRepo(session, clock)
        self.referrals = ReferralRepo(session, clock)
        self.promos = PromoRepo(session, clock)
        self.tickets = TicketRepo(session, clock)
        self.broadcasts = BroadcastRepo(session, clock)


class SqliteStore:
    """Reads and single writes straight on the database (each committed at once), and
    `transaction()` for writes that go together."""

    def __init__(self, path: str | Path, clock: Clock = time.time) -> None:
        self.db = Database(path)
        self._clock = clock
        session = Session(self.db)
        self.users = UserRepo(session, clock)
        self.orders = OrderRepo(session, clock)
        self.refills = RefillRepo(session, clock)
        self.outbox = OutboxRepo(session, clock)
        self.services = ServiceCacheRepo(session)
        self.kv = KeyValueRepo(session)
        self.favourites = FavouriteRepo(session, clock)
        self.mass = MassBatchRepo(session, clock)
        self.wallets = WalletRepo(session, clock)
        self.deposits = DepositRepo(session, clock)
        self.payments = PaymentRepo(session, clock)
        self.markups = MarkupRepo(session)
        self.sessions = SessionRepo(self.db)
        self.referrals = ReferralRepo(session, clock)
        self.promos = PromoRepo(session, clock)
        self.tickets = TicketRepo(session, clock)
        self.broadcasts = BroadcastRepo(session, clock)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """A unit of work: what is written through it is committed together when the block
        ends, and rolled back if it raises."""
        async with self.db.transaction() as conn:
            yield SqliteTransaction(InTransaction(self.db, conn), self._clock)

    @property
    def path(self) -> str:
        return str(self.db.path)

    def check_file(self) -> None:
        self.db.check_file()

    def give_up(self, reason: str) -> None:
        self.db.give_up(reason)

    @property
    def is_open(self) -> bool:
        return self.db.is_open

    async def open(self) -> None:
        """Open once; later calls do nothing."""
        if not self.db.is_open:
            await self.db.open()

    async def close(self) -> None:
        await self.db.close()
