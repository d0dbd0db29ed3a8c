"""MassOrders over the fakes: preview (each line checked, with its reason when skipped),
start once, run (each line exactly once, the wallet paying only what it covers, lines whose
service or price changed skipped with the reason), the report, and a stop mid-batch."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.core.actor import Actor
from bot.core.balance import BALANCE_TTL, Balance
from bot.core.mass_order import (
    MAX_ORDERS,
    LineResult,
    NotStarted,
    Problem,
    Repriced,
    TooManyLines,
    parse,
)
from bot.core.panel import OrderOutcomeUnknown, PanelError
from bot.core.records import BatchState, EntryKind, MassBatch, Skipped
from tests.core.fakes import ADMIN, OTHER, USER, World, place, service, world

IG = "https://instagram.com/p/"


def catalog() -> list:
    return [
        service(1, rate="12345"),
        service(2, type="Custom Comments", rate="100"),
        service(3, type="Package", rate="5000", min=1, max=1),
        service(4, rate="1000", min=100, max=1000),
    ]


def panel_world() -> World:
    return world(catalog())


def shop_world() -> World:
    return world(catalog(), wallets=True, currency="IDR", panel_balance="10000000")


async def started(w: World, text: str, user_id: int = USER) -> MassBatch:
    preview = await w.mass.preview(user_id, text)
    assert preview.key is not None
    batch = await w.mass.start(preview.key, user_id, chat_id=user_id, message_id=5)
    assert batch is not None and batch.state is BatchState.RUNNING
    return batch


class Progress:
    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    async def __call__(self, done: int, total: int) -> None:
        self.seen.append((done, total))


async def test_preview_checks_every_line_and_stores_the_valid_ones() -> None:
    w = panel_world()
    await place(w, Actor(USER), 1, IG + "busy")
    text = "\n".join(
        [
            "/mass",
            f"1|{IG}a|100",
            "# a comment",
            "nonsense",
            f"x|{IG}b|100",
            f"99|{IG}c|100",
            f"2|{IG}d|100",
            f"4|{IG}e|5",
            f"3|{IG}f|5",
            f"3|{IG}g",
            f"1|{IG}a/|200",
            f"1|{IG}busy|100",
            f"3|{IG}busy",  # another service on that link: not a repeat
        ]
    )
    preview = await w.mass.preview(USER, text)
    assert [(line.number, line.problem) for line in preview.plan.lines] == [
        (1, None),
        (2, Problem.FORMAT),
        (3, Problem.SERVICE_ID),
        (4, Problem.UNKNOWN_SERVICE),
        (5, Problem.GUIDED),
        (6, Problem.FIELD),
        (7, Problem.PACKAGE_QUANTITY),
        (8, None),
        (9, Problem.SAME_LINK),
        (10, Problem.ACTIVE),
        (11, None),
    ]
    assert (
        preview.plan.lines[5].issue is not None and preview.plan.lines[5].issue.field == "quantity"
    )
    assert preview.plan.lines[8].other == 1 and preview.plan.lines[9].other == 1001
    assert preview.plan.total == Decimal("1234.5") + Decimal("5000") * 2
    assert preview.key is not None
    stored = await w.mass.get(preview.key, USER)
    assert stored is not None and stored.state is BatchState.PREVIEW
    assert [(line.number, line.price) for line in stored.lines] == [
        (1, Decimal("1234.5")),
        (8, Decimal("5000")),
        (11, Decimal("5000")),
    ]
    assert await w.mass.get(preview.key, OTHER) is None
    assert w.panel.count("add") == 1  # a preview sends nothing


async def test_a_preview_without_a_valid_line_stores_nothing_and_too_many_are_refused() -> None:
    w = panel_world()
    nothing = await w.mass.preview(USER, "99|https://x.com/a|10")
    assert nothing.key is None and nothing.plan.valid == []
    assert w.store.data.mass == {}
    with pytest.raises(TooManyLines):
        await w.mass.preview(USER, "\n".join(f"1|{IG}{n}|100" for n in range(MAX_ORDERS + 1)))


async def test_a_new_preview_drops_the_earlier_one_and_a_batch_starts_once() -> None:
    w = panel_world()
    first = await w.mass.preview(USER, f"1|{IG}a|100")
    second = await w.mass.preview(USER, f"1|{IG}b|100")
    assert first.key and second.key
    assert await w.mass.start(first.key, USER, 1, 1) is None  # its button expired
    assert await w.mass.start(second.key, OTHER, 1, 1) is None  # not theirs
    assert await w.mass.start(second.key, USER, 1, 1) is not None
    assert await w.mass.start(second.key, USER, 1, 1) is None  # a second tap
    assert not await w.mass.drop(second.key, USER)  # running: no longer dropped
    third = await w.mass.preview(USER, f"1|{IG}c|100")
    assert third.key and await w.mass.drop(third.key, USER)
    assert [b.key for b in await w.mass.unfinished()] == [second.key]


async def test_run_places_each_line_once_and_reports_each_outcome() -> None:
    w = panel_world()
    w.panel.add_answers = [1500, PanelError("Link is private"), OrderOutcomeUnknown("timeout")]
    batch = await started(w, f"1|{IG}a|100\n1|{IG}b|100\n1|{IG}c|100")
    progress = Progress()
    report = await w.mass.run(batch, progress)
    assert report is not None
    assert [(r.number, r.result) for r in report] == [
        (1, LineResult.PLACED),
        (2, LineResult.REFUSED),
        (3, LineResult.UNKNOWN),
    ]
    assert report[0].order is not None and report[0].order.panel_order_id == 1500
    assert report[1].order is not None and report[1].order.error == "Link is private"
    assert progress.seen == [(1, 3), (2, 3), (3, 3)]
    assert (await w.mass.get(batch.key, USER)).state is BatchState.DONE
    again = await w.mass.run(batch, Progress())  # a restart, a repeated job
    assert again == report
    assert w.panel.count("add") == 3


async def test_the_wallet_pays_only_the_lines_it_covers() -> None:
    w = shop_world()
    await w.shop.adjust(USER, Decimal("3000"), ADMIN, "")
    batch = await started(w, f"1|{IG}a|100\n1|{IG}b|100\n1|{IG}c|100")
    assert [line.price for line in batch.lines] == [Decimal("1235")] * 3  # each rounded up
    assert await w.mass.panel_cost(batch) == Decimal("3703.5")
    report = await w.mass.run(batch, Progress())
    assert report is not None
    assert [r.result for r in report] == [LineResult.PLACED, LineResult.PLACED, LineResult.NO_FUNDS]
    assert await w.store.balance_of(USER) == Decimal("530")
    debits = [e.amount for e in w.store.ledger_of(USER) if e.kind is EntryKind.DEBIT_ORDER]
    assert debits == [Decimal("-1235"), Decimal("-1235")]
    assert (await w.mass.get(batch.key, USER)).skipped == {3: Skipped.NO_FUNDS}
    assert w.panel.count("add") == 2


async def test_lines_whose_service_or_price_changed_are_skipped_with_the_reason() -> None:
    w = panel_world()
    batch = await started(w, f"1|{IG}a|100\n4|{IG}b|100\n3|{IG}c")
    w.panel.service_list = [service(1, rate="20000"), service(3, rate="5000", type="Package")]
    await w.catalog.refresh()
    assert await w.mass.reprice(batch) is not None  # the preview is shown again
    report = await w.mass.run(batch, Progress())
    assert report is not None
    assert [r.result for r in report] == [
        LineResult.PRICE_CHANGED,
        LineResult.NOT_SENT,
        LineResult.PLACED,
    ]
    assert w.panel.count("add") == 1


async def test_reprice_is_none_while_every_price_holds() -> None:
    w = shop_world()
    batch = await started(w, f"1|{IG}a|100")
    assert await w.mass.reprice(batch) is None


async def test_a_stop_mid_batch_goes_on_with_the_lines_not_sent() -> None:
    w = panel_world()
    batch = await started(w, f"1|{IG}a|100\n1|{IG}b|100\n1|{IG}c|100")

    async def stop_after_first(done: int, total: int) -> None:
        if done == 1:
            w.mass.stopping = True

    assert await w.mass.run(batch, stop_after_first) is None
    assert w.panel.count("add") == 1
    waiting = await w.mass.report(batch, finished=False)
    assert [r.result for r in waiting] == [
        LineResult.PLACED,
        LineResult.WAITING,
        LineResult.WAITING,
    ]
    (unfinished,) = await w.mass.unfinished()
    w.mass.stopping = False
    report = await w.mass.run(unfinished, Progress())
    assert report is not None and [r.result for r in report] == [LineResult.PLACED] * 3
    assert w.panel.count("add") == 3
    keys = sorted(row.order.intent_key for row in w.store.data.orders.values())
    assert keys == [f"{batch.key}-1", f"{batch.key}-2", f"{batch.key}-3"]


async def test_two_runs_of_one_batch_send_each_line_once() -> None:
    w = panel_world()
    batch = await started(w, f"1|{IG}a|100\n1|{IG}b|100")
    gate = w.panel.hold["add"] = asyncio.Event()
    first = asyncio.create_task(w.mass.run(batch, Progress()))
    await w.panel.arrived("add").wait()
    del w.panel.hold["add"]
    second = await w.mass.run(batch, Progress())  # a job started again meanwhile
    gate.set()
    report = await first
    assert report is not None and second is not None
    assert [r.result for r in report] == [LineResult.PLACED, LineResult.PLACED]
    assert w.panel.count("add") == 2


async def test_a_batch_given_up_ends_where_it_is() -> None:
    w = panel_world()
    batch = await started(w, f"1|{IG}a|100\n1|{IG}b|100")
    await w.mass.give_up(batch)
    assert await w.mass.unfinished() == []
    assert (await w.mass.get(batch.key, USER)).state is BatchState.DONE
    assert w.panel.count("add") == 0


async def test_a_batch_given_up_reports_its_lines_as_not_sent() -> None:
    w = panel_world()
    batch = await started(w, f"1|{IG}a|100\n1|{IG}b|100")
    await w.mass.give_up(batch)
    done = await w.mass.get(batch.key, USER)
    assert done is not None
    report = await w.mass.report(done, finished=True)
    assert [r.result for r in report] == [LineResult.NOT_SENT, LineResult.NOT_SENT]


def test_lines_are_read_with_bars_spaces_or_commas() -> None:
    parsed = parse(
        "/mass 1|https://x.com/a?b=1|c|100\n"
        "\n"
        "# skipped\n"
        "2 https://x.com/b 200\n"
        "3, https://x.com/c, 300\n"
        "4|https://x.com/d\n"
        "just-one-field\n"
    )
    assert [(m.number, m.service, m.link, m.quantity) for m in parsed.lines] == [
        (1, "1", "https://x.com/a?b=1|c", "100"),
        (2, "2", "https://x.com/b", "200"),
        (3, "3", "https://x.com/c", "300"),
        (4, "4", "https://x.com/d", ""),
    ]
    assert parsed.unreadable == [5] and parsed.count == 5


async def test_confirm_starts_once_at_the_shown_prices_and_within_the_panel_balance() -> None:
    customer = Actor(USER, pays_from_wallet=True)
    w = world(catalog(), wallets=True, currency="IDR", panel_balance="3000")
    await w.shop.adjust(USER, Decimal("100000"), ADMIN, "")
    big = await w.mass.preview(USER, f"1|{IG}a|100\n1|{IG}b|100")  # 2,469 on the panel
    assert big.key is not None
    small = await w.mass.preview(USER, f"1|{IG}a|100")  # drops the earlier preview
    assert small.key is not None
    assert await w.mass.confirm(customer, big.key, USER, 5) is NotStarted.ALREADY
    w.panel.service_list = [service(1, rate="20000"), *catalog()[1:]]
    await w.catalog.refresh()
    repriced = await w.mass.confirm(customer, small.key, USER, 5)
    assert isinstance(repriced, Repriced)  # nothing started, today's prices shown
    assert repriced.preview.key is not None
    assert (await w.mass.get(repriced.preview.key, USER)).state is BatchState.PREVIEW
    w.panel.balance_answer = Balance.parse({"balance": "1000", "currency": "IDR"})
    w.clock.advance(BALANCE_TTL)
    refused = await w.mass.confirm(customer, repriced.preview.key, USER, 5)
    assert refused is NotStarted.SHOP_CANNOT  # 2,000 on the panel, 1,000 there
    w.panel.balance_answer = Balance.parse({"balance": "5000", "currency": "IDR"})
    w.clock.advance(BALANCE_TTL)
    batch = await w.mass.confirm(customer, repriced.preview.key, USER, 5)
    assert isinstance(batch, MassBatch) and batch.state is BatchState.RUNNING
    again = await w.mass.confirm(customer, repriced.preview.key, USER, 5)
    assert again is NotStarted.ALREADY  # a second tap starts nothing
    assert w.panel.count("add") == 0 and await w.store.balance_of(USER) == Decimal("100000")
