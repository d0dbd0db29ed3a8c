"""After the order: /status, /orders, /refill, /refill_status, /cancel and the card buttons.

Ownership: a user sees and acts only on orders placed by them through this bot; any other
id answers exactly like an id the panel does not know. Admins may use any order id.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.core.api import OrderStatus, RefillStatus
from bot.core.my_orders import Card
from bot.core.order_actions import Refusal
from bot.core.panel import NotFound, PanelError, PanelFailure, PanelUnavailable
from bot.core.records import NOT_YOURS, Order, OrderFilter, Outcome
from bot.core.unknown_outcome import Attached, NotAttached
from bot.telegram import callback as cb
from bot.telegram.context import Awaiting, BotContext, Expecting, PendingRetry
from bot.telegram.i18n import N_
from bot.telegram.render.keyboards import Button, markup, menu_button, pager
from bot.telegram.render.orders import (
    card_keyboard,
    not_attached_text,
    order_card,
    order_line,
    order_progress,
)
from bot.telegram.render.text import (
    Line,
    escape,
    failure_text,
    order_state_text,
    pack,
    refill_state_text,
    shorten,
)
from bot.telegram.replies import (
    answer_query,
    command_arguments,
    expired,
    show,
    too_fast,
    user_id_of,
)

USAGE = {
    "status": N_(
        "Usage: /status &lt;order id&gt; [&lt;order id&gt; ...] — ids separated by spaces "
        "or commas."
    ),
    "refill": N_("Usage: /refill &lt;order id&gt; [&lt;order id&gt; ...]"),
    "refill_status": N_("Usage: /refill_status &lt;refill id&gt; [&lt;refill id&gt; ...]"),
    "cancel": N_("Usage: /cancel &lt;order id&gt; [&lt;order id&gt; ...]"),
}


def _usage(context: BotContext, command: str) -> str:
    text = USAGE[command]
    return context.t._(text)


MAX_IDS = 1000
MESSAGE_LIMIT = 4000
ORDERS_PAGE = 8
ORDER_BUTTONS_PER_ROW = 4
MAX_LISTED = 20
"""Ids shown in the question of /cancel; the rest are counted."""
_SEPARATORS = re.compile(r"[\s,;]+")


def parse_ids(text: str) -> tuple[list[int], list[str]]:
    """Ids separated by spaces, commas or new lines; duplicates dropped. Returns the ids and
    the tokens that are not ids."""
    ids: dict[int, None] = {}
    bad: list[str] = []
    for token in _SEPARATORS.split(text):
        if not token:
            continue
        digits = token.lstrip("#")
        if digits.isascii() and digits.isdigit() and len(digits) <= 12 and int(digits) > 0:
            ids[int(digits)] = None
        elif token not in bad:
            bad.append(token)
    return list(ids), bad


def _way_on(context: BotContext) -> InlineKeyboardMarkup:
    """My orders and the menu: under a reply that has no order card."""
    t = context.t
    orders = Button(t._("📦 My orders"), callback_data=cb.ORDERS(0, OrderFilter.ALL, 0))
    return markup([[orders, menu_button(t)]])


async def _send_lines(update: Update, context: BotContext, lines: list[str]) -> None:
    """Send lines in as few messages as fit Telegram's limit; the last one ends with a way
    on (My orders, Menu), never in a dead end."""
    chat = update.effective_chat
    if chat is None:
        return
    way_on = _way_on(context)
    texts = pack([Line(line) for line in lines], MESSAGE_LIMIT)
    for n, text in enumerate(texts, start=1):
        await context.bot.send_message(
            chat.id, text, reply_markup=way_on if n == len(texts) else None
        )


async def _ids_or_usage(
    update: Update, context: BotContext, arguments: str, usage: str
) -> list[int] | None:
    t = context.t
    ids, bad = parse_ids(arguments)
    lines = []
    if bad:
        shown = ", ".join(escape(shorten(b, 30)) for b in bad[:10])
        lines.append(t._("Not an id, ignored: {tokens}").format(tokens=shown))
    if not ids:
        lines.append(usage)
        await _send_lines(update, context, lines)
        return None
    if len(ids) > MAX_IDS:
        lines.append(t._("Only the first {n} ids are taken.").format(n=t.number(MAX_IDS)))
        ids = ids[:MAX_IDS]
    if lines:
        await _send_lines(update, context, lines)
    return ids


async def _panel_down(
    update: Update, context: BotContext, exc: PanelFailure, retry: PendingRetry | None = None
) -> None:
    """The panel refused the whole call or gave no usable answer. A command the panel could
    not answer gets a Retry button that runs it again."""
    t = context.t
    rows = [[menu_button(t)]]
    if retry is not None and isinstance(exc, PanelUnavailable):
        context.data.retry = retry
        rows = [[Button(t._("🔄 Retry"), callback_data=cb.RETRY()), menu_button(t)]]
    await show(update, context, "⚠️ " + failure_text(t, exc), markup(rows), new_message=True)


# -- status -------------------------------------------------------------------------------------


def _with_missing(context: BotContext, lines: dict[int, str], missing: list[int]) -> list[str]:
    """One line per id, except that several ids not found are one line at the end."""
    if len(missing) < 2:
        return list(lines.values())
    listed = ", ".join(f"#{i}" for i in missing)
    shown = [line for i, line in lines.items() if i not in missing]
    return [*shown, context.t._("Not found: {ids}").format(ids=listed)]


def _problem(context: BotContext, error: PanelError) -> str:
    """What a line of a list says of an id answered with an error of its own."""
    t = context.t
    return t._("not found") if isinstance(error, NotFound) else failure_text(t, error)


def status_line(
    context: BotContext, order_id: int, status: OrderStatus | PanelError, order: Order | None
) -> str:
    t = context.t
    if isinstance(status, PanelError):
        # An id the bot does not know reads as not found, whatever the panel said of it.
        problem = _problem(context, status if order is not None else NOT_YOURS)
        return t._("<b>#{id}</b>: {error}").format(id=order_id, error=problem)
    parts = [f"<b>#{order_id}</b>: {escape(order_state_text(t, status.status_raw))}"]
    if order is not None and order.paid is not None:  # the panel's charge is the shop's cost
        parts.append(t._("paid {amount}").format(amount=t.money(order.paid, order.currency)))
    elif status.charge is not None:
        parts.append(
            t._("charge {amount}").format(
                amount=t.money(status.charge, order.currency if order else status.currency or "")
            )
        )
    if status.start_count is not None:
        parts.append(t._("start {n}").format(n=t.number(status.start_count)))
    if status.remains is not None and status.remains < 0:
        parts.append(t._("over-delivered by {n}").format(n=t.number(-status.remains)))
    elif status.remains is not None:
        parts.append(t._("remains {n}").format(n=t.number(status.remains)))
    line = " · ".join(parts)
    bar = order_progress(
        order.quantity if order else None,
        status.remains,
        status.state,
        order.service_type if order else "",
    )
    return line + (f"\n{bar}" if bar else "")


async def _status(update: Update, context: BotContext, ids: list[int]) -> None:
    if await too_fast(update, context):
        return
    try:
        statuses, owned = await context.state.actions.status(context.actor, ids)
    except PanelFailure as exc:
        await _panel_down(update, context, exc, PendingRetry("status", tuple(ids)))
        return
    missing = [  # what its line would call "not found"
        i
        for i, s in statuses.items()
        if isinstance(s, PanelError) and (i not in owned or isinstance(s, NotFound))
    ]
    lines = {i: status_line(context, i, status, owned.get(i)) for i, status in statuses.items()}
    await _send_lines(update, context, _with_missing(context, lines, missing))


# -- my orders ----------------------------------------------------------------------------------


VIEWS = {
    OrderFilter.ACTIVE: N_("Active"),
    OrderFilter.COMPLETED: N_("Completed"),
    OrderFilter.PARTIAL: N_("Partial"),
    OrderFilter.CANCELED: N_("Canceled"),
    OrderFilter.ALL: N_("All"),
}


async def orders_list(update: Update, context: BotContext) -> None:
    """/orders (an admin: /orders <user id>) and its buttons: a filter row with counts, a
    page of orders, each a line and a button. Words typed next find an order."""
    actor = context.actor
    if update.callback_query is not None:
        args = cb.ORDERS.parse(update.callback_query.data)
    else:
        owner = user_id_of(context.args[0]) if context.args and actor.is_admin else None
        args = (owner or 0, OrderFilter.ACTIVE, 0)
    if args is None or args[1] not in VIEWS:
        await expired(update, context)
        return
    owner, view, page = int(args[0]), OrderFilter(args[1]), int(args[2])
    shown = await context.state.orders.page(actor, owner or None, view, page, ORDERS_PAGE)
    if shown is None:
        await expired(update, context)
        return
    if view is OrderFilter.ACTIVE and not shown.in_view and shown.counts[OrderFilter.ALL]:
        # Nothing active: the list opens on all the orders, not on an empty tab.
        view = OrderFilter.ALL
        shown = await context.state.orders.page(actor, owner or None, view, 0, ORDERS_PAGE)
        if shown is None:
            await expired(update, context)
            return
    t = context.t
    rows = shown.orders
    filters = [
        Button(
            ("• " if v is view else "") + f"{t._(label)} ({t.number(shown.counts[v])})",
            callback_data=cb.ORDERS(owner, v, 0),
        )
        for v, label in VIEWS.items()
    ]
    buttons = [*_open_buttons(rows), filters[:3], filters[3:]]
    buttons.append(pager(t, shown.page, shown.in_view, lambda p: cb.ORDERS(owner, view, p)))
    buttons.append([menu_button(t)])
    if owner:
        title = t._("<b>Orders of user {id}</b>").format(id=owner)
    else:
        title = t._("<b>Your orders</b>")
    count = t.n_("{n} order", "{n} orders", shown.in_view).format(n=t.number(shown.in_view))
    head = f"{title} · {t._(VIEWS[view])} · {count}"
    if not rows:
        text = head + "\n\n" + t._("No orders here.")
    else:
        text = (
            head
            + "\n\n"
            + "\n\n".join(f"{n}. {order_line(t, order)}" for n, order in enumerate(rows, start=1))
        )
    if shown.counts[OrderFilter.ALL] and not owner:
        text += "\n\n" + t._("🔎 Type an order id, a link or words of a service to find an order.")
        context.data.awaiting = Awaiting(Expecting.ORDER_SEARCH)
    await show(update, context, text, markup(buttons))


def _open_buttons(rows: list[Order]) -> list[list[Button]]:
    """A button per listed order, numbered as the lines are."""
    opens = [
        Button(
            f"{n}. #{order.panel_order_id}" if order.panel_order_id else f"{n}. ❓",
            callback_data=cb.ORDER(order.id),
        )
        for n, order in enumerate(rows, start=1)
    ]
    per_row = ORDER_BUTTONS_PER_ROW
    return [opens[i : i + per_row] for i in range(0, len(opens), per_row)]


async def find_orders(update: Update, context: BotContext, text: str) -> None:
    """Words typed at the orders list: the user's orders with that id (in the panel or the
    bot), that link, or those words in the service's name or the link."""
    t = context.t
    found = await context.state.orders.find(context.actor, text)
    buttons = [*_open_buttons(found.orders)]
    buttons.append(
        [
            Button(t._("📦 My orders"), callback_data=cb.ORDERS(0, OrderFilter.ALL, 0)),
            menu_button(t),
        ]
    )
    if not found.total:
        reply = t._("None of your orders matches “{query}”.").format(query=escape(text.strip()))
    else:
        reply = t.n_(
            "{n} of your orders matches “{query}”:",
            "{n} of your orders match “{query}”:",
            found.total,
        ).format(n=t.number(found.total), query=escape(text.strip()))
        reply += "\n\n" + "\n\n".join(
            f"{n}. {order_line(t, order)}" for n, order in enumerate(found.orders, start=1)
        )
    context.data.awaiting = Awaiting(Expecting.ORDER_SEARCH)
    await show(update, context, reply, markup(buttons))


async def _card_order(update: Update, context: BotContext, button: cb.Button) -> Order | None:
    """The order a card button names, if it still exists and belongs to this user."""
    args = button.parse(update.callback_query.data if update.callback_query else None)
    order = await context.state.orders.order(context.actor, int(args[0])) if args else None
    if order is None:
        await expired(update, context)
    return order


async def _show_card(
    update: Update, context: BotContext, card: Card, head: str = "", *, new_message: bool = False
) -> None:
    """The order's card (with its latest refill) and the buttons its state allows."""
    t = context.t
    text = order_card(t, card.order, card.refill)
    await show(update, context, head + text, card_keyboard(t, card), new_message=new_message)


async def _card_of(update: Update, context: BotContext, order: Order) -> None:
    await _show_card(update, context, await context.state.orders.card_of(order))


async def order_card_button(update: Update, context: BotContext) -> None:
    order = await _card_order(update, context, cb.ORDER)
    if order is not None:
        await _card_of(update, context, order)


async def open_order(update: Update, context: BotContext) -> None:
    order = await _card_order(update, context, cb.OPEN_ORDER)
    if order is not None:
        card = await context.state.orders.card_of(order)
        await _show_card(update, context, card, new_message=True)


async def refresh(update: Update, context: BotContext) -> None:
    data = update.callback_query.data if update.callback_query else None
    seen_args = cb.REFRESH_SEEN.parse(data)
    order = await _card_order(update, context, cb.REFRESH_SEEN if seen_args else cb.REFRESH)
    if order is None or await too_fast(update, context):
        return
    t = context.t
    if order.panel_order_id is None:
        await _card_of(update, context, order)
        return
    try:
        seen = int(seen_args[1]) if seen_args else None
        refreshed = await context.state.orders.refresh(context.actor, order.id, seen)
    except PanelUnavailable as exc:
        retry = Button(t._("🔄 Retry"), callback_data=cb.REFRESH(order.id))
        await show(update, context, failure_text(t, exc), markup([[retry, menu_button(t)]]))
        return
    except PanelError as exc:
        card = await context.state.orders.card_of(order)
        await show(update, context, failure_text(t, exc), card_keyboard(t, card))
        return
    if refreshed is None:
        await expired(update, context)
        return
    card, changed = refreshed
    head = "" if changed else t._("No change since the last look.") + "\n\n"
    await _show_card(update, context, card, head)


# -- refill -------------------------------------------------------------------------------------


def _refusal_text(context: BotContext, action: str, refusal: Refusal) -> str:
    t = context.t
    match refusal:
        case Refusal.NOT_ALLOWED if action == "refill":
            return t._("this service does not allow refills")
        case Refusal.NOT_ALLOWED:
            return t._("this service does not allow cancelling")
        case Refusal.FINISHED:
            return t._("already finished; it can no longer be canceled")
        case Refusal.REQUESTED if action == "refill":
            return t._("a refill of this order is already under way")
        case Refusal.REQUESTED:
            return t._("cancellation already requested")
        case Refusal.NOT_YET:
            return t._("not delivered yet: a refill can be asked once it is completed")
        case Refusal.TERM_OVER:
            return t._("the refill term of this service is over")
    return t._("it was not delivered (canceled or failed), so there is nothing to refill")


def _outcome_line(context: BotContext, action: str, order_id: int, result: object) -> str:
    """One order's outcome of a refill or cancel, as a line."""
    t = context.t
    if isinstance(result, Refusal | PanelError):
        text = (
            _refusal_text(context, action, result)
            if isinstance(result, Refusal)
            else _problem(context, result)
        )
        return t._("<b>#{id}</b>: {error}").format(id=order_id, error=text)
    if action == "refill":
        return t._("<b>#{id}</b>: refill requested (refill id {refill})").format(
            id=order_id, refill=result
        )
    return t._("<b>#{id}</b>: cancellation requested").format(id=order_id)


async def _refill_status(update: Update, context: BotContext, ids: list[int]) -> None:
    if await too_fast(update, context):
        return
    t = context.t
    try:
        results = await context.state.actions.refill_states(context.actor, ids)
    except PanelFailure as exc:
        await _panel_down(update, context, exc, PendingRetry("refill_status", tuple(ids)))
        return
    lines = {}
    for refill_id, result in results.items():
        text = (
            escape(refill_state_text(t, result.status_raw))
            if isinstance(result, RefillStatus)
            else _problem(context, result)
        )
        lines[refill_id] = t._("Refill <b>{id}</b>: {status}").format(id=refill_id, status=text)
    missing = [i for i, r in results.items() if isinstance(r, NotFound)]
    await _send_lines(update, context, _with_missing(context, lines, missing))


# -- refill and cancel -------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderAction:
    """Refill or cancel: by command or by a card's button (which asks first), with one line of
    outcome per order. Both go through `OrderActions`, which holds the checks."""

    command: str
    ask: cb.Button
    confirm: cb.Button
    question: str
    yes: str

    async def call(self, context: BotContext, ids: list[int]) -> dict[int, object]:
        actions = context.state.actions
        if self.command == "refill":
            return dict(await actions.refill_orders(context.actor, ids))
        return dict(await actions.cancel_orders(context.actor, ids))

    async def refusal(self, context: BotContext, order: Order) -> Refusal | None:
        return await context.state.actions.refusal(self.command, order)


REFILL = OrderAction(
    "refill",
    cb.REFILL_ASK,
    cb.REFILL,
    N_("Ask the panel to refill order {id}?"),
    N_("Yes, refill"),
)
CANCEL = OrderAction(
    "cancel",
    cb.CANCEL_ASK,
    cb.CANCEL,
    N_("Cancel order {id}? The panel refunds what was not delivered."),
    N_("Yes, cancel it"),
)


async def _act(update: Update, context: BotContext, action: OrderAction, ids: list[int]) -> None:
    """Refill or cancel these ids now, one line of outcome each."""
    if await too_fast(update, context):
        return
    try:
        results = await action.call(context, ids)
    except PanelFailure as exc:
        await _panel_down(update, context, exc, PendingRetry(action.command, tuple(ids)))
        return
    missing = [i for i, r in results.items() if isinstance(r, NotFound)]
    lines = {i: _outcome_line(context, action.command, i, r) for i, r in results.items()}
    await _send_lines(update, context, _with_missing(context, lines, missing))


async def _refill(update: Update, context: BotContext, ids: list[int]) -> None:
    await _act(update, context, REFILL, ids)


async def _ask_cancel(update: Update, context: BotContext, ids: list[int]) -> None:
    """/cancel <ids> asks first, as the card's button does: a typo must not cancel an order.
    An order the bot knows cannot be canceled (finished, not cancelable, asked already) is
    refused at once, without a question."""
    refused = await context.state.actions.known_cancel_refusals(context.actor, ids)
    if refused:
        lines = [_outcome_line(context, "cancel", i, refused[i]) for i in ids if i in refused]
        await _send_lines(update, context, lines)
        ids = [i for i in ids if i not in refused]
        if not ids:
            return
    context.data.cancel = ids
    t = context.t
    listed = ", ".join(f"#{i}" for i in ids[:MAX_LISTED])
    if len(ids) > MAX_LISTED:
        listed += " " + t._("and {n} more").format(n=t.number(len(ids) - MAX_LISTED))
    text = t.n_(
        "Cancel order {ids}? The panel refunds what was not delivered.",
        "Cancel these {n} orders: {ids}? The panel refunds what was not delivered.",
        len(ids),
    ).format(ids=listed, n=t.number(len(ids)))
    rows = [
        [
            Button(t._("Yes, cancel"), callback_data=cb.CANCEL_LISTED()),
            Button(t._("No"), callback_data=cb.KEEP_LISTED()),
        ]
    ]
    await show(update, context, text, markup(rows), new_message=True)


async def cancel_listed(update: Update, context: BotContext) -> None:
    """Yes to the question of /cancel: the ids it asked about, once."""
    ids, context.data.cancel = context.data.cancel, None
    if not ids:
        await expired(update, context)
        return
    await answer_query(update, context)
    await _act(update, context, CANCEL, ids)


async def keep_listed(update: Update, context: BotContext) -> None:
    context.data.cancel = None
    t = context.t
    await show(update, context, t._("Nothing was canceled."), markup([[menu_button(t)]]))


def _back_to(context: BotContext, order: Order) -> InlineKeyboardMarkup:
    t = context.t
    return markup(
        [[Button(t._("◀️ Back to the order"), callback_data=cb.ORDER(order.id)), menu_button(t)]]
    )


async def _ask(update: Update, context: BotContext, action: OrderAction) -> None:
    order = await _card_order(update, context, action.ask)
    if order is None or order.panel_order_id is None:
        return
    refusal = await action.refusal(context, order)
    if refusal is not None:  # an old or forged button: the same checks as the command
        line = _outcome_line(context, action.command, order.panel_order_id, refusal)
        await show(update, context, line, _back_to(context, order))
        return
    t = context.t
    rows = [
        [
            Button(t._(action.yes), callback_data=action.confirm(order.id)),
            Button(t._("No"), callback_data=cb.ORDER(order.id)),
        ]
    ]
    await show(update, context, t._(action.question).format(id=order.panel_order_id), markup(rows))


async def _confirmed(update: Update, context: BotContext, action: OrderAction) -> None:
    order = await _card_order(update, context, action.confirm)
    if order is None or order.panel_order_id is None:
        return
    if await too_fast(update, context):
        return
    panel_id = order.panel_order_id
    try:
        results = await action.call(context, [panel_id])
    except PanelFailure as exc:
        await _panel_down(update, context, exc)
        return
    line = _outcome_line(context, action.command, panel_id, results[panel_id])
    await show(update, context, line, _back_to(context, order))


# -- an order of unknown outcome, found on the panel ---------------------------------------------


async def found_command(update: Update, context: BotContext) -> None:
    """/found <number in the bot> <order id on the panel>: the user (or an admin) found an
    order of unknown outcome on the panel; from then on it is followed like any other."""
    user = update.effective_user
    if user is None:
        return
    t = context.t
    parts = command_arguments(update).replace("#", " ").replace(",", " ").split()
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 12 for p in parts):
        usage = t._(
            "Usage: /found &lt;number of the order in the bot&gt; &lt;its order id on the panel&gt;"
        )
        await _send_lines(update, context, [usage])
        return
    number, panel_id = int(parts[0]), int(parts[1])
    unknown = context.state.unknown
    decided = await unknown.may_decide(context.actor, number)
    if decided is NotAttached.NO_SUCH_ORDER:
        await _send_lines(
            update, context, [t._("You have no order {n} in the bot.").format(n=number)]
        )
        return
    result: Attached | NotAttached
    if isinstance(decided, NotAttached):
        result = decided
    else:
        if await too_fast(update, context):
            return
        try:
            result = await unknown.attach(context.actor, number, panel_id)
        except PanelFailure as exc:
            await _panel_down(update, context, exc)
            return
    if isinstance(result, Attached):
        head = t._("✅ Order #{id} is attached; it is followed from now on.").format(id=panel_id)
        card = await context.state.orders.card_of(result.order)
        await _show_card(update, context, card, head + "\n\n")
        return
    text = not_attached_text(t, result, number, panel_id)
    card = await context.state.orders.card(context.actor, number)
    keyboard = card_keyboard(t, card) if card else _way_on(context)
    await show(update, context, text, keyboard, new_message=True)


async def not_placed_ask(update: Update, context: BotContext) -> None:
    """An order of unknown outcome: the user looked on the panel and it is not there."""
    order = await _card_order(update, context, cb.NOT_PLACED_ASK)
    if order is None:
        return
    if order.outcome is not Outcome.UNKNOWN:
        await _card_of(update, context, order)
        return
    t = context.t
    text = t._(
        "Mark order {n} as not placed? Do it only after checking that the panel has no such "
        "order: the bot stops showing it among your orders."
    ).format(n=order.id)
    rows = [
        [
            Button(t._("Yes, it was not placed"), callback_data=cb.NOT_PLACED(order.id)),
            Button(t._("No"), callback_data=cb.ORDER(order.id)),
        ]
    ]
    await show(update, context, text, markup(rows))


async def not_placed(update: Update, context: BotContext) -> None:
    order = await _card_order(update, context, cb.NOT_PLACED)
    if order is None:
        return
    marked = await context.state.unknown.not_placed(context.actor, order.id)
    if isinstance(marked, NotAttached):  # decided meanwhile, or by the admins: as it is now
        current = await context.state.orders.card(context.actor, order.id)
        assert current is not None
        await _show_card(update, context, current)
        return
    card = await context.state.orders.card_of(marked)
    await _show_card(update, context, card, context.t._("Marked as not placed.") + "\n\n")


BY_IDS: dict[str, Callable[[Update, BotContext, list[int]], Awaitable[None]]] = {
    "status": _status,
    "refill": _refill,
    "refill_status": _refill_status,
    "cancel": _ask_cancel,  # a Retry asks again: the answer that failed may be long ago
}
"""The commands that take ids, each run by its ids: from the command, or again by Retry."""


async def id_command(update: Update, context: BotContext, command: str) -> None:
    """/status, /refill, /refill_status, /cancel with ids: parsed (or what is wrong told),
    then run by ids."""
    if update.effective_user is None:
        return
    arguments = command_arguments(update)
    ids = await _ids_or_usage(update, context, arguments, _usage(context, command))
    if ids is not None:
        await BY_IDS[command](update, context, ids)


async def retry(update: Update, context: BotContext) -> None:
    """Run again the command the panel could not answer, with the same ids."""
    pending, context.data.retry = context.data.retry, None
    if pending is None or pending.command not in BY_IDS or not pending.ids:
        await expired(update, context)
        return
    await answer_query(update, context)
    await BY_IDS[pending.command](update, context, list(pending.ids))


def register(application: Application) -> None:  # type: ignore[type-arg]
    for command in BY_IDS:  # /cancel alone: its usage here, the order's abort in an order
        has_args = True if command == "cancel" else None
        application.add_handler(
            CommandHandler(command, partial(id_command, command=command), has_args=has_args)
        )
    application.add_handler(CommandHandler("cancel", cancel_usage, has_args=False))
    application.add_handler(CommandHandler("orders", orders_list))
    application.add_handler(CommandHandler("found", found_command))
    for button, handler in (
        (cb.ORDERS, orders_list),
        (cb.ORDER, order_card_button),
        (cb.OPEN_ORDER, open_order),
        (cb.REFRESH, refresh),
        (cb.REFRESH_SEEN, refresh),
        (cb.RETRY, retry),
        (cb.NOT_PLACED_ASK, not_placed_ask),
        (cb.NOT_PLACED, not_placed),
        (cb.CANCEL_LISTED, cancel_listed),
        (cb.KEEP_LISTED, keep_listed),
    ):
        application.add_handler(CallbackQueryHandler(handler, pattern=button.matches))
    for action in (REFILL, CANCEL):
        application.add_handler(
            CallbackQueryHandler(partial(_ask, action=action), pattern=action.ask.matches)
        )
        application.add_handler(
            CallbackQueryHandler(partial(_confirmed, action=action), pattern=action.confirm.matches)
        )


async def cancel_usage(update: Update, context: BotContext) -> None:
    """/cancel with no ids outside an order in progress."""
    await _send_lines(
        update,
        context,
        [_usage(context, "cancel") + "\n" + context.t._("Nothing is in progress to cancel.")],
    )
