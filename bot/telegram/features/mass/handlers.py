"""Mass order: /mass (or the menu's button) asks for the lines; the lines (typed right after,
after /mass in the same message, or pasted at any time) get a preview; its Confirm starts the
batch once, in the background (`bot.telegram.jobs.mass`)."""

from __future__ import annotations

import contextlib
import re
from decimal import Decimal

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    filters,
)

from bot.core.mass_order import NotStarted, Preview, Repriced, TooManyLines, mass_orderable
from bot.core.order_types import order_type_of
from bot.core.panel import PanelFailure
from bot.core.records import BatchState
from bot.telegram import callback as cb
from bot.telegram.context import Awaiting, BotContext, Expecting
from bot.telegram.features.mass.screens import (
    preview_keyboard,
    preview_messages,
    progress_text,
    prompt_text,
    report_keyboard,
    report_messages,
    too_many_text,
)
from bot.telegram.render.keyboards import markup, menu_button
from bot.telegram.render.text import failure_text
from bot.telegram.replies import (
    answer_query,
    command_arguments,
    expired,
    home_menu,
    show,
    too_fast,
)

_ORDER_LINE = re.compile(r"^\s*\d{1,12}\s*[|]")
_SPACED_LINE = re.compile(
    r"^\s*\d{1,12}[\s,;]+(\S*[./]\S*[\s,;]+\d[\d.,]*|https?://\S+)\s*$", re.IGNORECASE
)
"""`id link qty` (or `id https://link`, a package), as /mass reads a line without bars."""


def looks_like_lines(text: str) -> bool:
    """Text pasted outside the prompt is taken for a mass order when every line that is not
    blank or a comment is an order line: a service id and a bar (`id|link|qty`), or a
    service id, a link and a quantity apart (`id link qty`)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return bool(lines) and all(
        _ORDER_LINE.match(line) or _SPACED_LINE.match(line) for line in lines
    )


class _OrderLines(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return bool(message.text) and looks_like_lines(message.text or "")


ORDER_LINES = _OrderLines(name="mass order lines")
"""Text that is a mass order's lines (the order conversation leaves it to the gate's router,
which makes it a mass order whatever came before)."""


async def mass_command(update: Update, context: BotContext) -> None:
    """/mass alone asks for the lines; /mass followed by lines previews them."""
    lines = command_arguments(update)
    if lines.strip():
        await preview(update, context, lines)
        return
    await ask_lines(update, context)


async def ask_lines(update: Update, context: BotContext) -> None:
    t = context.t
    context.data.awaiting = Awaiting(Expecting.MASS_LINES)
    try:
        index = await context.state.browsing.index(context.actor)
    except PanelFailure:
        services = []  # the example then names no service of this catalogue
    else:
        services = [
            s
            for s in index.services
            if mass_orderable(order_type_of(s)) and not order_type_of(s).package
        ][:2]
    await show(update, context, prompt_text(t, services), markup([[menu_button(t)]]))


async def preview(update: Update, context: BotContext, text: str) -> None:
    """The lines checked, and the preview with its Confirm button (in as many messages as a
    hundred lines take: the last one holds the total and the buttons)."""
    user = update.effective_user
    if user is None:
        return
    t = context.t
    state = context.state
    try:
        result = await state.mass.preview(user.id, text)
    except TooManyLines as exc:
        context.data.awaiting = Awaiting(Expecting.MASS_LINES)
        await show(update, context, too_many_text(t, exc.count), new_message=True)
        return
    except PanelFailure as exc:
        await show(update, context, failure_text(t, exc), home_menu(context), new_message=True)
        return
    await _show_preview(update, context, result)


async def _show_preview(
    update: Update, context: BotContext, result: Preview, notice: str = ""
) -> None:
    """A preview's messages, the panel balance (or the user's wallet) after it, and its
    Confirm button."""
    user = update.effective_user
    assert user is not None
    t = context.t
    state = context.state
    balance: Decimal | None = None
    wallet = None
    if state.shop.pays_from_wallet(user.id):
        wallet = await state.shop.wallet(user.id)
    else:
        with contextlib.suppress(PanelFailure):
            balance = (await state.balance.get()).amount
    messages = preview_messages(
        t, result.plan, state.currency.code, balance, wallet=wallet, notice=notice
    )
    last = markup([[menu_button(t)]])
    if result.key is not None:
        last = preview_keyboard(t, result.key, len(result.plan.valid))
    else:
        context.data.awaiting = Awaiting(Expecting.MASS_LINES)  # corrected lines may follow
    await _send_pages(update, context, messages, last)


async def _send_pages(
    update: Update, context: BotContext, messages: list[str], keyboard: InlineKeyboardMarkup
) -> None:
    """A screen in several messages, its buttons under the last."""
    for number, message in enumerate(messages, start=1):
        await show(
            update,
            context,
            message,
            keyboard if number == len(messages) else None,
            new_message=True,
        )


async def confirm(update: Update, context: BotContext) -> None:
    """Start the batch, once: a second tap (or a tap after a restart) finds it started."""
    args = cb.MASS_CONFIRM.parse(update.callback_query.data if update.callback_query else None)
    query = update.callback_query
    user = update.effective_user
    if args is None or query is None or user is None or query.message is None:
        await expired(update, context)
        return
    t = context.t
    mass = context.state.mass
    key = str(args[0])
    waiting = await mass.get(key, user.id)
    if (
        waiting is not None
        and waiting.state is BatchState.PREVIEW
        and await too_fast(update, context)
    ):
        return  # a tap on a batch started already is not counted
    batch = await mass.confirm(context.actor, key, query.message.chat.id, query.message.message_id)
    if isinstance(batch, Repriced):
        await answer_query(update, context)
        changed = "⚠️ " + t._(
            "Prices changed since the preview. Nothing was ordered and nothing was taken: "
            "here is the mass order at today's prices."
        )
        await _show_preview(update, context, batch.preview, changed)
        return
    if batch is NotStarted.SHOP_CANNOT:
        text = t._(
            "The shop cannot take this mass order right now. Nothing was ordered and "
            "nothing was taken from your wallet; the operator is told. Please try again "
            "later."
        )
        await show(update, context, "⚠️ " + text, home_menu(context))
        return
    if batch is NotStarted.ALREADY:
        await _started_already(update, context, key)
        return
    await show(update, context, progress_text(t, 0, len(batch.lines)))
    context.state.mass_job.start(context.bot, batch)


async def _started_already(update: Update, context: BotContext, key: str) -> None:
    user = update.effective_user
    assert user is not None
    t = context.t
    mass = context.state.mass
    batch = await mass.get(key, user.id)
    if batch is None:
        await expired(update, context)
    elif batch.state is BatchState.RUNNING:
        await answer_query(update, context, t._("This mass order is being placed already."))
    else:
        reports = await mass.report(batch, finished=True)
        await answer_query(update, context, t._("This mass order was placed already."))
        await _send_pages(update, context, report_messages(t, reports), report_keyboard(t))


async def drop(update: Update, context: BotContext) -> None:
    args = cb.MASS_DROP.parse(update.callback_query.data if update.callback_query else None)
    user = update.effective_user
    if args is None or user is None:
        await expired(update, context)
        return
    if not await context.state.mass.drop(str(args[0]), user.id):
        await _started_already(update, context, str(args[0]))
        return
    text = context.t._("Mass order canceled. Nothing was ordered.")
    await show(update, context, text, home_menu(context))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("mass", mass_command))
    application.add_handler(CallbackQueryHandler(ask_lines, pattern=cb.MASS.matches))
    application.add_handler(CallbackQueryHandler(confirm, pattern=cb.MASS_CONFIRM.matches))
    application.add_handler(CallbackQueryHandler(drop, pattern=cb.MASS_DROP.matches))
