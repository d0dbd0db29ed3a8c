"""Shop mode without Telegram: who pays from a wallet and at which price, the customers' view
of the catalog (the panel's rates plus the markup), wallets and deposits.

With `WALLETS=off` (the default) nobody pays from a wallet and every price is the panel's.
Money taken for an order is written with its intent (`bot.core.checkout.submit`), money given
back with the status change that causes it (`bot.core.settlement`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.core.balance import PanelBalance, PanelCurrency
from bot.core.catalog import Catalog, CatalogIndex, without_price_tags
from bot.core.drafts import OrderDraft, quote
from bot.core.money import (
    Money,
    WalletPayment,
    currency_unit,
    markup_of,
    money_since,
    placed_cost,
    round_up,
    with_markup,
)
from bot.core.notices import DepositCard, DepositDecided, PanelShort, WalletAdjusted
from bot.core.panel import PanelFailure
from bot.core.ports import Clock, Store
from bot.core.promo import Applied, PromoRefusal
from bot.core.promo import check as check_promo
from bot.core.promo import use as use_promo
from bot.core.records import (
    Deposit,
    DepositState,
    EntryKind,
    LedgerEntry,
    PromoKind,
    Wallet,
    visible,
)
from bot.core.settlement import take

log = logging.getLogger(__name__)

SHORT_ALERTED = "panel_short_alerted"

MAX_NAME = 64
MAX_PROOF = 1000


@dataclass(frozen=True, slots=True)
class ShopRules:
    """What the operator set for shop mode (WALLETS and the settings beside it)."""

    wallets: bool
    admin_ids: frozenset[int]
    markup_percent: Decimal
    deposit_min: Decimal
    deposit_max: Decimal
    deposit_instructions: str
    automatic_payments: bool = False
    """A way to top up other than the manual receipt is enabled (`bot.core.topups`)."""
    referral_percent: Decimal = Decimal(0)
    """REFERRAL_PERCENT: a referrer's share of what the customers they brought spend."""


class TopUpRefusal(StrEnum):
    """Why a top-up was not opened."""

    FRACTION = "fraction"
    """Not a whole number of the currency's unit (a fraction of a rupiah)."""
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"
    WAITING = "waiting"
    """The user's earlier top-up waits for an admin."""


def deposit_notice(
    admin: int, deposit: Deposit, currency: str, promo: tuple[str, Decimal] | None = None
) -> DepositCard:
    """An admin's card of a top-up to decide (the receipt's photo, when it is one; the promo
    code held with it and its bonus, when it has one)."""
    return DepositCard(
        admin,
        deposit=deposit.id,
        user=deposit.user_id,
        name=deposit.name,
        amount=deposit.amount,
        currency=currency,
        proof_kind=deposit.proof_kind,
        proof=deposit.proof,
        promo=promo[0] if promo else "",
        bonus=promo[1] if promo else None,
    )


class _Refused(Exception):
    def __init__(self, why: PromoRefusal) -> None:
        super().__init__(why)
        self.why = why


class Shop:
    def __init__(
        self,
        settings: ShopRules,
        store: Store,
        catalog: Catalog,
        currency: PanelCurrency,
        balance: PanelBalance,
        clock: Clock = time.time,
    ) -> None:
        self._clock = clock
        self._settings = settings
        self._store = store
        self._catalog = catalog
        self._currency = currency
        self._balance = balance
        self._view: tuple[CatalogIndex, int, CatalogIndex] | None = None
        """(the panel's index, the rules' version, the customers' view of it); the index itself
        is kept: an id could be reused by the next one once the old one is freed."""
        self._version = 0
        self._short_alerted: bool | None = None
        """Whether the admins were told the panel balance falls short (kept in kv too)."""

    @property
    def on(self) -> bool:
        return self._settings.wallets

    def pays_from_wallet(self, user_id: int) -> bool:
        """Shop mode: everyone but the admins (who order from the panel balance)."""
        return self._settings.wallets and user_id not in self._settings.admin_ids

    @property
    def unit(self) -> Decimal:
        return currency_unit(self._currency.code)

    # -- prices -----------------------------------------------------------------------------

    async def catalog_for(self, user_id: int) -> CatalogIndex:
        """The catalog as this user sees it: a customer's rates include the markup (exact;
        a price is rounded up to the currency's unit when charged) and the names no
        supplier's price tag. Raises `PanelFailure` when there is no catalog at all."""
        index = await self._catalog.get()
        if not self.pays_from_wallet(user_id):
            return index
        if self._view is not None and self._view[0] is index and self._view[1] == self._version:
            return self._view[2]
        rules = await self._store.markups.rules()
        marked = []
        for service in index.services:
            percent = markup_of(service, rules, self._settings.markup_percent)
            changes: dict[str, object] = {}
            if percent:
                changes["rate"] = with_markup(service.rate, percent)
            name = without_price_tags(service.name)
            if name != service.name:
                changes["name"] = name
            marked.append(service.model_copy(update=changes) if changes else service)
        view = CatalogIndex(marked, index.fetched_at, words_of=index)
        self._view = (index, self._version, view)
        return view

    def charge(self, user_id: int, price: Decimal) -> Decimal | None:
        """What the user pays from their wallet for an order of this price (their view's,
        markup included), rounded up to the unit; None when they do not pay from a wallet."""
        if not self.pays_from_wallet(user_id):
            return None
        return round_up(price, self.unit)

    async def set_markup(self, scope: str, key: str, percent: Decimal | None) -> None:
        await self._store.markups.set(scope, key, percent)
        self._version += 1

    async def markup_rules(self) -> dict[tuple[str, str], Decimal]:
        return dict(await self._store.markups.rules())

    # -- the panel balance guard ------------------------------------------------------------

    async def payment(
        self,
        user_id: int,
        service_id: int,
        fields: Mapping[str, str],
        promo: str | None = None,
    ) -> WalletPayment | None:
        """What a customer pays from their wallet for this order (their view's price, rounded
        up, less the discount of the promo code when it applies) and what the panel charges
        for it; None when they do not pay from a wallet. Raises `LookupError` for a service
        the catalog does not have."""
        if not self.pays_from_wallet(user_id):
            return None
        draft = OrderDraft(service_id=service_id, values=dict(fields))
        sold = (await self.catalog_for(user_id)).by_id[service_id]
        bought = (await self._catalog.get()).by_id[service_id]
        full = round_up(quote(draft, sold).price, self.unit)
        now = self._clock()
        discount, code = Decimal(0), None
        if promo:
            applied = await self.order_promo(user_id, promo, full, now)
            if isinstance(applied, Applied):
                discount, code = applied.benefit, applied.promo.code
        return WalletPayment(
            full - discount,
            quote(draft, bought).price,
            discount=discount,
            promo=code,
            referral_percent=self._settings.referral_percent,
            checked_at=now,
        )

    async def order_promo(
        self, user_id: int, code: str, price: Decimal, now: float | None = None
    ) -> Applied | PromoRefusal:
        """What a promo code takes off an order of this price for this user (read only)."""
        at = self._clock() if now is None else now
        return await check_promo(self._store, code, user_id, PromoKind.ORDER, price, self.unit, at)

    async def can_take(self, user_id: int, cost: Decimal) -> bool:
        """Whether a customer's orders costing the panel this much can go to the panel: the
        panel balance must cover it. Always for admins (the panel refuses what it cannot
        pay for)."""
        if not self.pays_from_wallet(user_id):
            return True
        return await self._panel_covers(cost)

    async def _panel_covers(self, cost: Decimal) -> bool:
        """Whether the panel balance (as last known, asked again when stale) can pay this;
        when not, the admins are told once until it can again."""
        try:
            balance = await self._balance.get()
        except PanelFailure:
            return True  # not known: the panel itself refuses what it cannot pay for
        kv = self._store.kv
        if self._short_alerted is None:  # read once: every order asks
            self._short_alerted = bool(await kv.get(SHORT_ALERTED))
        if balance.amount >= cost:
            if self._short_alerted:
                await kv.delete(SHORT_ALERTED)
                self._short_alerted = False
            return True
        if not self._short_alerted:
            await kv.set(SHORT_ALERTED, "1")
            self._short_alerted = True
            await self._store.outbox.add(
                PanelShort(admin, balance=balance.amount, currency=balance.currency)
                for admin in self._admins
            )
        return False

    # -- wallets and deposits ---------------------------------------------------------------

    async def wallet(self, user_id: int) -> Wallet:
        return await self._store.wallets.get(user_id)

    async def entries(self, user_id: int, page: int, size: int) -> tuple[list[LedgerEntry], int]:
        return await self._store.wallets.entries(user_id, page * size, size)

    async def adjust(self, user_id: int, amount: Decimal, admin_id: int, note: str) -> Decimal:
        """An admin's /credit (positive) or /debit (negative); `InsufficientFunds` when a debit
        would take the wallet below its limit. Returns the new balance; the customer is told
        it (a notice in the outbox)."""
        async with self._store.transaction() as tx:
            if amount < 0:
                balance = await take(
                    tx, user_id, -amount, EntryKind.ADJUSTMENT, admin_id=admin_id, note=note
                )
            else:
                balance = await tx.wallets.post(
                    user_id, amount, EntryKind.CREDIT, admin_id=admin_id, note=note
                )
            # The customer is told, with the new balance, in the same transaction.
            await tx.outbox.add(
                [WalletAdjusted(user_id, amount, balance, self._currency.code, note)]
            )
            return balance

    async def set_limit(self, user_id: int, limit: Decimal) -> bool:
        """A new credit limit; False (nothing changed) when the wallet is further below zero
        than that already: no wallet is ever below its limit."""
        async with self._store.transaction() as tx:
            if (await tx.wallets.get(user_id)).balance < -limit:
                return False
            await tx.wallets.set_limit(user_id, limit)
        return True

    @property
    def default_markup(self) -> Decimal:
        """MARKUP_PERCENT: the markup where no rule applies."""
        return self._settings.markup_percent

    @property
    def deposit_min(self) -> Decimal:
        return self._settings.deposit_min

    @property
    def deposit_max(self) -> Decimal:
        return self._settings.deposit_max

    def top_up_for(self, missing: Decimal) -> Decimal:
        """The top-up that pays what is missing: at least DEPOSIT_MIN, at most DEPOSIT_MAX."""
        wanted = round_up(missing, self.unit)
        return min(max(wanted, self.deposit_min, self.unit), self.deposit_max)

    @property
    def takes_deposits(self) -> bool:
        return self.on and (
            bool(self._settings.deposit_instructions) or self._settings.automatic_payments
        )

    @property
    def deposit_instructions(self) -> str:
        return self._settings.deposit_instructions

    def whole(self, amount: Decimal) -> bool:
        """Whether a wallet can hold this amount: a whole number of the currency's smallest
        unit (whole rupiah in IDR)."""
        return amount % self.unit == 0

    def top_up_refusal(self, amount: Decimal) -> TopUpRefusal | None:
        if amount.is_nan():
            return TopUpRefusal.FRACTION
        if amount > self.deposit_max:  # before `whole`, whose % fails on 1E+40
            return TopUpRefusal.ABOVE_MAX
        if amount < 0:
            return TopUpRefusal.BELOW_MIN
        if not self.whole(amount):
            return TopUpRefusal.FRACTION
        if amount <= 0 or amount < self.deposit_min:
            return TopUpRefusal.BELOW_MIN
        if amount > self.deposit_max:
            return TopUpRefusal.ABOVE_MAX
        return None

    async def open_deposit(
        self, user_id: int, amount: Decimal, promo: str | None = None
    ) -> Deposit | TopUpRefusal | PromoRefusal:
        """A top-up waiting for its proof; refused when the amount is not one a wallet takes,
        or while the user's earlier top-up waits for an admin (one at a time). A promo code
        is held with it (counted against its limits) in the same transaction; its bonus comes
        with the approval."""
        refusal = self.top_up_refusal(amount)
        if refusal is not None:
            return refusal
        if await self._store.deposits.pending_of(user_id) is not None:
            return TopUpRefusal.WAITING
        try:
            async with self._store.transaction() as tx:
                earlier = await tx.deposits.awaiting_proof(user_id)
                if earlier is not None:  # replaced by this one: its code is free again
                    await tx.promos.release_deposit(earlier.id)
                deposit = await tx.deposits.open(user_id, amount)
                if promo:
                    applied = await use_promo(
                        tx,
                        promo,
                        user_id,
                        PromoKind.TOP_UP,
                        amount,
                        self.unit,
                        self._clock(),
                        deposit_id=deposit.id,
                    )
                    if isinstance(applied, PromoRefusal):
                        raise _Refused(applied)  # nothing opened
        except _Refused as refused:
            return refused.why
        return deposit

    async def cancel_deposit(self, user_id: int) -> bool:
        """The user cancels the top-up waiting for its proof (a promo code it held is free
        again, in the same transaction); False when none was waiting."""
        async with self._store.transaction() as tx:
            waiting = await tx.deposits.awaiting_proof(user_id)
            if waiting is None:
                return False
            await tx.promos.release_deposit(waiting.id)
            return await tx.deposits.drop_awaiting(user_id)

    async def waiting_deposit(self, user_id: int) -> Deposit | None:
        """The user's top-up waiting for an admin, if any."""
        return await self._store.deposits.pending_of(user_id)

    async def waiting_deposits(self, limit: int) -> tuple[list[Deposit], int]:
        return await self._store.deposits.pending(limit)

    async def get_deposit(self, deposit_id: int) -> Deposit | None:
        return await self._store.deposits.get(deposit_id)

    async def deposit_card(self, admin: int, deposit_id: int) -> DepositCard | None:
        """A top-up's card again, with the promo code held with it."""
        deposit = await self._store.deposits.get(deposit_id)
        if deposit is None:
            return None
        held = await self._store.promos.held_for_deposit(deposit_id)
        promo = (held[0].code, held[1]) if held is not None else None
        return deposit_notice(admin, deposit, self._currency.code, promo)

    async def prove_deposit(self, user_id: int, kind: str, proof: str, name: str) -> Deposit | None:
        """The proof of the user's top-up waiting for one: the top-up waits for an admin, and
        every admin's card goes to the outbox with it (what they read of the customer is
        stripped of control and direction characters). None when none waits for a proof."""
        waiting = await self._store.deposits.awaiting_proof(user_id)
        if waiting is None:
            return None
        name = visible(name).strip()[:MAX_NAME]
        async with self._store.transaction() as tx:
            if not await tx.deposits.prove(
                waiting.id, kind, visible(proof).strip()[:MAX_PROOF], name
            ):
                return None
            deposit = await tx.deposits.get(waiting.id)
            assert deposit is not None
            currency = self._currency.code
            held = await tx.promos.held_for_deposit(deposit.id)
            promo = (held[0].code, held[1]) if held is not None else None
            await tx.outbox.add(
                deposit_notice(admin, deposit, currency, promo) for admin in self._admins
            )
        return deposit

    @property
    def _admins(self) -> list[int]:
        return sorted(self._settings.admin_ids)

    async def decide_deposit(self, deposit_id: int, approve: bool, admin_id: int) -> Deposit | None:
        """Approve (credit, once) or reject, the owner told in the same step; None when it
        was decided already."""
        state = DepositState.APPROVED if approve else DepositState.REJECTED
        async with self._store.transaction() as tx:
            if not await tx.deposits.decide(deposit_id, state, admin_id):
                return None
            deposit = await tx.deposits.get(deposit_id)
            assert deposit is not None
            bonus = Decimal(0)
            if approve:
                balance = await tx.wallets.post(
                    deposit.user_id,
                    deposit.amount,
                    EntryKind.DEPOSIT,
                    deposit_id=deposit.id,
                    admin_id=admin_id,
                )
                held = await tx.promos.held_for_deposit(deposit.id)
                if held is not None:
                    promo, bonus = held
                    balance = await tx.wallets.post(
                        deposit.user_id, bonus, EntryKind.PROMO_BONUS, note=promo.code
                    )
            else:
                await tx.promos.release_deposit(deposit.id)
                balance = (await tx.wallets.get(deposit.user_id)).balance
            await tx.outbox.add(
                [
                    DepositDecided(
                        deposit.user_id,
                        deposit=deposit.id,
                        approved=approve,
                        amount=deposit.amount,
                        balance=balance,
                        currency=self._currency.code,
                        bonus=bonus or None,
                    )
                ]
            )
        return deposit

    # -- money in the /stats ----------------------------------------------------------------

    async def money_since(self, moments: Iterable[float]) -> list[Money]:
        """For each moment, the money since then (`bot.core.records.money_since`)."""
        moments = list(moments)
        if not moments:
            return []
        entries = await self._store.wallets.since(min(moments))
        costs = [
            (placed.created_at, placed_cost(placed))
            for placed in await self._store.orders.placed_costs(min(moments))
        ]
        return [money_since(moment, entries, costs) for moment in moments]
