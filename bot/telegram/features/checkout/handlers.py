"""Checkout: the questions of the service's order type, the summary, and confirming.

A persistent, named ConversationHandler, its first state browsing the services
(`bot.telegram.features.catalog`). The partly filled order lives in `UserData.draft`; its
summary and Confirm are the core's (`bot.core.checkout.Checkout`: the price shown is the
price taken, and a second order is impossible).

The conversation runs in a group of its own, before every other feature. What it handles
stops there (its callbacks end with `ApplicationHandlerStop(state)`, as PTB documents). Any
other command or button leaves the order: the conversation ends, the draft is kept (the menu
offers to continue it), and the update goes on to the feature it is for. So text typed after
leaving is never taken as an answer, and only the latest question's buttons act (each
carries the draft's turn).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.core.api import Service
from bot.core.checkout import (
    NotOffered,
    OrderNotStored,
    Placed,
    PriceChanged,
    Refused,
    Short,
    Summary,
)
from bot.core.drafts import OrderDraft
from bot.core.order_types import (
    FieldKind,
    InvalidField,
    Issue,
    OrderType,
    check_field,
    check_order,
    order_type_of,
)
from bot.core.panel import PanelFailure
from bot.core.promo import CODE as PROMO_CODE
from bot.core.promo import PromoRefusal
from bot.core.records import Outcome, PromoKind
from bot.telegram import callback as cb
from bot.telegram.context import BotContext
from bot.telegram.features.catalog import handlers as catalog
from bot.telegram.features.catalog.handlers import BROWSE
from bot.telegram.features.catalog.screens import service_card
from bot.telegram.features.checkout.screens import (
    outcome_text,
    question_keyboard,
    question_text,
    rejection_text,
    same_link_warning,
    summary_keyboard,
)
from bot.telegram.features.checkout.screens import summary as summary_text
from bot.telegram.features.mass.handlers import ORDER_LINES
from bot.telegram.features.promo.screens import applied_line, refusal_text
from bot.telegram.i18n import Translator
from bot.telegram.render.keyboards import Button, main_menu, markup, menu_button, top_up_button
from bot.telegram.render.orders import card_keyboard
from bot.telegram.render.text import failure_text, field_prompt, issue_text
from bot.telegram.replies import answer_query, button_args, expired, show, too_fast

log = logging.getLogger(__name__)

ASK, CONFIRM = "ask", "confirm"
END = ConversationHandler.END
GROUP = -1
"""Before the other features (group 0), after the access gate."""


class Filling(NamedTuple):
    """The order being filled in, its service and the service's order type."""

    draft: OrderDraft
    service: Service
    order_type: OrderType


# -- the service, as this user may order it ---------------------------------------------------


async def _offered(update: Update, context: BotContext, service_id: int) -> Service | None:
    """The service, if this user may order it now (else None, after saying why not)."""
    t = context.t
    try:
        service = await context.state.checkout.offered(context.actor, service_id)
    except PanelFailure as exc:
        retry = Button(t._("🔄 Retry"), callback_data=cb.CATEGORIES(0))
        await show(update, context, failure_text(t, exc), markup([[retry]]), new_message=True)
        return None
    if isinstance(service, NotOffered):
        await _tell_not_offered(update, context, service)
        return None
    return service


async def _tell_not_offered(update: Update, context: BotContext, reason: NotOffered) -> None:
    t = context.t
    if reason is NotOffered.GONE:
        text = t._("This service is no longer offered by the panel.")
    else:
        text = t._(
            "This service is charged by the panel per post, so it cannot be paid from a "
            "wallet. Ask the operator to order it for you."
        )
    await show(update, context, text, main_menu(t), new_message=True)


async def _filling(update: Update, context: BotContext) -> Filling | None:
    """The draft, its service and order type, or None after telling the user why not."""
    draft = context.data.draft
    if draft is None:
        await expired(update, context)
        return None
    service = await _offered(update, context, draft.service_id)
    if service is None:
        context.data.draft = None
        return None
    return Filling(draft, service, order_type_of(service))


async def begin(update: Update, context: BotContext) -> str | int:
    """Order this service (an older card's button, a notice's)."""
    args = button_args(cb.START_ORDER, update)
    if args is None:
        await expired(update, context)
        return BROWSE
    return await open_order(update, context, int(args[0]), fresh=True)


async def chosen(update: Update, context: BotContext) -> str | int:
    """A service chosen from a list opens its order at once: its card above the first
    question. Back returns to the search results it came from, else to its category."""
    found = button_args(cb.FOUND_SERVICE, update)
    args = found or button_args(cb.SERVICE, update)
    if args is None:
        await expired(update, context)
        return BROWSE
    index = await catalog.catalog_index(update, context)
    if index is None:
        return BROWSE
    if int(args[0]) not in index.by_id:
        await expired(update, context)
        return BROWSE
    back = cb.SEARCH_PAGE(int(found[1])) if found and context.data.search else ""
    return await open_order(update, context, int(args[0]), back=back)


async def start_order(update: Update, context: BotContext) -> str | int:
    """/order, /order <service id>, and the New order button. A draft waiting is kept until
    another service is chosen."""
    if context.args:
        token = context.args[0].lstrip("#")
        if not token.isdigit():
            await show(update, context, context.t._("Usage: /order or /order &lt;service id&gt;"))
            return await catalog.categories(update, context)
        index = await catalog.catalog_index(update, context)
        if index is None:
            return BROWSE
        if int(token) not in index.by_id:
            text = context.t._(
                "There is no service with id {id}. Choose one from the list."
            ).format(id=int(token))
            await show(update, context, text)
            return await catalog.categories(update, context)
        return await open_order(update, context, int(token), fresh=True)
    return await catalog.categories(update, context)


async def open_order(
    update: Update, context: BotContext, service_id: int, *, back: str = "", fresh: bool = False
) -> str | int:
    """The order of this service: the draft waiting for it if there is one (unless `fresh`),
    else a new one (which replaces a draft of another service)."""
    service = await _offered(update, context, service_id)
    if service is None:
        return BROWSE
    draft = context.data.draft
    if draft is None or draft.service_id != service.id or fresh or not draft.waiting_for:
        # A draft at its summary is not continued here: choosing the service again starts
        # a new order of it (the menu's ▶️ Continue goes back to that summary).
        draft = context.data.draft = OrderDraft(service_id=service.id)
    draft.service_name = service.name
    draft.back = back or draft.back
    return await _next(update, context, Filling(draft, service, order_type_of(service)))


async def star(update: Update, context: BotContext) -> str | int:
    """☆ on the first question: star or unstar the service, and ask again."""
    args = button_args(cb.STAR, update)
    if args is None:
        await expired(update, context)
        return BROWSE
    starred = await context.state.browsing.toggle_favourite(context.actor, int(args[0]))
    t = context.t
    await answer_query(
        update, context, t._("Added to favourites.") if starred else t._("Removed from favourites.")
    )
    return await open_order(update, context, int(args[0]))


# -- the questions ------------------------------------------------------------------------------


async def _next(
    update: Update, context: BotContext, filling: Filling, *, new_message: bool = False
) -> str | int:
    """Ask the next question, or show the summary when every answer is in."""
    draft, service, order_type = filling
    step = draft.next_step(order_type)
    draft.waiting_for = step or ""
    draft.waiting_number = step is not None and order_type.field(step).kind is FieldKind.INTEGER
    if step is None:
        return await _summary(update, context, filling, new_message=new_message)
    t = context.t
    turn = draft.next_turn()
    card, starred = "", None
    if not draft.started:
        currency = context.state.currency.code
        card = service_card(t, service, currency, service.category)
        starred = service.id in await context.state.browsing.favourites(context.actor)
    await show(
        update,
        context,
        question_text(t, step, service, order_type, card=card),
        question_keyboard(t, step, order_type, turn, service=service, starred=starred),
        new_message=new_message,
    )
    return ASK


async def answer_text(update: Update, context: BotContext) -> str | int:
    filling = await _filling(update, context)
    message = update.effective_message
    if filling is None or message is None:
        return END
    draft, _service, order_type = filling
    step = draft.next_step(order_type)
    if step is None:
        return await _summary(update, context, filling, new_message=True)
    return await _take(update, context, filling, step, message.text or "")


async def _take(
    update: Update, context: BotContext, filling: Filling, step: str, raw: str
) -> str | int:
    """An answer to the question of `step`: checked, then the next question (or asked
    again, saying what is wrong)."""
    draft, service, order_type = filling
    t = context.t
    spec = order_type.field(step)
    try:
        value = check_field(spec, raw, service)
        # An answer that completes a check across answers (the maximum after the minimum,
        # the runs after the quantity) is checked now, not at the summary.
        answers = {**draft.values, step: value}
        for issue in check_order(order_type, answers, service, complete=False):
            if issue.field == step:
                raise InvalidField(issue)
    except InvalidField as exc:
        keyboard = question_keyboard(t, step, order_type, draft.turn, service=service)
        text = "❌ " + issue_text(t, exc.issue) + "\n\n" + field_prompt(t, spec, service)
        await show(update, context, text, keyboard, new_message=True)
        return ASK
    draft.answer(step, value)
    return await _next(update, context, filling, new_message=True)


async def _on_latest(update: Update, context: BotContext, turn: int) -> Filling | None:
    """The order being filled in, when the tapped button is on the latest question or
    summary (its turn `turn`). An older message's button changes nothing: the user is
    pointed to the latest one."""
    filling = await _filling(update, context)
    if filling is None or filling.draft.is_current(turn):
        return filling
    await answer_query(
        update,
        context,
        context.t._(
            "This question was answered already; your order continues in the latest message."
        ),
    )
    return None


async def answer_button(update: Update, context: BotContext) -> str | int | None:
    """A choice, a number (a quantity preset, a number typed at the menu), Skip, or the
    summary's drip-feed option."""
    data = update.callback_query.data if update.callback_query else None
    kinds = (cb.DRIP_FEED, cb.CHOICE, cb.SKIP, cb.NUMBER)
    button = next((b for b in kinds if b.matches(data)), cb.SKIP)
    turn, *args = button.parse(data) or (0,)
    filling = await _on_latest(update, context, turn)
    if filling is None:
        return None
    draft, _, order_type = filling
    step = draft.next_step(order_type)
    if button is cb.DRIP_FEED and order_type.has_drip_feed:
        draft.choose_drip_feed(bool(args[0]), order_type)
    elif step is not None:
        spec = order_type.field(step)
        if button is cb.NUMBER and spec.kind is FieldKind.INTEGER:
            return await _take(update, context, filling, step, str(args[0]))
        if button is cb.CHOICE and spec.kind is FieldKind.CHOICE and args[0] in spec.choices:
            draft.answer(step, str(args[0]))
        elif button is cb.SKIP and spec.optional:
            draft.answer(step, "")
        else:
            await expired(update, context)
            return ASK
    else:
        await expired(update, context)
        return CONFIRM
    return await _next(update, context, filling)


async def back(update: Update, context: BotContext) -> str | int | None:
    """One answer back; from the first question, back to the list the service was chosen
    from (the draft is kept: the menu offers to continue it)."""
    args = button_args(cb.BACK, update)
    filling = await _on_latest(update, context, args[0] if args else 0)
    if filling is None:
        return None
    if not filling.draft.step_back():
        return await catalog.back_to_list(update, context, filling.service.id, filling.draft.back)
    return await _next(update, context, filling)


async def edit(update: Update, context: BotContext) -> str | int | None:
    """An answer changed from the summary: asked again, then back to the summary."""
    args = button_args(cb.EDIT, update)
    filling = await _on_latest(update, context, args[0] if args else 0)
    if filling is None:
        return None
    if args is None or not filling.draft.edit(str(args[1]), filling.order_type):
        await expired(update, context)
        return CONFIRM
    return await _next(update, context, filling)


async def summary_hint(update: Update, context: BotContext) -> str | int:
    """Text typed at the summary: a promo code (shop mode), or else the order waits for its
    buttons."""
    t = context.t
    message = update.effective_message
    typed = (message.text or "").strip() if message is not None else ""
    if context.actor.pays_from_wallet and PROMO_CODE.match(typed.upper()):
        return await _promo_typed(update, context, typed)
    await show(
        update,
        context,
        t._(
            "Your order is waiting for you above: ✅ Confirm it, ✏️ change an answer, or "
            "✖️ Cancel it."
        ),
        _back_to_summary(t),
        new_message=True,
    )
    return CONFIRM


def _back_to_summary(t: Translator) -> InlineKeyboardMarkup:
    """Under a word typed at the summary: the summary again (below), or the menu."""
    return markup(
        [[Button(t._("▶️ Continue the order"), callback_data=cb.RESUME()), menu_button(t)]]
    )


async def _promo_typed(update: Update, context: BotContext, code: str) -> str | int:
    """A promo code typed at the summary: the summary again with its discount, or why not."""
    filling = await _filling(update, context)
    if filling is None:
        return END
    applied = await context.state.checkout.apply_promo(
        context.actor, filling.draft, filling.service, code
    )
    if isinstance(applied, Issue):
        return await _ask_again(update, context, filling, applied, new_message=True)
    if isinstance(applied, PromoRefusal):
        text = refusal_text(context.t, applied, code)
        await show(update, context, text, _back_to_summary(context.t), new_message=True)
        return CONFIRM
    return await _show_summary(update, context, filling, applied, new_message=True)


async def resume(update: Update, context: BotContext) -> str | int:
    """Continue the order left earlier, at its current question or summary."""
    filling = await _filling(update, context)
    if filling is None:
        return END
    return await _next(update, context, filling)


async def order_again(update: Update, context: BotContext) -> str | int:
    """A new order with the service and answers of one of the user's orders, at its summary
    (every answer editable there; one the service no longer accepts is asked again)."""
    args = button_args(cb.ORDER_AGAIN, update)
    try:
        again = await context.state.checkout.again(context.actor, int(args[0])) if args else None
    except PanelFailure as exc:
        t = context.t
        again_data = cb.ORDER_AGAIN(int(args[0])) if args else cb.NEW_ORDER()
        retry = Button(t._("🔄 Retry"), callback_data=again_data)
        await show(
            update,
            context,
            failure_text(t, exc),
            markup([[retry, menu_button(t)]]),
            new_message=True,
        )
        return END
    if again is None:
        await expired(update, context)
        return END
    if isinstance(again, NotOffered):
        await _tell_not_offered(update, context, again)
        return END
    draft, service = again
    context.data.draft = draft
    filling = Filling(draft, service, order_type_of(service))
    return await _next(update, context, filling, new_message=True)


async def abort(update: Update, context: BotContext) -> int:
    context.data.draft = None
    t = context.t
    await show(update, context, t._("Order canceled. Nothing was ordered."), main_menu(t))
    return END


# -- the summary and Confirm ----------------------------------------------------------------------


async def _summary(
    update: Update,
    context: BotContext,
    filling: Filling,
    *,
    new_message: bool = False,
    notice: str = "",
) -> str | int:
    """The summary with its Confirm button (or the Top up of what the wallet misses), or the
    first problem of the answers and the question to answer again."""
    shown = await context.state.checkout.summary(context.actor, filling.draft, filling.service)
    if isinstance(shown, Issue):
        return await _ask_again(update, context, filling, shown, new_message=new_message)
    return await _show_summary(update, context, filling, shown, new_message, notice)


async def _ask_again(
    update: Update, context: BotContext, filling: Filling, issue: Issue, *, new_message: bool
) -> str | int:
    """An answer the service no longer accepts: said, then asked again."""
    draft = filling.draft
    while issue.field in draft.values and draft.step_back():
        pass
    await show(update, context, "❌ " + issue_text(context.t, issue), new_message=new_message)
    return await _next(update, context, filling, new_message=True)


async def _show_summary(
    update: Update,
    context: BotContext,
    filling: Filling,
    shown: Summary,
    new_message: bool = False,
    notice: str = "",
) -> str | int:
    t = context.t
    draft = filling.draft
    currency = context.state.currency.code
    text = summary_text(t, shown.quote, currency, shown.balance, wallet=shown.wallet)
    if shown.promo is not None:
        text += "\n" + applied_line(t, shown.promo, t.money(shown.discount, currency))
    elif shown.wallet is not None and await context.state.promos.offers(PromoKind.ORDER):
        text += "\n\n" + t._("🎟 Have a promo code? Type it here.")
    if shown.promo_dropped:
        dropped = "⚠️ " + t._(
            "The promo code you gave no longer applies (used up or expired): here is the "
            "order without it."
        )
        notice = notice + "\n" + dropped if notice else dropped
    if shown.missing and shown.top_up is None:
        text += "\n" + t._("Ask the operator to top up your wallet.")
    if shown.same_link:
        text += "\n\n" + same_link_warning(t, shown.same_link)
    if notice:
        text = notice + "\n\n" + text
    top_up = top_up_button(t, shown.top_up, currency) if shown.top_up else None
    draft.next_turn()
    await _save_draft(update, context)
    keyboard = summary_keyboard(
        t,
        draft,
        top_up,
        payable=not shown.missing,
        drip_feed=filling.order_type.has_drip_feed,
    )
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
    if args is None:
        await expired(update, context)
        return END
    key, turn = str(args[0]), int(args[1])
    checkout = context.state.checkout
    draft = context.data.draft
    if draft is None or draft.key != key:
        # An old Confirm button: never a new order; show what became of that one, if anything.
        row = await checkout.submitted(context.actor, key)
        if row is None:
            await expired(update, context)
            return END
        card = await context.state.orders.card_of(row)
        await show(update, context, outcome_text(context.t, row), card_keyboard(context.t, card))
        return END
    filling = await _on_latest(update, context, turn)
    if filling is None:
        return None
    if await too_fast(update, context):
        return CONFIRM
    await _placing(update, context)
    result = await checkout.confirm(context.actor, draft, filling.service)
    return await _confirmed(update, context, filling, result)


async def _confirmed(
    update: Update, context: BotContext, filling: Filling, result: object
) -> str | int:
    """What Confirm did, said."""
    t = context.t
    match result:
        case Issue():  # the catalog changed since the summary: the answer is asked again
            return await _ask_again(update, context, filling, result, new_message=False)
        case PriceChanged():
            changed = "⚠️ " + t._(
                "The price changed since the summary. Nothing was ordered and nothing was "
                "taken: here is the order at its new price."
            )
            return await _show_summary(update, context, filling, result.summary, notice=changed)
        case Short():
            await _tell_short(update, context, result)
            return CONFIRM
        case Refused.SHOP_CANNOT:
            text = t._(
                "The shop cannot take this order right now. Nothing was ordered and nothing "
                "was taken from your wallet; the operator is told. Please try again later."
            )
            await show(update, context, "⚠️ " + text, main_menu(t))
            return CONFIRM
        case Refused.STORAGE_DOWN:
            text = t._(
                "The bot cannot take orders right now: its storage is unavailable. Nothing was "
                "ordered, and the operator is told."
            )
            await show(update, context, "⚠️ " + text, main_menu(t))
            return CONFIRM
        case OrderNotStored():
            await _tell_not_stored(update, context, result)
            context.data.draft = None
            return END
    assert isinstance(result, Placed)
    row = result.order
    context.state.tracker.deliver_soon(context.bot)  # the admins' card of an unknown outcome
    if row.outcome is Outcome.REJECTED:
        filling.draft.renew_key()
        return await _summary(
            update, context, filling, notice=rejection_text(context.t, row.error or "")
        )
    context.data.draft = None
    card = await context.state.orders.card_of(row)
    await show(update, context, outcome_text(t, row), card_keyboard(t, card))
    return END


async def _tell_short(update: Update, context: BotContext, short: Short) -> None:
    """The wallet cannot pay: nothing was sent; the draft stays for after a top-up (of what
    is missing)."""
    t = context.t
    currency = context.state.currency.code
    text = t._(
        "❌ Not enough money in your wallet: {missing} missing. Nothing was ordered. Top up, "
        "then confirm again."
    ).format(missing=t.money(short.missing, currency))
    rows = [[Button(t._("▶️ Continue the order"), callback_data=cb.RESUME())]]
    if short.top_up is not None:
        rows.insert(0, [top_up_button(t, short.top_up, currency)])
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
    message of their own (not through the outbox: the database is failing)."""
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
    for admin in sorted(context.state.access.admin_ids):
        try:
            await context.bot.send_message(
                admin, alert, reply_markup=markup([[menu_button(admin_t)]])
            )
        except TelegramError as exc:
            log.error("admin %d not told of unstored order %d: %s", admin, lost.order_id, exc)


# -- the order's timeout --------------------------------------------------------------------------


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
    user = await state.accounts.get(user_id)
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


# -- the conversation -----------------------------------------------------------------------------

Callback = Callable[[Update, BotContext], Awaitable[Any]]


def _stops(timeouts: Timeouts, *, entry: bool = False) -> Callable[[Callback], Callback]:
    """A step of the order: the update stops here (`ApplicationHandlerStop` with the step's
    state, which PTB's ConversationHandler takes as the new state), and its time is noted
    for the timeout. After a timeout only an entry point (`entry`) acts: anything else ends
    the order and goes on to the other features."""

    def decorate(step: Callback) -> Callback:
        @functools.wraps(step)
        async def stopped(update: Update, context: BotContext) -> object:
            user = update.effective_user
            user_id = user.id if user is not None else 0
            if timeouts.take_expired(user_id) and not entry:
                return END
            state = await step(update, context)
            timeouts.note(user_id, state)
            raise ApplicationHandlerStop(state)

        return stopped

    return decorate


def _leaving(timeouts: Timeouts) -> Callback:
    """Another command or button: the order is left (kept, to continue from the menu) and
    the update goes on to the feature it is for."""

    async def leave(update: Update, context: BotContext) -> int:
        user = update.effective_user
        if user is not None:
            timeouts.note(user.id, END)
            timeouts.take_expired(user.id)
        return END

    return leave


def conversation(timeouts: Timeouts) -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & ~ORDER_LINES
    step = _stops(timeouts)
    entry = _stops(timeouts, entry=True)
    question_buttons = [
        (cb.DRIP_FEED, answer_button),
        (cb.CHOICE, answer_button),
        (cb.SKIP, answer_button),
        (cb.NUMBER, answer_button),
        (cb.BACK, back),
        (cb.EDIT, edit),
        (cb.CONFIRM, confirm),
        (cb.RESUME, resume),
        (cb.PLACING, still_placing),
        (cb.ORDER_AGAIN, order_again),
    ]
    """The buttons of the questions and the summary (each checks that it is on the latest
    turn), Continue, Order again and the Placing button: they act in any state, and after
    the order was left."""
    browsing = [(button, callback) for button, callback in catalog.BUTTONS]
    starts = [
        (cb.START_ORDER, begin),
        (cb.SERVICE, chosen),
        (cb.FOUND_SERVICE, chosen),
        (cb.STAR, star),
    ]

    def buttons(pairs: list[tuple[cb.Button, Callback]], wrap: Any) -> list[Any]:
        return [CallbackQueryHandler(wrap(callback), pattern=b.matches) for b, callback in pairs]

    entry_points = [
        CommandHandler("order", entry(start_order)),
        CallbackQueryHandler(entry(start_order), pattern=cb.NEW_ORDER.matches),
        *buttons(browsing, entry),
        *buttons(starts, entry),
        *buttons(question_buttons, entry),
    ]
    fallbacks = [
        CallbackQueryHandler(step(abort), pattern=cb.ABORT.matches),
        CommandHandler("cancel", step(abort), has_args=False),
        *buttons(question_buttons, step),
        *buttons(browsing, step),
        *buttons(starts, step),
        # Another feature's command or button: the order ends, the update goes on.
        MessageHandler(filters.COMMAND, _leaving(timeouts)),
        CallbackQueryHandler(_leaving(timeouts)),
    ]
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button press is tracked per user, not per
        # message: that is intended (one order in progress per user).
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=entry_points,
            states={
                BROWSE: [MessageHandler(text, step(catalog.search))],
                ASK: [MessageHandler(text, step(answer_text))],
                CONFIRM: [MessageHandler(text, step(summary_hint))],
            },
            fallbacks=fallbacks,
            name="order",
            persistent=True,
            allow_reentry=True,
        )


def register(
    application: Application,  # type: ignore[type-arg]
    timeout: float,
    clock: Callable[[], float],
) -> None:
    timeouts = Timeouts(timeout, clock)
    application.add_handler(conversation(timeouts), group=GROUP)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        timeouts.sweep, interval=timeouts.every, name="order timeouts"
    )
