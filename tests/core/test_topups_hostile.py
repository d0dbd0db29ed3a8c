"""Attacks on the automatic top-ups' use case with the real gateway adapters (Tripay and
Midtrans against their fakes on 127.0.0.1, signatures real): whatever arrives, a deposit is
credited its own amount at most once, and what credits nothing is never a traceback, never a
secret in a log, and a real payment that came late is credited rather than dropped."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.adapters.payments.midtrans import MidtransGateway
from bot.adapters.payments.tripay import TripayGateway
from bot.app import build, sandbox_panel_client
from bot.core.actor import Actor
from bot.core.notices import DepositDecided, PaymentAlert
from bot.core.payments import PaymentMethod, PaymentState
from bot.core.topups import (
    GRACE,
    Choice,
    PaymentOpened,
    Settled,
    StarsInvoice,
    TopUps,
)
from tests.adapters.payments.fake_midtrans import SERVER_KEY, FakeMidtrans, signature_key
from tests.adapters.payments.fake_tripay import (
    API_KEY,
    MERCHANT_CODE,
    PRIVATE_KEY,
    FakeTripay,
    sign,
)
from tests.harness import Clock, make_settings

ALICE = Actor(2, pays_from_wallet=True)
BOB = Actor(3, pays_from_wallet=True)
TRIPAY = Choice(PaymentMethod.TRIPAY, "QRIS")
MIDTRANS = Choice(PaymentMethod.MIDTRANS)
STARS = Choice(PaymentMethod.STARS)
SECRETS = (API_KEY, PRIVATE_KEY, SERVER_KEY)


@pytest.fixture(scope="module")
def tripay_server() -> Iterator[FakeTripay]:
    fake = FakeTripay().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def midtrans_server() -> Iterator[FakeMidtrans]:
    fake = FakeMidtrans().start()
    yield fake
    fake.stop()


@dataclass
class World:
    topups: TopUps
    tripay: FakeTripay
    midtrans: FakeMidtrans
    clock: Clock
    parts: Any

    @property
    def store(self) -> Any:
        return self.parts.store

    async def open(
        self, choice: Choice = TRIPAY, actor: Actor = ALICE, amount: int = 50_000
    ) -> PaymentOpened:
        opened = await self.topups.start(actor, Decimal(amount), choice, "Budi")
        assert isinstance(opened, PaymentOpened), opened
        return opened

    async def balance(self, actor: Actor = ALICE) -> Decimal:
        return (await self.store.wallets.get(actor.user_id)).balance

    async def notices(self) -> list[object]:
        return [item.notice for item in await self.store.outbox.pending(1000)]

    async def alerts(self) -> list[PaymentAlert]:
        return [n for n in await self.notices() if isinstance(n, PaymentAlert)]

    async def credits(self) -> list[DepositDecided]:
        return [n for n in await self.notices() if isinstance(n, DepositDecided)]

    async def tripay_callback(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        answer = await self.topups.callback("tripay", body, headers)
        assert answer is not None
        return answer[0], answer[1]


def new_topups(parts: Any, clock: Clock, http: httpx.AsyncClient, world: dict[str, Any]) -> TopUps:
    tripay = TripayGateway(
        api_key=API_KEY,
        private_key=PRIVATE_KEY,
        merchant_code=MERCHANT_CODE,
        http=http,
        url=world["tripay"].url,
        timeout=2,
        clock=clock,
    )
    midtrans = MidtransGateway(
        server_key=SERVER_KEY, http=http, url=world["midtrans"].url, timeout=2, clock=clock
    )
    return TopUps(
        parts.store,
        parts.services.shop,
        parts.services.currency,
        methods=[PaymentMethod.TRIPAY, PaymentMethod.MIDTRANS, PaymentMethod.STARS],
        gateways={PaymentMethod.TRIPAY: tripay, PaymentMethod.MIDTRANS: midtrans},
        channels={PaymentMethod.TRIPAY: ("QRIS",)},
        stars_rate=Decimal(100),
        qr_image=lambda text: b"png",
        polling=world.get("polling", True),
        clock=clock,
    )


async def world_of(
    tmp_path: Path, tripay: FakeTripay, midtrans: FakeMidtrans, *, polling: bool = True
) -> AsyncIterator[World]:
    tripay.reset()
    midtrans.reset()
    clock = Clock(1_750_000_000.0)
    parts = build(make_settings(tmp_path, wallets="on"), sandbox_panel_client(), clock)
    await parts.open()
    parts.services.currency.code = "IDR"
    async with httpx.AsyncClient() as http:
        topups = new_topups(
            parts, clock, http, {"tripay": tripay, "midtrans": midtrans, "polling": polling}
        )
        try:
            yield World(topups, tripay, midtrans, clock, parts)
        finally:
            await parts.store.close()
            await parts.panel.aclose()


@pytest.fixture
async def world(
    tmp_path: Path, tripay_server: FakeTripay, midtrans_server: FakeMidtrans
) -> AsyncIterator[World]:
    async for made in world_of(tmp_path, tripay_server, midtrans_server):
        yield made


def tripay_body(world: World, of: str, **changes: Any) -> bytes:
    """A Tripay callback of the transaction with fields changed before it is signed (what
    a holder of the key, or a Tripay gone wrong, could send)."""
    body, _ = world.tripay.callback(of, status="PAID")
    fields = {**json.loads(body), **changes}
    return json.dumps(fields, separators=(",", ":")).encode()


def signed(body: bytes) -> dict[str, str]:
    return {"X-Callback-Signature": sign(body), "X-Callback-Event": "payment_status"}


def no_secret_logged(caplog: pytest.LogCaptureFixture) -> None:
    for secret in SECRETS:
        assert secret not in caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


# -- signatures and bodies ----------------------------------------------------------------


async def test_forged_and_malformed_tripay_callbacks_credit_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.tripay.pay(reference)
    good, headers = world.tripay.callback(reference)
    forgeries: list[tuple[bytes, dict[str, str]]] = [
        (good, {**headers, "X-Callback-Signature": "0" * 64}),
        (good, {**headers, "X-Callback-Signature": sign(good, "a-guessed-private-key")}),
        (good, {"X-Callback-Event": "payment_status"}),  # no signature at all
        (good + b" ", headers),  # a byte added after signing
        (good.replace(b"PAID", b"PAYD"), headers),
        (b"", {**headers, "X-Callback-Signature": sign(b"")}),
        (b"not json", signed(b"not json")),
        (b"[1, 2]", signed(b"[1, 2]")),
        (b'{"a": NaN}', signed(b'{"a": NaN}')),
        (b"[" * 50_000 + b"]" * 10_000, signed(b"[" * 50_000 + b"]" * 10_000)),
        (b"\xff\xfe\x00{}", signed(b"\xff\xfe\x00{}")),
        (b'{"status": "PAID"}', signed(b'{"status": "PAID"}')),
        (good, {**headers, "X-Callback-Event": "payout_status"}),
        (good, {**headers, "X-Callback-Signature": "\u00e9" * 64}),
    ]
    for body, hdrs in forgeries:
        status, answer = await world.tripay_callback(body, hdrs)
        assert (status, answer) == (200, b'{"success": false}'), body[:40]
    assert await world.balance() == 0
    payment = await world.store.payments.of_deposit(opened.deposit_id)
    assert payment.state is PaymentState.PENDING
    assert [a.problem for a in await world.alerts()] == ["bad_signature"]  # once an hour
    # the real one still credits
    assert await world.tripay_callback(good, headers) == (200, b'{"success": true}')
    assert await world.balance() == Decimal(50_000)
    no_secret_logged(caplog)


@pytest.mark.parametrize(
    "amount",
    [
        -50_000,
        0,
        1,
        49_999,
        50_001,
        100_000,
        10**15,
        10**40,
        50_000.0,
        50_000.000001,
        "5e4",
        "50000e0",
        "Infinity",
        None,
        True,
        [50_000],
        {"value": 50_000},
    ],
)
async def test_a_signed_tripay_callback_of_any_other_amount_credits_nothing(
    world: World, amount: object, caplog: pytest.LogCaptureFixture
) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    body = tripay_body(world, reference, total_amount=amount)
    for _ in range(2):
        status, _answer = await world.tripay_callback(body, signed(body))
        assert status == 200
    assert await world.balance() == 0
    payment = await world.store.payments.of_deposit(opened.deposit_id)
    assert payment.state is PaymentState.PENDING
    assert len(await world.alerts()) == 1  # once, whatever it was
    no_secret_logged(caplog)


async def test_a_negative_fee_cannot_make_a_small_payment_look_whole(world: World) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    for fee in (-40_000, "-40000", "1e3", 10**20, 40_000.0):
        body = tripay_body(world, reference, total_amount=10_000, fee_customer=fee)
        assert await world.tripay_callback(body, signed(body)) == (200, b'{"success": false}')
    assert await world.balance() == 0
    # the fee counted out of what was paid: the deposit's own amount, once
    body = tripay_body(world, reference, total_amount=51_450, fee_customer=1_450)
    await world.tripay_callback(body, signed(body))
    assert [c.amount for c in await world.credits()] == [Decimal(50_000)]


async def test_a_reference_the_bot_never_made_credits_nothing_and_alerts_once(
    world: World,
) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    strangers = [
        {"merchant_ref": "DEP-999", "reference": "DEV-T999"},
        {"merchant_ref": "DEP-0"},
        {"merchant_ref": "DEP-01", "reference": "DEV-Tx"},
        {"merchant_ref": "DEP--1", "reference": "DEV-Ty"},
        {"merchant_ref": f"DEP-{opened.deposit_id} ", "reference": "DEV-Tz"},
        {"merchant_ref": "INV-" + str(opened.deposit_id), "reference": "DEV-Tw"},
        {"merchant_ref": "DEP-" + "9" * 400, "reference": "DEV-Tv"},
        {"reference": "DEV-T-another"},  # the deposit's merchant_ref, another transaction
    ]
    for change in strangers:
        body = tripay_body(world, reference, **change)
        for _ in range(3):
            status, _answer = await world.tripay_callback(body, signed(body))
            assert status == 200
    assert await world.balance() == 0
    alerts = await world.alerts()
    assert {a.problem for a in alerts} == {"unknown_reference"}
    assert len(alerts) == len({a.reference for a in alerts})  # once a reference


async def test_a_callback_of_another_users_deposit_credits_only_its_owner(world: World) -> None:
    alice = await world.open(actor=ALICE)
    bob = await world.open(actor=BOB, amount=60_000)
    assert alice.payment.reference and bob.payment.reference
    # Alice's transaction, Bob's deposit: neither believes it
    body = tripay_body(world, alice.payment.reference, merchant_ref=bob.payment.merchant_ref)
    await world.tripay_callback(body, signed(body))
    body = tripay_body(
        world, bob.payment.reference, merchant_ref=alice.payment.merchant_ref, total_amount=50_000
    )
    await world.tripay_callback(body, signed(body))
    assert await world.balance(ALICE) == 0 and await world.balance(BOB) == 0
    # Bob's real payment goes to Bob, whoever forwards it
    world.tripay.pay(bob.payment.reference)
    await world.tripay_callback(*world.tripay.callback(bob.payment.reference))
    assert await world.balance(ALICE) == 0 and await world.balance(BOB) == Decimal(60_000)
    # Alice cannot check Bob's payment
    assert await world.topups.check(ALICE, bob.deposit_id) is None


async def test_a_tripay_callback_at_the_midtrans_path_credits_nothing(world: World) -> None:
    opened = await world.open()
    assert opened.payment.reference is not None
    world.tripay.pay(opened.payment.reference)
    body, headers = world.tripay.callback(opened.payment.reference)
    answer = await world.topups.callback("midtrans", body, headers)
    assert answer is not None and answer[0] == 400
    assert await world.balance() == 0


# -- once, however often ------------------------------------------------------------------


async def test_a_hundred_replays_racing_polls_and_checks_credit_once(world: World) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.tripay.pay(reference)
    body, headers = world.tripay.callback(reference)
    world.clock.advance(30)
    await asyncio.gather(
        *(world.topups.callback("tripay", body, headers) for _ in range(100)),
        *(world.topups.poll() for _ in range(5)),
        *(world.topups.check(ALICE, opened.deposit_id) for _ in range(5)),
    )
    assert await world.balance() == Decimal(50_000)
    assert len(await world.credits()) == 1
    entries, count = await world.store.wallets.entries(ALICE.user_id, 0, 10)
    assert count == 1 and [e.amount for e in entries] == [Decimal(50_000)]
    assert await world.store.wallets.mismatches() == {}


async def test_a_crash_in_the_middle_of_a_credit_leaves_it_to_be_credited_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.tripay.pay(reference)
    body, headers = world.tripay.callback(reference)

    from bot.adapters.sqlite import outbox

    real_add = outbox.OutboxRepo.add

    async def crash(self: Any, notices: Any) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(outbox.OutboxRepo, "add", crash)
    with pytest.raises(RuntimeError):
        await world.topups.callback("tripay", body, headers)
    monkeypatch.setattr(outbox.OutboxRepo, "add", real_add)
    assert await world.balance() == 0  # the wallet's entry went with the payment's move
    payment = await world.store.payments.of_deposit(opened.deposit_id)
    assert payment.state is PaymentState.PENDING
    # after the restart, the replay credits, once
    async with httpx.AsyncClient() as http:
        again = new_topups(
            world.parts, world.clock, http, {"tripay": world.tripay, "midtrans": world.midtrans}
        )
        assert (await again.callback("tripay", body, headers))[:2] == (200, b'{"success": true}')
        await again.callback("tripay", body, headers)
    assert await world.balance() == Decimal(50_000)
    assert len(await world.credits()) == 1


async def test_a_refund_then_the_paid_callback_again_credits_nothing_more(
    world: World,
) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.tripay.pay(reference)
    paid = world.tripay.callback(reference)
    await world.tripay_callback(*paid)
    await world.tripay_callback(*world.tripay.callback(reference, status="REFUND"))
    await world.tripay_callback(*paid)  # Tripay sending the old PAID again
    assert await world.balance() == Decimal(50_000)
    assert len(await world.credits()) == 1
    assert [a.problem for a in await world.alerts()] == ["refunded"]


# -- late and closed ------------------------------------------------------------------------


async def test_paid_after_the_gateway_said_failed_is_credited_not_dropped(world: World) -> None:
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    await world.tripay_callback(*world.tripay.callback(reference, status="FAILED"))
    payment = await world.store.payments.of_deposit(opened.deposit_id)
    assert payment.state is PaymentState.FAILED
    world.tripay.pay(reference)
    await world.tripay_callback(*world.tripay.callback(reference))
    await world.tripay_callback(*world.tripay.callback(reference))
    assert await world.balance() == Decimal(50_000)
    assert len(await world.credits()) == 1


async def test_paid_after_the_bot_closed_it_is_found_by_check_without_callbacks(
    world: World,
) -> None:
    """Polling only: the gateway still said pending at expiry, the bot closed it; the
    customer's bank took the money a little later (QRIS can settle late). Their Check on the
    payment asks the gateway again and credits it."""
    opened = await world.open()
    reference = opened.payment.reference
    assert reference is not None
    world.clock.advance(3600 + GRACE)
    while await world.topups.poll():
        pass
    payment = await world.store.payments.of_deposit(opened.deposit_id)
    assert payment.state is PaymentState.EXPIRED
    world.tripay.pay(reference)
    checked = await world.topups.check(ALICE, opened.deposit_id)
    assert checked is not None and checked.payment.state is PaymentState.PAID
    assert await world.balance() == Decimal(50_000)
    await world.topups.check(ALICE, opened.deposit_id)
    assert len(await world.credits()) == 1


async def test_a_stranger_s_check_of_a_closed_payment_asks_nothing(world: World) -> None:
    opened = await world.open()
    assert opened.payment.reference is not None
    world.clock.advance(3600 + GRACE)
    while await world.topups.poll():
        pass
    world.tripay.pay(opened.payment.reference)
    asked = len(world.tripay.requests)
    assert await world.topups.check(BOB, opened.deposit_id) is None
    assert len(world.tripay.requests) == asked
    assert await world.balance() == 0


# -- Midtrans ---------------------------------------------------------------------------------


async def test_midtrans_notifications_that_lie_credit_nothing(world: World) -> None:
    opened = await world.open(MIDTRANS)
    order = opened.payment.merchant_ref
    lies = [
        world.midtrans.notification(order, transaction_status="settlement", status_code="200"),
        world.midtrans.notification(order, gross_amount="5000000.00"),
        world.midtrans.notification(order, currency="USD"),
        world.midtrans.notification(order, merchant_id="M-SOMEONE-ELSE"),
    ]
    for body in lies:
        answer = await world.topups.callback("midtrans", body, {})
        assert answer is not None
    assert await world.balance() == 0  # Midtrans says pending: whatever the notification says
    # settled at Midtrans, but of another amount: credits nothing, alerts
    world.midtrans.set_status(order, "settlement")
    real = world.midtrans.charges[order].gross_amount
    world.midtrans.charges[order].gross_amount = "5000.00"
    await world.topups.callback("midtrans", world.midtrans.notification(order), {})
    assert await world.balance() == 0
    assert "wrong_amount" in [a.problem for a in await world.alerts()]
    world.midtrans.charges[order].gross_amount = real
    await world.topups.callback("midtrans", world.midtrans.notification(order), {})
    await world.topups.callback("midtrans", world.midtrans.notification(order), {})
    assert await world.balance() == Decimal(50_000)
    assert len(await world.credits()) == 1


async def test_midtrans_bodies_that_are_not_notifications_are_refused(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    opened = await world.open(MIDTRANS)
    order = opened.payment.merchant_ref
    good = json.loads(world.midtrans.notification(order))
    bodies = [
        b"",
        b"order_id=DEP-1&status_code=200",  # a form, not JSON
        b"null",
        b'"text"',
        b"[" * 100_000,
        json.dumps({**good, "gross_amount": 50000}).encode(),  # signed fields as numbers
        json.dumps({**good, "signature_key": None}).encode(),
        json.dumps({**good, "signature_key": "x" * 5000}).encode(),
        json.dumps({**good, "order_id": ["DEP-1"]}).encode(),
        json.dumps({k: v for k, v in good.items() if k != "signature_key"}).encode(),
        json.dumps(
            {
                **good,
                "gross_amount": "5e4",
                "signature_key": signature_key(order, good["status_code"], "5e4"),
            }
        ).encode(),
    ]
    for body in bodies:
        answer = await world.topups.callback("midtrans", body, {"content-type": "text/html"})
        assert answer is not None and answer[0] == 400, body[:60]
    assert await world.balance() == 0
    no_secret_logged(caplog)


# -- Stars ------------------------------------------------------------------------------------


async def test_stars_of_another_user_another_amount_or_currency_credit_nothing(
    world: World,
) -> None:
    invoice = await world.topups.start(ALICE, Decimal(50_000), STARS)
    assert isinstance(invoice, StarsInvoice) and invoice.stars == 500
    payload = invoice.payload
    pc = world.topups.pre_checkout
    assert await pc(ALICE.user_id, payload, "XTR", 500)
    assert not await pc(BOB.user_id, payload, "XTR", 500)
    assert not await pc(ALICE.user_id, payload, "XTR", 499)
    assert not await pc(ALICE.user_id, payload, "XTR", 501)
    assert not await pc(ALICE.user_id, payload, "USD", 500)
    assert not await pc(ALICE.user_id, payload, "xtr", 500)
    assert not await pc(ALICE.user_id, "DEP-999", "XTR", 500)
    assert not await pc(ALICE.user_id, payload + "0", "XTR", 500)
    assert not await pc(ALICE.user_id, "", "XTR", 500)
    paid = world.topups.stars_paid
    assert await paid(BOB.user_id, payload, "XTR", 500, "c-bob") is Settled.UNKNOWN
    assert await paid(ALICE.user_id, payload, "XTR", 1, "c-1") is Settled.REFUSED
    assert await paid(ALICE.user_id, payload, "USD", 500, "c-usd") is Settled.REFUSED
    assert await world.balance(ALICE) == 0 and await world.balance(BOB) == 0
    assert await paid(ALICE.user_id, payload, "XTR", 500, "c-real") is Settled.CREDITED
    assert await paid(ALICE.user_id, payload, "XTR", 500, "c-real") is Settled.ALREADY
    assert await paid(ALICE.user_id, payload, "XTR", 500, "c-second") is Settled.REFUSED
    assert await world.balance(ALICE) == Decimal(50_000)
    problems = [a.problem for a in await world.alerts()]
    assert problems.count("paid_again") == 1 and "unknown_reference" in problems


async def test_stars_paid_after_the_invoice_expired_are_credited(world: World) -> None:
    invoice = await world.topups.start(ALICE, Decimal(50_000), STARS)
    assert isinstance(invoice, StarsInvoice)
    world.clock.advance(3600 + 1)
    assert not await world.topups.pre_checkout(ALICE.user_id, invoice.payload, "XTR", 500)
    await world.topups.poll()
    # Telegram took them all the same (a pre-checkout answered just before the expiry)
    outcome = await world.topups.stars_paid(ALICE.user_id, invoice.payload, "XTR", 500, "c-late")
    assert outcome is Settled.CREDITED
    assert await world.balance() == Decimal(50_000)


async def test_a_double_refund_takes_the_stars_back_once(world: World) -> None:
    invoice = await world.topups.start(ALICE, Decimal(50_000), STARS)
    assert isinstance(invoice, StarsInvoice)
    await world.topups.stars_paid(ALICE.user_id, invoice.payload, "XTR", 500, "c-1")
    admin = Actor(1, is_admin=True)
    given: list[str] = []

    async def give_back(user: int, charge: str) -> None:
        await asyncio.sleep(0.01)
        given.append(charge)

    outcomes = await asyncio.gather(
        *(world.topups.refund_stars(admin, invoice.deposit_id, give_back) for _ in range(5))
    )
    assert given == ["c-1"]
    assert sum(1 for o in outcomes if not isinstance(o, str)) == 1
    assert await world.balance() == 0
    assert await world.topups.refund_stars(ALICE, invoice.deposit_id, give_back) == "not_admin"


# -- amounts asked --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        Decimal(-50_000),
        Decimal(0),
        Decimal("0.5"),
        Decimal("1E+40"),
        Decimal("NaN"),
        Decimal("50000.5"),
    ],
)
async def test_absurd_amounts_open_nothing(world: World, amount: Decimal) -> None:
    for choice in (TRIPAY, MIDTRANS, STARS):
        started = await world.topups.start(ALICE, amount, choice)
        assert type(started).__name__ == "TopUpRefusal", (choice, amount, started)
    assert world.tripay.transactions == {} and world.midtrans.charges == {}
