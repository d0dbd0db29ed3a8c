"""The automatic top-ups' rules on the use case itself (no Telegram): an in-memory gateway, the
real unit of work. Exactly one credit however the news arrives and however often, at once;
late news of a payment; the polling schedule with and without callbacks; a creation cut
short; alerts once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from bot.app import build, sandbox_panel_client
from bot.core.actor import Actor
from bot.core.notices import DepositDecided, PaymentAlert, PaymentClosed
from bot.core.payments import (
    BadCallback,
    GatewayUnavailable,
    Invoice,
    PaymentMethod,
    PaymentNews,
    PaymentRequest,
    PaymentState,
)
from bot.core.records import DepositState
from bot.core.topups import FAST_POLL, GRACE, SLOW_POLL, Choice, PaymentOpened, Settled, TopUps
from tests.harness import Clock, make_settings

CUSTOMER = Actor(2, pays_from_wallet=True)
ADMIN = Actor(1, is_admin=True)
TRIPAY = Choice(PaymentMethod.TRIPAY, "QRIS")


@dataclass
class MemoryGateway:
    """A gateway in memory: what it opened, and what it says of each payment."""

    clock: Clock
    method: PaymentMethod = PaymentMethod.TRIPAY
    states: dict[str, PaymentState] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    down: bool = False

    async def create(self, request: PaymentRequest) -> Invoice:
        if self.down:
            raise GatewayUnavailable("the gateway did not answer within 15 s")
        reference = f"T-{request.deposit_id}"
        self.states[reference] = PaymentState.PENDING
        return Invoice(
            self.method,
            reference,
            request.merchant_ref,
            request.amount,
            request.currency,
            "QR",
            None,
            self.clock() + request.expires_in,
        )

    async def status(self, reference: str) -> PaymentNews:
        self.asked.append(reference)
        if self.down:
            raise GatewayUnavailable("the gateway did not answer within 15 s")
        return self.news(reference)

    def news(self, reference: str, amount: Decimal = Decimal(50_000)) -> PaymentNews:
        deposit = reference.removeprefix("T-")
        return PaymentNews(reference, f"DEP-{deposit}", self.states[reference], amount, "IDR")

    def read_callback(self, body: bytes, headers: Mapping[str, str]) -> PaymentNews:
        if headers.get("sig") != "good":
            raise BadCallback("the signature is not the body's")
        return self.news(body.decode())

    def callback_answer(self, ok: bool) -> tuple[int, bytes, str]:
        return 200, b"ok" if ok else b"no", "text/plain"


@dataclass
class World:
    topups: TopUps
    gateway: MemoryGateway
    clock: Clock
    parts: object

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.parts.store  # type: ignore[attr-defined]

    async def open(self, amount: int = 50_000) -> PaymentOpened:
        opened = await self.topups.start(CUSTOMER, Decimal(amount), TRIPAY, "Budi")
        assert isinstance(opened, PaymentOpened)
        return opened

    async def balance(self) -> Decimal:
        return (await self.store.wallets.get(CUSTOMER.user_id)).balance

    async def notices(self) -> list[object]:
        return [item.notice for item in await self.store.outbox.pending(1000)]


async def world_of(tmp_path: Path, *, polling: bool = True) -> AsyncIterator[World]:
    clock = Clock(1_750_000_000.0)
    settings = make_settings(tmp_path, wallets="on")
    parts = build(settings, sandbox_panel_client(), clock)
    await parts.open()
    parts.services.currency.code = "IDR"
    gateway = MemoryGateway(clock)
    topups = TopUps(
        parts.store,
        parts.services.shop,
        parts.services.currency,
        methods=[PaymentMethod.TRIPAY],
        gateways={PaymentMethod.TRIPAY: gateway},
        channels={PaymentMethod.TRIPAY: ("QRIS",)},
        qr_image=lambda text: b"png",
        polling=polling,
        clock=clock,
    )
    try:
        yield World(topups, gateway, clock, parts)
    finally:
        await parts.store.close()
        await parts.panel.aclose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for made in world_of(tmp_path):
        yield made


async def test_news_of_one_payment_at_once_from_everywhere_credits_once(world: World) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.gateway.states[reference] = PaymentState.PAID
    news = world.gateway.news(reference)
    outcomes = await asyncio.gather(
        *(world.topups.settle(PaymentMethod.TRIPAY, news) for _ in range(10)),
        *(world.topups.callback("tripay", reference.encode(), {"sig": "good"}) for _ in range(5)),
        world.topups.check(CUSTOMER, opened.deposit_id),
        world.topups.poll(),
    )
    assert outcomes[:10].count(Settled.CREDITED) <= 1
    assert await world.balance() == Decimal(50_000)
    credits = [n for n in await world.notices() if isinstance(n, DepositDecided)]
    assert len(credits) == 1 and credits[0].balance == Decimal(50_000)


async def test_paid_news_after_the_bot_closed_it_still_credits_money_taken(world: World) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.clock.advance(3600 + GRACE)
    assert await world.topups.poll() == 1  # the gateway says pending: closed, told
    assert any(isinstance(n, PaymentClosed) for n in await world.notices())
    world.gateway.states[reference] = PaymentState.PAID
    news = world.gateway.news(reference)
    assert await world.topups.settle(PaymentMethod.TRIPAY, news) is Settled.CREDITED
    assert await world.topups.settle(PaymentMethod.TRIPAY, news) is Settled.ALREADY
    assert await world.balance() == Decimal(50_000)


async def test_another_amount_credits_nothing_and_alerts_once(world: World) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.gateway.states[reference] = PaymentState.PAID
    cheap = world.gateway.news(reference, Decimal(5_000))
    for _ in range(3):
        assert await world.topups.settle(PaymentMethod.TRIPAY, cheap) is Settled.REFUSED
    other_currency = PaymentNews(
        reference, cheap.merchant_ref, PaymentState.PAID, Decimal(50_000), "USD"
    )
    assert await world.topups.settle(PaymentMethod.TRIPAY, other_currency) is Settled.REFUSED
    assert await world.balance() == 0
    alerts = [n for n in await world.notices() if isinstance(n, PaymentAlert)]
    assert [a.problem for a in alerts] == ["wrong_amount"]
    assert alerts[0].to == 0  # every admin


async def test_bad_signatures_alert_once_an_hour(world: World) -> None:
    for _ in range(5):
        answer = await world.topups.callback("tripay", b"T-1", {"sig": "bad"})
        assert answer == (200, b"no", "text/plain")
    world.clock.advance(3601)
    await world.topups.callback("tripay", b"T-1", {"sig": "bad"})
    alerts = [n for n in await world.notices() if isinstance(n, PaymentAlert)]
    assert [a.problem for a in alerts] == ["bad_signature", "bad_signature"]
    assert await world.topups.callback("paypal", b"", {}) is None
    assert await world.topups.callback("midtrans", b"", {}) is None  # not enabled


async def test_polling_is_fast_then_slow_and_with_callbacks_only_at_expiry(
    tmp_path: Path,
) -> None:
    async for world in world_of(tmp_path):
        opened = await world.open()
        assert opened.payment.next_poll_at == world.clock() + FAST_POLL
        world.clock.advance(FAST_POLL)
        await world.topups.poll()
        payment = await world.store.payments.of_deposit(opened.deposit_id)
        assert payment.next_poll_at == world.clock() + FAST_POLL
        world.clock.advance(600)
        await world.topups.poll()
        payment = await world.store.payments.of_deposit(opened.deposit_id)
        assert payment.next_poll_at == world.clock() + SLOW_POLL
    async for world in world_of(tmp_path / "callbacks", polling=False):
        opened = await world.open()
        assert opened.payment.next_poll_at == opened.payment.expires_at + GRACE
        world.clock.advance(600)
        await world.topups.poll()
        assert world.gateway.asked == []


async def test_a_gateway_down_at_creation_closes_at_once_and_a_cut_one_at_expiry(
    world: World,
) -> None:
    world.gateway.down = True
    down = await world.topups.start(CUSTOMER, Decimal(50_000), TRIPAY, "Budi")
    assert type(down).__name__ == "GatewayDown"
    deposit = await world.store.deposits.get(1)
    assert deposit.state == "closed"
    world.gateway.down = False
    # a creation cut short (the bot stopped while the gateway was asked): closed at expiry,
    # the customer who was shown nothing not told
    async with world.store.transaction() as tx:
        cut = await tx.deposits.open_paid(
            2, Decimal(20_000), "tripay", DepositState.AWAITING_PAYMENT
        )
        await tx.payments.add(
            deposit_id=cut.id,
            user_id=2,
            method=PaymentMethod.TRIPAY,
            channel="QRIS",
            state=PaymentState.CREATING,
            amount=Decimal(20_000),
            currency="IDR",
            to_pay=Decimal(20_000),
            expires_at=world.clock() + 3600,
            next_poll_at=world.clock() + 3600 + GRACE,
        )
    world.clock.advance(3600 + GRACE)
    assert await world.topups.poll() == 1
    assert (await world.store.payments.of_deposit(cut.id)).state == "expired"
    assert not any(isinstance(n, PaymentClosed) for n in await world.notices())


async def test_a_refund_at_the_gateway_keeps_the_credit_and_alerts(world: World) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.gateway.states[reference] = PaymentState.PAID
    await world.topups.settle(PaymentMethod.TRIPAY, world.gateway.news(reference))
    world.gateway.states[reference] = PaymentState.REFUNDED
    refund = world.gateway.news(reference)
    assert await world.topups.settle(PaymentMethod.TRIPAY, refund) is Settled.REFUSED
    assert await world.topups.settle(PaymentMethod.TRIPAY, refund) is Settled.ALREADY
    assert await world.balance() == Decimal(50_000)
    alerts = [n for n in await world.notices() if isinstance(n, PaymentAlert)]
    assert [a.problem for a in alerts] == ["refunded"]


async def test_an_admin_or_a_stranger_cannot_open_and_a_stranger_cannot_check(
    world: World,
) -> None:
    assert type(await world.topups.start(ADMIN, Decimal(50_000), TRIPAY)).__name__ == "NotOffered"
    forged = Choice(PaymentMethod.TRIPAY, "BRIVA")  # not in TRIPAY_METHODS
    assert type(await world.topups.start(CUSTOMER, Decimal(50_000), forged)).__name__ == (
        "NotOffered"
    )
    opened = await world.open()
    assert await world.topups.check(Actor(3, pays_from_wallet=True), opened.deposit_id) is None
    assert await world.topups.check(CUSTOMER, opened.deposit_id) is not None
