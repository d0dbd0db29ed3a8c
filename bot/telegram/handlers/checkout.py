"""Checkout: the questions of the service's order type, the summary, and confirming.

A persistent, named ConversationHandler (browsing is its first state,
`bot.telegram.handlers.browse`). The partly filled order lives in `UserData.draft`; placing it
goes through `bot.core.checkout.submit`, which makes a second order impossible. The draft's
service and order type are looked up once per update (`Checkout`).

The conversation runs in a group of its own, before every other feature. What it handles
stops there. Any other command or button leaves the order: the conversation ends, the draft
is kept (the menu offers to continue it), and the update goes on to the feature it is for.
So text typed after leaving is never taken as an answer, and only the latest question's
buttons act (each carries the draft's screen number).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any, NamedTuple

from bot.core.api import Service, ServiceType
from bot.core.checkout import DRIP_FEED_STEP, OrderDraft, OrderNotStored, Quote, quote, submit
from bot.core.money import InsufficientFunds
from bot.core.order_types import (
    FieldKind,
    InvalidField,
    OrderType,
    check_field,
    check_order,
    order_type_of,
)
from bot.core.panel import PanelFailure
from bot.core.ports import StorageLost
from bot.core.records import Outcome, target_of
from bot.telegram.context import BotContext
from bot.telegram.handlers import browse, mass
from bot.telegram.handlers.browse import BROWSE, catalog_index, show_service
from bot.telegram.handlers.common import (
    answer_query,
    button_args,
    expired,
    order_buttons,
    show,
    too_fast,
)
from bot.telegram.ui import callback as cb
from bot.telegram.ui.checkout import (
    outcome_text,
    question_keyboard,
    question_text,
    rejection_text,
    same_link_warning,
    summary_keyboard,
)
from bot.telegram.ui.format import summary as summary_text
from bot.telegram.ui.keyboards import Button, main_menu, markup, top_up_button
from bot.telegram.ui.text import field_prompt, issue_text
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

log = logging.getLogger(__name__)

ASK, CONFIRM = "ask", "confirm"
END = ConversationHandler.END
GROUP = -1
"""Before the other features (group 0), after the access gate."""


class Checkout(NamedTuple):
    """The order being filled in, its service and the service's order type."""

    draft: OrderDraft
    service: Service
    order_type: OrderType


async def begin(update: Update, context: BotContext) -> str | int:
    args = button_args(cb.START_ORDER, update)
    index = await catalog_index(update, context)
    if index is None:
        return BROWSE
    service = index.by_id.get(int(args[0])) if args else None
    if service is None:
        await expired(update, context)
        return BROWSE
    if await _not_from_a_wallet(update, context, service):
        return BROWSE
    context.data.draft = OrderDraft(service_id=service.id)
    return await _next(
        update, context, Checkout(context.data.draft, service, order_type_of(service))
    )


async def _checkout(update: Update, context: BotContext) -> Checkout | None:
    """The draft, its service and order type, or None after telling the user why not."""
    draft = context.data.draft
    if draft is None:
        await expired(update, context)
        return None
    service = await _offered(update, context, draft.service_id)
    if service is None:
        context.data.draft = None
        return None
    return Checkout(draft, service, order_type_of(service))


async def _offered(update: Update, context: BotContext, service_id: int) -> Service | None:
    """The service, if the panel still offers it (else None, after saying so)."""
    index = await catalog_index(update, context)
    if index is None:
        return None
    service = index.by_id.get(service_id)
    if service is None:
        text = context.t._("This service is no longer offered by the panel.")
        await show(update, context, text, main_menu(context.t), new_message=True)
    elif await _not_from_a_wallet(update, context, service):
        return None
    return service


async def _not_from_a_wallet(update: Update, context: BotContext, service: Service) -> bool:
    """A subscription is charged by the panel per post, after the fact: a wallet cannot pay
    it up front (nor get back what the posts did not use). True after saying so."""
    user = update.effective_user
    if (
        service.type is not ServiceType.SUBSCRIPTIONS
        or user is None
        or not context.state.shop.pays_from_wallet(user.id)
    ):
        return False
    t = context.t
    text = t._(
        "This service is charged by the panel per post, so it cannot be paid from a wallet. "
        "Ask the operator to order it for you."
    )
    await show(update, context, text, main_menu(t), new_message=True)
    return True


async def _next(
    update: Update, context: BotContext, checkout: Checkout, *, new_message: bool = False
) -> str | int:
    """Ask the next question, or show the summary when every answer is in."""
    step = checkout.draft.next_step(checkout.order_type)
    if step is None:
        return await _summary(update, context, checkout, new_message=new_message)
    t = context.t
    screen = checkout.draft.next_screen()
    await show(
        update,
        context,
        question_text(t, step, checkout.service, checkout.order_type),
        question_keyboard(t, step, checkout.order_type, screen),
        new_message=new_message,
    )
    return ASK


async def answer_text(update: Update, context: BotContext) -> str | int:
    checkout = await _checkout(update, context)
    message = update.effective_message
    if checkout is None or message is None:
        return END
    draft, service, order_type = checkout
    t = context.t
    step = draft.next_step(order_type)
    if step is None:
        return await _summary(update, context, checkout, new_message=True)
    if step == DRIP_FEED_STEP:
        await message.reply_text(
            t._("Please answer with the buttons."),
            reply_markup=question_keyboard(t, step, order_type, draft.screen),
        )
        return ASK
    spec = order_type.field(step)
    try:
        value = check_field(spec, message.text or "", service)
        # An answer that completes a check across answers (the maximum after the minimum,
        # the runs after the quantity) is checked now, not at the summary.
        answers = {**draft.values, step: value}
        for issue in check_order(order_type, answers, service, complete=False):
            if issue.field == step:
                raise InvalidField(issue)
    except InvalidField as exc:
        await message.reply_text(
            "❌ " + issue_text(t, exc.issue) + "\n\n" + field_prompt(t, spec, service),
            reply_markup=question_keyboard(t, step, order_type, draft.screen),
        )
        return ASK
    draft.answer(step, value)
    return await _next(update, context, checkout, new_message=True)


async def _on_latest(update: Update, context: BotContext, screen: int) -> Checkout | None:
    """The checkout, when the tapped button is on the latest question or summary (screen
    number `screen`). An older message's button changes nothing: the user is pointed to the
    latest one."""
    checkout = await _checkout(update, context)
    if checkout is None or checkout.draft.is_current(screen):
        return checkout
    await answer_query(
        update,
        context,
        context.t._(
            "This question was answered already; your order continues in the latest message."
        ),
    )
    return None


async def answer_button(update: Update, context: BotContext) -> str | int | None:
    """A choice, the drip-feed yes/no, or Skip."""
    data = update.callback_query.data if update.callback_query else None
    button = next((b for b in (cb.DRIP_FEED, cb.CHOICE, cb.SKIP) if b.matches(data)), cb.SKIP)
    screen, *args = button.parse(data) or (0,)
    checkout = await _on_latest(update, context, screen)
    if checkout is None:
        return None
    draft, _, order_type = checkout
    step = draft.next_step(order_type)
    if step == DRIP_FEED_STEP and button is cb.DRIP_FEED:
        draft.choose_drip_feed(bool(args[0]))
    elif step is not None and step != DRIP_FEED_STEP:
        spec = order_type.field(step)
        if button is cb.CHOICE and spec.kind is FieldKind.CHOICE and args[0] in spec.choices:
            draft.answer(step, str(args[0]))
        elif button is cb.SKIP and spec.optional:
            draft.answer(step, "")
        else:
            await expired(update, context)
            return ASK
    else:
        await expired(update, context)
        return ASK
    return await _next(update, context, checkout)


async def back(update: Update, context: BotContext) -> str | int | None:
    args = button_args(cb.BACK, update)
    checkout = await _on_latest(update, context, args[0] if args else 0)
    if checkout is None:
        return None
    if not checkout.draft.step_back():
        context.data.draft = None
        return await show_service(update, context, checkout.service.id)
    return await _next(update, context, checkout)


async def edit(update: Update, context: BotContext) -> str | int | None:
    """An answer changed from the summary: asked again, then back to the summary."""
    args = button_args(cb.EDIT, update)
    checkout = await _on_latest(update, context, args[0] if args else 0)
    if checkout is None:
        return None
    if args is None or not checkout.draft.edit(str(args[1]), checkout.order_type):
        await expired(update, context)
        return CONFIRM
    return await _next(update, context, checkout)


async def summary_hint(update: Update, context: BotContext) -> None:
    """Text typed at the summary: the order waits for its buttons."""
    t = context.t
    await show(
        update,
        context,
        t._(
            "Your order is waiting for you above: ✅ Confirm it, ✏️ change an answer, or "
            "✖️ Cancel it."
        ),
        new_message=True,
    )


async def leave(update: Update, context: BotContext) -> int:
    """Another command or button: the order is left (kept, to continue from the menu) and
    the update goes on to the feature it is for."""
    return END


async def resume(update: Update, context: BotContext) -> str | int:
    """Continue the order left earlier, at its current question or summary."""
    checkout = await _checkout(update, context)
    if checkout is None:
        return END
    return await _next(update, context, checkout)


async def order_again(update: Update, context: BotContext) -> str | int:
    """A new order with the service and answers of one of the user's orders, at its summary
    (every answer editable there; one the service no longer accepts is asked again)."""
    args = button_args(cb.ORDER_AGAIN, update)
    user = update.effective_user
    order = await context.state.store.orders.get(int(args[0])) if args else None
    may_see = (
        order is not None
        and user is not None
        and (order.user_id == user.id or context.state.settings.is_admin(user.id))
    )
    if order is None or not may_see:
        await expired(update, context)
        return END
    service = await _offered(update, context, order.service_id)
    if service is None:
        return END
    order_type = order_type_of(service)
    context.data.draft = OrderDraft.again(service.id, order_type, order.fields)
    checkout = Checkout(context.data.draft, service, order_type)
    return await _next(update, context, checkout, new_message=True)


async def abort(update: Update, context: BotContext) -> int:
    context.data.draft = None
    t = context.t
    await show(update, context, t._("Order canceled. Nothing was ordered."), main_menu(t))
    return END


class Timeouts:
    """An order left without an answer for `timeout` seconds ends, with a message. PTB's own
    conversation_timeout schedules (and unschedules) a job on every update of an order; here
    each update notes the time, and one job sweeps every `timeout / 4` seconds (at most a
    minute). A timed-out user's next update that is not a new start ends the conversation and
    goes on to the other features, as after leaving."""

    def __init__(self, timeout: float, clock: Callable[[], float]) -> None:
        self.timeout = timeout
        self._clock = clock
        self._touched: dict[int, float] = {}
        self._expired: set[int] = set()

    @property
    def every(self) -> float:
        return min(self.timeout / 4, 60.0)

    def note(self, user_id: int, state: object) -> None:
        if state == END:
            self._touched.pop(user_id, None)
        elif state is not None:
            self._touched[user_id] = self._clock()

    def take_expired(self, user_id: int) -> bool:
        """Whether the user's order timed out since their last update (told once)."""
        if user_id in self._expired:
            self._expired.discard(user_id)
            return True
        return False

    async def sweep(self, context: BotContext) -> None:
        deadline = self._clock() - self.timeout
        for user_id, touched in list(self._touched.items()):
            if touched <= deadline:
                del self._touched[user_id]
                self._expired.add(user_id)
                await _timed_out(context, user_id)


async def _timed_out(context: BotContext, user_id: int) -> None:
    state = context.state
    user_data = context.application.user_data.get(user_id)
    if user_data is not None:
        user_data.draft = None
    user = await state.store.users.get(user_id)
    i18n = state.i18n
    t = i18n.get(
        i18n.resolve(user.language if user else None, user.telegram_language if user else None)
    )
    try:
        await context.bot.send_message(
            user_id,
            t._(
                "The order you were filling in expired after a while without an answer. "
                "Nothing was ordered."
            ),
            reply_markup=main_menu(t),
        )
    except TelegramError as exc:
        log.info("user %d not told that their order expired: %s", user_id, exc)


# -- summary and confirmation ---


async def _summary(
    update: Update,
    context: BotContext,
    checkout: Checkout,
    *,
    new_message: bool = False,
    notice: str = "",
    offer: Quote | None = None,
) -> str | int:
    """The summary with its Confirm button, or the first problem of the answers and the
    question to answer again. `offer`: the quote when the caller has computed it already."""
    draft = checkout.draft
    t = context.t
    offer = offer or quote(draft, checkout.service)
    if offer.issues:
        issue = offer.issues[0]
        while issue.field in draft.values and draft.step_back():
            pass
        await show(update, context, "❌ " + issue_text(t, issue), new_message=new_message)
        return await _next(update, context, checkout, new_message=True)
    user = update.effective_user
    shop = context.state.shop
    currency = context.state.currency.code
    payment = await shop.payment(user.id, checkout.service.id, offer.fields) if user else None
    top_up: Button | None = None
    missing = Decimal(0)
    if user is not None and payment is not None:
        draft.shown = payment.amount
        wallet = await shop.wallet(user.id)
        text = summary_text(t, replace(offer, price=payment.amount), currency, None, wallet=wallet)
        missing = wallet.short_of(payment.amount)
        if missing and shop.takes_deposits:
            top_up = top_up_button(t, shop.top_up_for(missing), currency)
        elif missing:
            text += "\n" + t._("Ask the operator to top up your wallet.")
    else:
        draft.shown = offer.price
        balance: Decimal | None = None
        with contextlib.suppress(PanelFailure):
            balance = (await context.state.balance.get()).amount
        text = summary_text(t, offer, currency, balance)
    target = target_of(offer.fields)
    if target is not None and user is not None:
        active = await context.state.store.orders.active_for(user.id, target)
        if active:
            text += "\n\n" + same_link_warning(t, active)
    if notice:
        text = notice + "\n\n" + text
    draft.next_screen()
    await _save_draft(update, context)
    keyboard = summary_keyboard(t, draft, top_up, payable=not missing)
    await show(update, context, text, keyboard, new_message=new_message)
    return CONFIRM


async def _save_draft(update: Update, context: BotContext) -> None:
    """Store the finished draft now, not at the next periodic save: a Confirm button the
    user sees works even after a crash."""
    persistence = context.application.persistence
    user = update.effective_user
    if persistence is not None and user is not None:
        await persistence.update_user_data(user.id, context.data)


async def confirm(update: Update, context: BotContext) -> str | int | None:
    args = button_args(cb.CONFIRM, update)
    user = update.effective_user
    if args is None or user is None:
        await expired(update, context)
        return END
    key, screen = str(args[0]), int(args[1])
    store = context.state.store
    draft = context.data.draft
    if draft is None or draft.key != key:
        # An old Confirm button: never a new order; show what became of that one, if anything.
        row = await store.orders.by_intent(key, user.id)
        if row is None:
            await expired(update, context)
            return END
        await show(update, context, outcome_text(context.t, row), await order_buttons(context, row))
        return END
    checkout = await _on_latest(update, context, screen)
    if checkout is None:
        return None
    offer = quote(draft, checkout.service)
    if offer.issues:  # the catalog changed since the summary: the answer is asked again
        return await _summary(update, context, checkout, offer=offer)
    shop = context.state.shop
    payment = await shop.payment(user.id, checkout.service.id, offer.fields)
    if (payment.amount if payment is not None else offer.price) != draft.shown:
        t = context.t
        changed = "⚠️ " + t._(
            "The price changed since the summary. Nothing was ordered and nothing was taken: "
            "here is the order at its new price."
        )
        return await _summary(update, context, checkout, offer=offer, notice=changed)
    if await too_fast(update, context):
        return CONFIRM
    if payment is not None and not await shop.can_take(user.id, payment.cost):
        t = context.t
        text = t._(
            "The shop cannot take this order right now. Nothing was ordered and nothing was "
            "taken from your wallet; the operator is told. Please try again later."
        )
        await show(update, context, "⚠️ " + text, main_menu(t))
        return CONFIRM
    await _placing(update, context)
    try:
        row, _sent = await submit(
            store,
            context.state.panel,
            user_id=user.id,
            key=draft.key,
            offer=offer,
            currency=context.state.currency.code,
            unsaved=context.state.unsaved,
            payment=payment,
        )
    except InsufficientFunds as short:
        await _tell_short(update, context, short.missing)
        return CONFIRM
    except OrderNotStored as lost:
        await _tell_not_stored(update, context, lost)
        context.data.draft = None
        return END
    except StorageLost:
        t = context.t
        text = t._(
            "The bot cannot take orders right now: its storage is unavailable. Nothing was "
            "ordered, and the operator is told."
        )
        await show(update, context, "⚠️ " + text, main_menu(t))
        return CONFIRM
    if row.outcome is Outcome.REJECTED:
        draft.renew_key()
        return await _summary(
            update, context, checkout, notice=rejection_text(context.t, row.error or "")
        )
    context.data.draft = None
    await show(update, context, outcome_text(context.t, row), await order_buttons(context, row))
    return END


async def _tell_short(update: Update, context: BotContext, missing: Decimal) -> None:
    """The wallet cannot pay: nothing was sent; the draft stays for after a top-up (of what
    is missing)."""
    t = context.t
    shop = context.state.shop
    currency = context.state.currency.code
    text = t._(
        "❌ Not enough money in your wallet: {missing} missing. Nothing was ordered. Top up, "
        "then confirm again."
    ).format(missing=t.money(missing, currency))
    rows = [[Button(t._("▶️ Continue the order"), callback_data=cb.RESUME())]]
    if shop.takes_deposits:
        rows.insert(0, [top_up_button(t, shop.top_up_for(missing), currency)])
    await show(update, context, text, markup(rows))


async def _placing(update: Update, context: BotContext) -> None:
    """At once, before the panel is asked: the summary's buttons become "Placing the
    order…" (a panel may take half a minute). Best effort: the order goes ahead anyway."""
    t = context.t
    query = update.callback_query
    if query is None:
        return
    placing = markup([[Button(t._("⏳ Placing the order…"), callback_data=cb.PLACING())]])
    with contextlib.suppress(TelegramError):
        await asyncio.gather(
            answer_query(update, context, t._("Placing the order…")),
            query.edit_message_reply_markup(placing),
        )


async def still_placing(update: Update, context: BotContext) -> None:
    """A tap on "Placing the order…": the answer replaces that message when it comes."""
    await answer_query(
        update, context, context.t._("The order is being placed: its result replaces this message.")
    )


async def _tell_not_stored(update: Update, context: BotContext, lost: OrderNotStored) -> None:
    """The order exists on the panel but not in the bot: the user gets its id, every admin a
    message of their own (not through the database, which is failing)."""
    t = context.t
    text = t._(
        "✅ The panel accepted your order <b>#{id}</b>, but the bot could not save it, so it "
        "is not followed here. Keep this number; the operator is told."
    ).format(id=lost.order_id)
    await show(update, context, text, main_menu(t))
    i18n = context.state.i18n
    admin_t = i18n.get(i18n.default_language)
    alert = admin_t._(
        "⚠️ Order #{id} (user {user}, service {service}) was placed on the panel but could "
        "not be stored: the database keeps failing. New orders are refused until the bot is "
        "restarted. The id is also in the log."
    ).format(id=lost.order_id, user=lost.row.user_id, service=lost.row.service_id)
    for admin in sorted(context.state.settings.admin_ids):
        try:
            await context.bot.send_message(admin, alert)
        except TelegramError as exc:
            log.error("admin %d not told of unstored order %d: %s", admin, lost.order_id, exc)


def _final(
    handler: BaseHandler[Update, BotContext, Any], timeouts: Timeouts, *, entry: bool = False
) -> BaseHandler[Update, BotContext, Any]:
    """The handler, stopping the update here with the state its callback returns: what the
    order handles reaches no other feature. After a timeout, only an entry point (`entry`)
    acts: anything else ends the order and goes on to the other features."""
    callback = handler.callback

    async def handled(update: Update, context: BotContext) -> object:
        user = update.effective_user
        user_id = user.id if user is not None else 0
        if timeouts.take_expired(user_id) and not entry:
            return END
        state = await callback(update, context)
        timeouts.note(user_id, state)
        raise ApplicationHandlerStop(state)

    handler.callback = handled
    return handler


def _leaving(
    handler: BaseHandler[Update, BotContext, Any], timeouts: Timeouts
) -> BaseHandler[Update, BotContext, Any]:
    """Another feature's command or button: the order ends, the update goes on."""

    async def left(update: Update, context: BotContext) -> int:
        user = update.effective_user
        if user is not None:
            timeouts.note(user.id, END)
            timeouts.take_expired(user.id)
        return END

    handler.callback = left
    return handler


def _question_buttons() -> list[CallbackQueryHandler]:  # type: ignore[type-arg]
    """The buttons of the questions and the summary (each checks that it is on the latest
    screen), Continue, Order again and the Placing button: they act in any state, and after
    the order was left."""
    return [
        CallbackQueryHandler(answer_button, pattern=cb.DRIP_FEED.matches),
        CallbackQueryHandler(answer_button, pattern=cb.CHOICE.matches),
        CallbackQueryHandler(answer_button, pattern=cb.SKIP.matches),
        CallbackQueryHandler(back, pattern=cb.BACK.matches),
        CallbackQueryHandler(edit, pattern=cb.EDIT.matches),
        CallbackQueryHandler(confirm, pattern=cb.CONFIRM.matches),
        CallbackQueryHandler(resume, pattern=cb.RESUME.matches),
        CallbackQueryHandler(still_placing, pattern=cb.PLACING.matches),
        CallbackQueryHandler(order_again, pattern=cb.ORDER_AGAIN.matches),
    ]


def conversation(timeouts: Timeouts) -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    entry_points = [
        CommandHandler("order", browse.start_order),
        CallbackQueryHandler(browse.start_order, pattern=cb.NEW_ORDER.matches),
        *browse.handlers(),
        CallbackQueryHandler(begin, pattern=cb.START_ORDER.matches),
        *_question_buttons(),
    ]
    fallbacks = [
        CallbackQueryHandler(abort, pattern=cb.ABORT.matches),
        CommandHandler("cancel", abort, has_args=False),
        *_question_buttons(),
        *browse.handlers(),
        CallbackQueryHandler(begin, pattern=cb.START_ORDER.matches),
    ]
    leaving: list[BaseHandler[Update, Any, Any]] = [
        _leaving(MessageHandler(filters.COMMAND, leave), timeouts),
        _leaving(CallbackQueryHandler(leave), timeouts),
    ]
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button press is tracked per user, not per
        # message: that is intended (one order in progress per user).
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[_final(h, timeouts, entry=True) for h in entry_points],
            states={
                BROWSE: [
                    _final(MessageHandler(text & mass.ORDER_LINES, mass.pasted_lines), timeouts),
                    _final(MessageHandler(text, browse.search), timeouts),
                ],
                ASK: [_final(MessageHandler(text, answer_text), timeouts)],
                CONFIRM: [_final(MessageHandler(text, summary_hint), timeouts)],
            },
            fallbacks=[*(_final(h, timeouts) for h in fallbacks), *leaving],
            name="order",
            persistent=True,
            allow_reentry=True,
        )


def register(application: Application) -> None:  # type: ignore[type-arg]
    state = application.bot_data
    timeouts = Timeouts(state.settings.conversation_timeout, state.clock)
    application.add_handler(conversation(timeouts), group=GROUP)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        timeouts.sweep, interval=timeouts.every, name="order timeouts"
    )
