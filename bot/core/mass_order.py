"""Mass order, without Telegram: lines `service_id|link|quantity` read, checked against the
catalog and the user's orders, and placed one by one, each exactly once.

A batch is stored before anything is sent (its lines, in state `preview`); Confirm turns it
`running` once (a second tap finds it running). Each line is placed through
`bot.core.checkout.submit` under its own intent key (`<batch key>-<line number>`), so a line whose
intent is stored is never sent again: a repeated button, a crash or a restart mid-batch goes
on with the lines not yet sent, and the report is read back from the stored orders.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from bot.core.actor import Actor
from bot.core.api import Service
from bot.core.balance import PanelCurrency
from bot.core.catalog import CatalogIndex
from bot.core.checkout import UnsavedOutcomes, submit
from bot.core.drafts import OrderDraft, new_key, quote
from bot.core.money import InsufficientFunds
from bot.core.order_types import InvalidField, Issue, OrderType, check_field, order_type_of
from bot.core.panel import Panel
from bot.core.ports import Store
from bot.core.records import (
    BatchLine,
    BatchState,
    MassBatch,
    Order,
    Outcome,
    RejectedLine,
    Skipped,
    target_core,
)
from bot.core.shop import Shop

log = logging.getLogger(__name__)

MAX_ORDERS = 100
"""Lines (orders) in one batch, as panels' own mass order pages allow."""
MASS_FIELDS = frozenset({"link", "quantity"})

_SEPARATORS = re.compile(r"[\s,;]+")
_TRIM = " \t,;"


class Problem(StrEnum):
    """Why a line is not ordered."""

    FORMAT = "format"
    """Not `service_id|link|quantity`."""
    SERVICE_ID = "service_id"
    """The first field is not a service id."""
    UNKNOWN_SERVICE = "unknown_service"
    GUIDED = "guided"
    """The service needs more than a link and a quantity."""
    FIELD = "field"
    """The link or the quantity is not acceptable (`PlannedLine.issue` says why)."""
    PACKAGE_QUANTITY = "package_quantity"
    """A package is ordered one at a time."""
    SAME_LINK = "same_link"
    """An earlier line of the batch has the same link (`PlannedLine.other`: its number)."""
    ACTIVE = "active"
    """The user has an unfinished order for the link (`PlannedLine.other`: its panel id)."""


@dataclass(frozen=True, slots=True)
class MassLine:
    """One order line as typed: its number (1-based, among the order lines) and fields."""

    number: int
    service: str
    link: str
    quantity: str


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    lines: list[MassLine]
    unreadable: list[int]
    """Numbers of the lines that are not `service_id|link|quantity` at all."""

    @property
    def count(self) -> int:
        return len(self.lines) + len(self.unreadable)


def parse(text: str) -> ParsedBatch:
    """The order lines of a pasted text. Blank lines and `#` comments are skipped; a leading
    /mass command is ignored. Fields are split on `|` (spaces, commas or semicolons around it
    are trimmed): the first is the service, the last the quantity, and everything between is
    the link (which may hold a `|`). Without any `|`, spaces or commas separate the fields."""
    lines: list[MassLine] = []
    unreadable: list[int] = []
    number = 0
    for raw in text.splitlines():
        line = raw.strip()
        if number == 0 and line.lower().startswith("/mass"):
            line = line.split(maxsplit=1)[1].strip() if " " in line else ""
        if not line or line.startswith("#"):
            continue
        number += 1
        fields = _fields(line)
        if fields is None:
            unreadable.append(number)
        else:
            lines.append(MassLine(number, *fields))
    return ParsedBatch(lines, unreadable)


def _fields(line: str) -> tuple[str, str, str] | None:
    if "|" in line:
        service, _, rest = line.partition("|")
        link, bar, amount = rest.rpartition("|")
        if not bar or not _looks_like_quantity(amount):
            # `service|link` (a package), or the last `|` was the link's own
            link, amount = rest, ""
    else:
        parts = _SEPARATORS.split(line)
        if len(parts) not in (2, 3):
            return None
        service, link, amount = (*parts, "")[:3]
    service, link, amount = service.strip(_TRIM), link.strip(_TRIM), amount.strip(_TRIM)
    if not service or not link:
        return None
    return service, link, amount


def _looks_like_quantity(text: str) -> bool:
    text = text.strip(_TRIM)
    return not text or (len(text) <= 20 and not any(c in text for c in "/:?=&"))


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """A line with what the catalog and the user's orders say of it."""

    number: int
    link: str
    service_id: int | None
    service: Service | None = None
    fields: Mapping[str, str] | None = None
    """The order's fields in the panel's form, for a line without a problem."""
    quantity: int | None = None
    price: Decimal = Decimal(0)
    problem: Problem | None = None
    issue: Issue | None = None
    other: int | None = None


@dataclass(frozen=True, slots=True)
class MassPlan:
    """A batch as its preview shows it, line by line (in the order typed)."""

    lines: list[PlannedLine]

    @property
    def valid(self) -> list[PlannedLine]:
        return [line for line in self.lines if line.problem is None]

    @property
    def problems(self) -> list[PlannedLine]:
        return [line for line in self.lines if line.problem is not None]

    @property
    def total(self) -> Decimal:
        return sum((line.price for line in self.valid), Decimal(0))


def plan(batch: ParsedBatch, index: CatalogIndex, active: Mapping[str, int | None]) -> MassPlan:
    """Check every line: its service, its link and quantity against that service's rules, a
    link given twice for one service, a link the user has an unfinished order of the same
    service for (`active`: service id and link core -> that order's panel id)."""
    planned = [PlannedLine(n, "", None, problem=Problem.FORMAT) for n in batch.unreadable]
    first_of: dict[str, int] = {}
    for line in batch.lines:
        checked = _check(line, index)
        if checked.problem is None:
            same = _same_target(checked.service_id, checked.link)  # one service only: likes then
            if same in first_of:  # comments on one post are normal
                checked = _with_problem(checked, Problem.SAME_LINK, other=first_of[same])
            elif same in active:
                checked = _with_problem(checked, Problem.ACTIVE, other=active[same])
            first_of.setdefault(same, line.number)
        planned.append(checked)
    planned.sort(key=lambda p: p.number)
    return MassPlan(planned)


def _with_problem(line: PlannedLine, problem: Problem, *, other: int | None) -> PlannedLine:
    return PlannedLine(
        line.number, line.link, line.service_id, line.service, problem=problem, other=other
    )


def _check(line: MassLine, index: CatalogIndex) -> PlannedLine:
    if not (line.service.isascii() and line.service.isdigit()) or len(line.service) > 12:
        return PlannedLine(line.number, line.link, None, problem=Problem.SERVICE_ID)
    service_id = int(line.service)
    service = index.by_id.get(service_id)
    if service is None:
        return PlannedLine(line.number, line.link, service_id, problem=Problem.UNKNOWN_SERVICE)
    base = PlannedLine(line.number, line.link, service_id, service)
    order_type = order_type_of(service)
    if not mass_orderable(order_type):
        return _with_problem(base, Problem.GUIDED, other=None)
    fields = {}
    try:
        fields["link"] = check_field(order_type.field("link"), line.link, service)
        if order_type.package:
            if line.quantity not in ("", "1"):
                return _with_problem(base, Problem.PACKAGE_QUANTITY, other=None)
        else:
            fields["quantity"] = check_field(order_type.field("quantity"), line.quantity, service)
    except InvalidField as invalid:
        return PlannedLine(
            line.number, line.link, service_id, service, problem=Problem.FIELD, issue=invalid.issue
        )
    offer = quote(OrderDraft(service_id=service_id, values=fields), service)
    return PlannedLine(
        line.number, line.link, service_id, service, offer.fields, offer.quantity, offer.price
    )


def mass_orderable(order_type: OrderType) -> bool:
    """Whether a line can order the type: everything it requires is a link and a quantity
    (drip-feed and other optional fields are left out)."""
    required = {s.name for s in order_type.fields if not s.optional and not s.ask_if}
    return required <= MASS_FIELDS


def _same_target(service_id: int | None, link: str) -> str:
    """What makes two orders repeats of each other: one service on one link (its core)."""
    return f"{service_id} {target_core(link)}"


def active_links(orders: Iterable[Order]) -> dict[str, int | None]:
    """The user's unfinished orders by service and link core, as `plan` keys its lines
    (-> panel id, None if of unknown outcome)."""
    return {
        _same_target(o.service_id, o.target): o.panel_order_id
        for o in orders
        if o.target is not None
    }


class LineResult(StrEnum):
    PLACED = "placed"
    REFUSED = "refused"
    UNKNOWN = "unknown"
    NOT_SENT = "not_sent"
    """Checked again at Confirm, the catalog no longer took it (the service went, say)."""
    NO_FUNDS = "no_funds"
    """The wallet could not pay for it: not sent."""
    PRICE_CHANGED = "price_changed"
    """Its price is no longer the one the preview showed: not sent."""
    REJECTED = "rejected"
    """Its preview refused it (`LineReport.planned` says why): never part of the batch."""
    WAITING = "waiting"
    """Not sent yet (the batch runs on)."""


SKIPPED = {
    Skipped.GONE: LineResult.NOT_SENT,
    Skipped.PRICE_CHANGED: LineResult.PRICE_CHANGED,
    Skipped.NO_FUNDS: LineResult.NO_FUNDS,
}


@dataclass(frozen=True, slots=True)
class LineReport:
    number: int
    link: str
    result: LineResult
    order: Order | None = None
    issue: Issue | None = None
    planned: PlannedLine | None = None
    """A line the preview refused, as the preview checked it."""


def line_key(batch_key: str, number: int) -> str:
    return f"{batch_key}-{number}"


Progress = Callable[[int, int], Awaitable[None]]
"""Told (lines done, lines in all) after each line."""


class TooManyLines(ValueError):
    def __init__(self, count: int) -> None:
        super().__init__(f"{count} order lines, at most {MAX_ORDERS}")
        self.count = count


@dataclass(frozen=True, slots=True)
class Preview:
    plan: MassPlan
    key: str | None
    """The stored batch's key, for its Confirm button (None: no line can be ordered)."""


@dataclass(frozen=True, slots=True)
class Repriced:
    """Prices changed since the preview: nothing was started; the lines at today's prices."""

    preview: Preview


class NotStarted(StrEnum):
    SHOP_CANNOT = "shop_cannot"
    """The panel balance would not cover it (the admins are told): nothing taken."""
    ALREADY = "already"
    """Not this user's batch waiting for Confirm: started already, or gone."""


class MassOrders:
    """Previews, starts and runs batches; `stopping` halts a running batch between two lines
    (the bot is shutting down: the next start goes on with it)."""

    def __init__(
        self,
        store: Store,
        panel: Panel,
        shop: Shop,
        currency: PanelCurrency,
        unsaved: UnsavedOutcomes,
    ) -> None:
        self._store = store
        self._panel = panel
        self._shop = shop
        self._currency = currency
        self._unsaved = unsaved
        self.stopping = False

    async def preview(self, user_id: int, text: str) -> Preview:
        """Every line of `text` checked, and the valid ones stored for Confirm (a user's
        earlier unconfirmed batch is dropped: its button expires). Raises `TooManyLines`, and
        `PanelFailure` when there is no catalog at all."""
        parsed = parse(text)
        if parsed.count > MAX_ORDERS:
            raise TooManyLines(parsed.count)
        index = await self._shop.catalog_for(user_id)
        active = active_links(await self._store.orders.unfinished_of(user_id))
        checked = plan(parsed, index, active)
        if self._shop.pays_from_wallet(user_id):  # each line charged rounded up
            checked = MassPlan(
                [
                    replace(line, price=self._shop.charge(user_id, line.price) or line.price)
                    if line.problem is None
                    else line
                    for line in checked.lines
                ]
            )
        lines = [
            BatchLine(line.number, line.service_id, dict(line.fields), line.price)
            for line in checked.valid
            if line.service_id is not None and line.fields is not None
        ]
        if not lines:
            return Preview(checked, None)
        typed = {line.number: line.quantity for line in parsed.lines}
        rejected = [
            RejectedLine(
                line.number,
                line.link,
                line.service_id,
                line.problem.value,
                line.other,
                typed.get(line.number, ""),
            )
            for line in checked.problems
            if line.problem is not None
        ]
        key = new_key()
        await self._store.mass.add(key, user_id, lines, rejected)
        return Preview(checked, key)

    async def confirm(
        self, actor: Actor, key: str, chat_id: int, message_id: int
    ) -> MassBatch | Repriced | NotStarted:
        """Confirm tapped: the batch starts once, at the prices its preview showed (else the
        same lines at today's prices, nothing taken), and only if the shop's panel balance
        covers what its lines cost there."""
        waiting = await self.get(key, actor.user_id)
        if waiting is not None and waiting.state is BatchState.PREVIEW:
            repriced = await self.reprice(waiting)
            if repriced is not None:
                return Repriced(repriced)
            if not await self._shop.can_take(actor.user_id, await self.panel_cost(waiting)):
                return NotStarted.SHOP_CANNOT
        batch = await self.start(key, actor.user_id, chat_id, message_id)
        return NotStarted.ALREADY if batch is None else batch

    async def start(
        self, key: str, user_id: int, chat_id: int, message_id: int
    ) -> MassBatch | None:
        """The batch, now running, with where its progress shows; None if it is not this
        user's batch waiting for Confirm (started already, say)."""
        return await self._store.mass.start(key, user_id, chat_id, message_id)

    async def get(self, key: str, user_id: int) -> MassBatch | None:
        return await self._store.mass.get(key, user_id)

    async def unfinished(self) -> list[MassBatch]:
        """Batches a stop or crash interrupted: they go on at the next start."""
        return await self._store.mass.running()

    async def reprice(self, batch: MassBatch) -> Preview | None:
        """None when every line still costs what its preview showed; else the same lines
        previewed again at today's prices, stored in place of the old batch (whose Confirm
        expires): what a Confirm takes is what the screen showed."""
        index = await self._shop.catalog_for(batch.user_id)
        if all(
            line.price is None or self._amount(batch.user_id, index, line) in (None, line.price)
            for line in batch.lines
        ):
            return None
        text = "\n".join(
            f"{line.service_id}|{line.fields.get('link', '')}|{line.fields.get('quantity', '')}"
            for line in batch.lines
        )
        return await self.preview(batch.user_id, text)

    def _amount(self, user_id: int, index: CatalogIndex, line: BatchLine) -> Decimal | None:
        """What the line costs this user now (as a preview shows it), or None when the
        catalog no longer takes it."""
        service = index.by_id.get(line.service_id)
        if service is None:
            return None
        offer = quote(OrderDraft(service_id=service.id, values=dict(line.fields)), service)
        if offer.issues:
            return None
        return self._shop.charge(user_id, offer.price) or offer.price

    async def run(self, batch: MassBatch, progress: Progress) -> list[LineReport] | None:
        """Place every line not placed (or skipped) yet, in order; the report, or None when
        stopped first. A line is checked against the catalog again (it may have changed
        since the preview): one the catalog no longer takes, one whose price is not the one
        shown, and one the wallet cannot pay are skipped, with the reason kept for the
        report; one whose intent is stored already is not sent again. Raises `PanelFailure`
        when there is no catalog at all (nothing is sent)."""
        for done, line in enumerate(batch.lines, start=1):
            if self.stopping:
                return None
            key = line_key(batch.key, line.number)
            if (
                line.number not in batch.skipped
                and await self._store.orders.by_intent(key, batch.user_id) is None
            ):
                skipped = await self._place(batch, key, line)
                if skipped is not None:
                    await self._store.mass.skip(batch.key, line.number, skipped)
            await progress(done, len(batch.lines))
        await self._store.mass.finish(batch.key)
        finished = await self._store.mass.get(batch.key, batch.user_id)
        return await self.report(finished or batch, finished=True)

    async def _place(self, batch: MassBatch, key: str, line: BatchLine) -> Skipped | None:
        """Send one line, or say why not. The catalog is read for each line: a refresh in
        the middle of the batch is seen, and a service it dropped skips its lines alone."""
        user_id = batch.user_id
        index = await self._shop.catalog_for(user_id)
        amount = self._amount(user_id, index, line)
        if amount is None:
            return Skipped.GONE
        if line.price is not None and amount != line.price:
            return Skipped.PRICE_CHANGED
        service = index.by_id[line.service_id]
        offer = quote(OrderDraft(key=key, service_id=service.id, values=dict(line.fields)), service)
        try:
            payment = await self._shop.payment(user_id, service.id, offer.fields)
            await submit(
                self._store,
                self._panel,
                user_id=user_id,
                key=key,
                offer=offer,
                currency=self._currency.code,
                unsaved=self._unsaved,
                payment=payment,
            )
        except LookupError:  # the catalog changed between two reads
            return Skipped.GONE
        except InsufficientFunds:
            return Skipped.NO_FUNDS
        return None

    async def drop(self, key: str, user_id: int) -> bool:
        """The user canceled the preview: its Confirm button expires. False when the batch
        was not waiting for Confirm (started already, say)."""
        return await self._store.mass.drop(key, user_id)

    async def panel_cost(self, batch: MassBatch) -> Decimal:
        """What the panel would charge for the batch's lines (the panel balance guard)."""
        cost = Decimal(0)
        for line in batch.lines:
            with contextlib.suppress(LookupError):
                payment = await self._shop.payment(batch.user_id, line.service_id, line.fields)
                cost += payment.cost if payment is not None else 0
        return cost

    async def give_up(self, batch: MassBatch) -> None:
        """The batch ends where it is (its lines not sent stay so)."""
        await self._store.mass.finish(batch.key)

    async def report(self, batch: MassBatch, *, finished: bool) -> list[LineReport]:
        """Each line's outcome, read from the stored orders; `finished`: every line was
        reached (one without an order was not sent), else such a line is still waiting."""
        index = await self._shop.catalog_for(batch.user_id)
        keys = [line_key(batch.key, line.number) for line in batch.lines]
        orders = await self._store.orders.by_intents(keys, batch.user_id)
        reports = []
        for line, key in zip(batch.lines, keys, strict=True):
            link = line.fields.get("link", "")
            order = orders.get(key)
            if order is not None:
                reports.append(LineReport(line.number, link, _result(order.outcome), order))
                continue
            service = index.by_id.get(line.service_id)
            issue = None
            if service is not None:
                draft = OrderDraft(service_id=line.service_id, values=dict(line.fields))
                issues = quote(draft, service).issues
                issue = issues[0] if issues else None
            reason = batch.skipped.get(line.number)
            if reason is not None:
                result = SKIPPED[reason]
            elif not finished:
                result = LineResult.WAITING
            else:  # reached and not sent (a batch given up), whatever the reason was
                result = LineResult.NOT_SENT
            reports.append(LineReport(line.number, link, result, issue=issue))
        reports += [_rejected_report(r, index) for r in batch.rejected]
        return sorted(reports, key=lambda report: report.number)


def _rejected_report(line: RejectedLine, index: CatalogIndex) -> LineReport:
    """A refused line said again: a link or quantity the service did not take is checked
    once more, to name what was wrong."""
    planned = PlannedLine(
        line.number, line.link, line.service_id, problem=Problem(line.problem), other=line.other
    )
    if planned.problem is Problem.FIELD and line.service_id is not None:
        checked = _check(
            MassLine(line.number, str(line.service_id), line.link, line.quantity), index
        )
        planned = replace(planned, issue=checked.issue)
    return LineReport(line.number, line.link, LineResult.REJECTED, planned=planned)


def _result(outcome: Outcome) -> LineResult:
    if outcome is Outcome.PLACED:
        return LineResult.PLACED
    if outcome is Outcome.REJECTED:
        return LineResult.REFUSED
    return LineResult.UNKNOWN
