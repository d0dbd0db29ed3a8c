"""The guided order: category -> service -> the questions of its type -> summary -> confirm.

A persistent, named ConversationHandler. The partly filled order lives in `UserData.draft`;
placing it goes through `bot.ordering.submit`, which makes a second order impossible.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from decimal import Decimal
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.catalog import CatalogIndex
from bot.context import BotContext
from bot.domain import Order, Outcome
from bot.handlers.common import answer_query, expired, show
from bot.handlers.start import welcome
from bot.ordering import DRIP_FEED_STEP, OrderDraft, OrderNotStored, quote, submit
from bot.panel.errors import OutcomeUnknown, PanelFailure, failure_from_text
from bot.panel.models import Service
from bot.panel.ordertypes import FieldKind, InvalidField, check_field, order_type_of
from bot.storage.db import StorageLost
from bot.ui import callback as cb
from bot.ui.format import category_name, order_card, service_button, service_card
from bot.ui.format import summary as summary_text
from bot.ui.keyboards import (
    PAGE_SIZE,
    Button,
    clamp_page,
    main_menu,
    markup,
    menu_button,
    order_keyboard,
    pager,
)
from bot.ui.text import (
    choice_label,
    escape,
    failure_text,
    field_label,
    field_prompt,
    issue_text,
    shorten,
)

log = logging.getLogger(__name__)

BROWSE, ASK, CONFIRM = "browse", "ask", "confirm"
END = ConversationHandler.END
MAX_QUERY = 100
EDITS_PER_ROW = 2
SEARCH_LIMIT = 200


async def _catalog(update: Update, context: BotContext) -> CatalogIndex | None:
    try:
        return await context.state.catalog.get()
    except PanelFailure as exc:
        t = context.t
        retry = Button(t._("🔄 Retry"), callback_data=cb.CATEGORIES(0))
        await show(update, context, failure_text(t, exc), markup([[retry, menu_button(t)]]))
        return None


def _args(button: cb.Button, update: Update) -> tuple[Any, ...] | None:
    query = update.callback_query
    return button.parse(query.data if query else None)


# -- browsing -----------------------------------------------------------------------------------


async def categories(update: Update, context: BotContext, page: int = 0) -> str | int:
    index = await _catalog(update, context)
    if index is None:
        return BROWSE
    t = context.t
    page = clamp_page(page, len(index.categories))
    shown = index.categories[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [
        [
            Button(
                f"{shorten(category_name(t, c.name), 50)} ({len(c.services)})",
                callback_data=cb.CATEGORY(c.key, 0),
            )
        ]
        for c in shown
    ]
    rows.append(pager(t, page, len(index.categories), cb.CATEGORIES))
    rows.append([menu_button(t)])
    text = t._("<b>New order</b>\nChoose a category, or type words to search the services.")
    await show(update, context, text, markup(rows))
    return BROWSE


async def start_order(update: Update, context: BotContext) -> str | int:
    """/order, /order <service id>, and the New order button."""
    context.data.draft = None
    if context.args:
        token = context.args[0].lstrip("#")
        if not token.isdigit():
            await show(update, context, context.t._("Usage: /order or /order &lt;service id&gt;"))
            return await categories(update, context)
        return await _service(update, context, int(token))
    return await categories(update, context)


async def categories_page(update: Update, context: BotContext) -> str | int:
    args = _args(cb.CATEGORIES, update)
    return await categories(update, context, int(args[0]) if args else 0)


async def category_page(update: Update, context: BotContext) -> str | None:
    args = _args(cb.CATEGORY, update)
    index = await _catalog(update, context)
    if index is None:
        return BROWSE
    category = index.category(str(args[0])) if args else None
    if args is None or category is None:
        await expired(update, context)
        return BROWSE
    t = context.t
    page = clamp_page(int(args[1]), len(category.services))
    shown = category.services[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    currency = context.state.currency.code
    rows = [[Button(service_button(t, s, currency), callback_data=cb.SERVICE(s.id))] for s in shown]
    rows.append(pager(t, page, len(category.services), lambda p: cb.CATEGORY(category.key, p)))
    rows.append([Button(t._("◀️ Categories"), callback_data=cb.CATEGORIES(0)), menu_button(t)])
    text = t._("<b>{category}</b>\nChoose a service:").format(
        category=escape(category_name(t, category.name))
    )
    await show(update, context, text, markup(rows))
    return BROWSE


async def search(update: Update, context: BotContext) -> str | int:
    message = update.effective_message
    if message is None or not message.text:
        return BROWSE
    context.data.search = message.text.strip()[:MAX_QUERY]
    return await _search_results(update, context, 0)


async def search_page(update: Update, context: BotContext) -> str | int:
    args = _args(cb.SEARCH_PAGE, update)
    if args is None or not context.data.search:
        await expired(update, context)
        return BROWSE
    return await _search_results(update, context, int(args[0]))


async def _search_results(update: Update, context: BotContext, page: int) -> str | int:
    index = await _catalog(update, context)
    if index is None:
        return BROWSE
    t = context.t
    query = context.data.search or ""
    found, total = index.search(query, limit=SEARCH_LIMIT)
    back = [Button(t._("◀️ Categories"), callback_data=cb.CATEGORIES(0)), menu_button(t)]
    if not found:
        text = t._("Nothing matches “{query}”. Try other words, or choose a category.").format(
            query=escape(query)
        )
        await show(update, context, text, markup([back]))
        return BROWSE
    page = clamp_page(page, len(found))
    currency = context.state.currency.code
    rows = [
        [Button(service_button(t, s, currency), callback_data=cb.SERVICE(s.id))]
        for s in found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    rows.append(pager(t, page, len(found), cb.SEARCH_PAGE))
    rows.append(back)
    text = t.n_(
        "{count} service matches “{query}”:", "{count} services match “{query}”:", total
    ).format(count=t.number(total), query=escape(query))
    if total > len(found):
        text += "\n" + t._("Showing the best {n}; add words to narrow it down.").format(
            n=t.number(len(found))
        )
    await show(update, context, text, markup(rows))
    return BROWSE


async def service_page(update: Update, context: BotContext) -> str | int:
    args = _args(cb.SERVICE, update)
    index = await _catalog(update, context)
    if index is None:
        return BROWSE
    if args is None or int(args[0]) not in index.by_id:
        await expired(update, context)
        return BROWSE
    return await _service(update, context, int(args[0]))


async def _service(update: Update, context: BotContext, service_id: int) -> str | int:
    index = await _catalog(update, context)
    if index is None:
        return BROWSE
    t = context.t
    service = index.by_id.get(service_id)
    if service is None:
        text = t._("There is no service with id {id}. Choose one from the list.").format(
            id=service_id
        )
        await show(update, context, text)
        return await categories(update, context)
    category, position = index.place(service.id)
    rows = [
        [Button(t._("🛒 Order this service"), callback_data=cb.START_ORDER(service.id))],
        [
            Button(t._("◀️ Back"), callback_data=cb.CATEGORY(category.key, position // PAGE_SIZE)),
            menu_button(t),
        ],
    ]
    text = service_card(t, service, context.state.currency.code, service.category)
    await show(update, context, text, markup(rows))
    return BROWSE


# -- questions ----------------------------------------------------------------------------------


async def begin(update: Update, context: BotContext) -> str | int:
    args = _args(cb.START_ORDER, update)
    index = await _catalog(update, context)
    if index is None:
        return BROWSE
    service = index.by_id.get(int(args[0])) if args else None
    if service is None:
        await expired(update, context)
        return BROWSE
    context.data.draft = OrderDraft(service_id=service.id)
    return await _next(update, context, service)


async def _draft_service(update: Update, context: BotContext) -> tuple[OrderDraft, Service] | None:
    """The draft and its service, or None after telling the user why there is none."""
    draft = context.data.draft
    if draft is None:
        await expired(update, context)
        return None
    index = await _catalog(update, context)
    if index is None:
        return None
    service = index.by_id.get(draft.service_id)
    if service is None:
        context.data.draft = None
        await show(
            update,
            context,
            context.t._("This service is no longer offered by the panel."),
            main_menu(context.t),
        )
        return None
    return draft, service


def _step_buttons(context: BotContext, step: str, service: Service) -> list[list[Button]]:
    t = context.t
    rows: list[list[Button]] = []
    if step == DRIP_FEED_STEP:
        rows.append(
            [
                Button(t._("Yes, drip-feed"), callback_data=cb.DRIP_FEED(1)),
                Button(t._("No, all at once"), callback_data=cb.DRIP_FEED(0)),
            ]
        )
    else:
        spec = order_type_of(service).field(step)
        if spec.kind is FieldKind.CHOICE:
            rows += [
                [Button(choice_label(t, spec.name, value), callback_data=cb.CHOICE(value))]
                for value in spec.choices
            ]
        if spec.optional and not spec.drip_feed:
            rows.append([Button(t._("Skip ⏭"), callback_data=cb.SKIP())])
    rows.append(
        [
            Button(t._("◀️ Back"), callback_data=cb.BACK()),
            Button(t._("✖️ Cancel"), callback_data=cb.ABORT()),
        ]
    )
    return rows


def _question(context: BotContext, step: str, service: Service) -> str:
    t = context.t
    head = f"<b>{escape(shorten(service.name, 120))}</b>\n\n"
    if step == DRIP_FEED_STEP:
        return head + t._("Deliver in several runs (drip-feed)?")
    spec = order_type_of(service).field(step)
    return head + f"<b>{field_label(t, step)}</b>\n" + field_prompt(t, spec, service)


async def _next(
    update: Update, context: BotContext, service: Service, *, new_message: bool = False
) -> str | int:
    """Ask the next question, or show the summary when every answer is in."""
    draft = context.data.draft
    assert draft is not None
    step = draft.next_step(order_type_of(service))
    if step is None:
        return await _summary(update, context, service, new_message=new_message)
    await show(
        update,
        context,
        _question(context, step, service),
        markup(_step_buttons(context, step, service)),
        new_message=new_message,
    )
    return ASK


async def answer_text(update: Update, context: BotContext) -> str | int:
    found = await _draft_service(update, context)
    message = update.effective_message
    if found is None or message is None:
        return END
    draft, service = found
    t = context.t
    step = draft.next_step(order_type_of(service))
    if step is None:
        return await _summary(update, context, service, new_message=True)
    if step == DRIP_FEED_STEP:
        await message.reply_text(
            t._("Please answer with the buttons."),
            reply_markup=markup(_step_buttons(context, step, service)),
        )
        return ASK
    spec = order_type_of(service).field(step)
    try:
        value = check_field(spec, message.text or "", service)
    except InvalidField as exc:
        await message.reply_text(
            "❌ " + issue_text(t, exc.issue) + "\n\n" + field_prompt(t, spec, service),
            reply_markup=markup(_step_buttons(context, step, service)),
        )
        return ASK
    draft.answer(step, value)
    return await _next(update, context, service, new_message=True)


async def answer_button(update: Update, context: BotContext) -> str | int:
    """A choice, the drip-feed yes/no, or Skip."""
    found = await _draft_service(update, context)
    if found is None:
        return END
    draft, service = found
    step = draft.next_step(order_type_of(service))
    data = update.callback_query.data if update.callback_query else None
    drip, choice = cb.DRIP_FEED.parse(data), cb.CHOICE.parse(data)
    if step == DRIP_FEED_STEP and drip is not None:
        draft.choose_drip_feed(bool(drip[0]))
    elif step is not None and step != DRIP_FEED_STEP:
        spec = order_type_of(service).field(step)
        if choice is not None and spec.kind is FieldKind.CHOICE and choice[0] in spec.choices:
            draft.answer(step, str(choice[0]))
        elif cb.SKIP.matches(data) and spec.optional:
            draft.answer(step, "")
        else:
            await expired(update, context)
            return ASK
    else:
        await expired(update, context)
        return ASK
    return await _next(update, context, service)


async def back(update: Update, context: BotContext) -> str | int:
    found = await _draft_service(update, context)
    if found is None:
        return END
    draft, service = found
    if not draft.step_back():
        context.data.draft = None
        return await _service(update, context, service.id)
    return await _next(update, context, service)


async def edit(update: Update, context: BotContext) -> str | int:
    """An answer changed from the summary: asked again, then back to the summary."""
    found = await _draft_service(update, context)
    if found is None:
        return END
    draft, service = found
    args = _args(cb.EDIT, update)
    if args is None or not draft.edit(str(args[0]), order_type_of(service)):
        await expired(update, context)
        return CONFIRM
    return await _next(update, context, service)


async def abort(update: Update, context: BotContext) -> int:
    context.data.draft = None
    t = context.t
    await show(update, context, t._("Order cancelled. Nothing was ordered."), main_menu(t))
    return END


async def to_menu(update: Update, context: BotContext) -> int:
    context.data.draft = None
    await show(update, context, welcome(context.t), main_menu(context.t))
    return END


async def timed_out(update: Update, context: BotContext) -> None:
    context.data.draft = None
    chat = update.effective_chat
    if chat is not None:
        t = context.t
        await context.bot.send_message(
            chat.id,
            t._(
                "The order you were filling in expired after a while without an answer. "
                "Nothing was ordered."
            ),
            reply_markup=main_menu(t),
        )


# -- summary and confirmation -------------------------------------------------------------------


async def _summary(
    update: Update,
    context: BotContext,
    service: Service,
    *,
    new_message: bool = False,
    notice: str = "",
) -> str | int:
    draft = context.data.draft
    assert draft is not None
    t = context.t
    offer = quote(draft, service)
    if offer.issues:
        issue = offer.issues[0]
        while issue.field in draft.values and draft.step_back():
            pass
        await show(update, context, "❌ " + issue_text(t, issue), new_message=new_message)
        return await _next(update, context, service, new_message=True)
    balance: Decimal | None = None
    with contextlib.suppress(PanelFailure):
        balance = (await context.state.balance.get()).amount
    text = summary_text(t, offer, context.state.currency.code, balance)
    if notice:
        text = notice + "\n\n" + text
    edits = [
        Button("✏️ " + field_label(t, name), callback_data=cb.EDIT(name)) for name in draft.values
    ]
    rows = [
        [Button(t._("✅ Confirm order"), callback_data=cb.CONFIRM(draft.key))],
        *(edits[i : i + EDITS_PER_ROW] for i in range(0, len(edits), EDITS_PER_ROW)),
        [
            Button(t._("◀️ Back"), callback_data=cb.BACK()),
            Button(t._("✖️ Cancel"), callback_data=cb.ABORT()),
        ],
    ]
    await _save_draft(update, context)
    await show(update, context, text, markup(rows), new_message=new_message)
    return CONFIRM


async def _save_draft(update: Update, context: BotContext) -> None:
    """Store the finished draft now, not at the next periodic save: a Confirm button the
    user sees works even after a crash."""
    persistence = context.application.persistence
    user = update.effective_user
    if persistence is not None and user is not None:
        await persistence.update_user_data(user.id, context.data)


def outcome_text(context: BotContext, row: Order) -> str:
    t = context.t
    if row.outcome is Outcome.PLACED:
        return t._("✅ Order placed.") + "\n\n" + order_card(t, row)
    if row.outcome is Outcome.UNKNOWN:
        failure = OutcomeUnknown(row.error or "")
        return "⚠️ " + failure_text(t, failure) + "\n\n" + order_card(t, row)
    if row.outcome is Outcome.SUBMITTING:
        return t._("⏳ This order is being placed. Look at My orders in a moment.")
    return "❌ " + rejection_text(context, row.error or "")


def rejection_text(context: BotContext, error: str) -> str:
    return failure_text(context.t, failure_from_text(error))


async def confirm(update: Update, context: BotContext) -> str | int:
    args = _args(cb.CONFIRM, update)
    user = update.effective_user
    if args is None or user is None:
        await expired(update, context)
        return END
    key = str(args[0])
    store = context.state.store
    draft = context.data.draft
    if draft is None or draft.key != key:
        # An old Confirm button: never a new order; show what became of that one, if anything.
        row = await store.orders.by_intent(key, user.id)
        if row is None:
            await expired(update, context)
            return END
        await show(update, context, outcome_text(context, row), order_keyboard(context.t, row))
        return END
    found = await _draft_service(update, context)
    if found is None:
        return END
    _, service = found
    if update.callback_query is not None:
        await answer_query(update.callback_query, context.t._("Placing the order…"))
    try:
        row, _sent = await submit(
            store,
            context.state.panel,
            user_id=user.id,
            draft=draft,
            service=service,
            currency=context.state.currency.code,
        )
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
            update, context, service, notice=rejection_text(context, row.error or "")
        )
    context.data.draft = None
    await show(update, context, outcome_text(context, row), order_keyboard(context.t, row))
    return END


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


def _browse_handlers() -> list[CallbackQueryHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(categories_page, pattern=cb.CATEGORIES.matches),
        CallbackQueryHandler(category_page, pattern=cb.CATEGORY.matches),
        CallbackQueryHandler(search_page, pattern=cb.SEARCH_PAGE.matches),
        CallbackQueryHandler(service_page, pattern=cb.SERVICE.matches),
        CallbackQueryHandler(begin, pattern=cb.START_ORDER.matches),
    ]


def conversation(timeout: float) -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button press is tracked per user, not per
        # message: that is intended (one order in progress per user).
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return _conversation(text, timeout)


def _conversation(text: filters.BaseFilter, timeout: float) -> ConversationHandler:  # type: ignore[type-arg]
    return ConversationHandler(
        entry_points=[
            CommandHandler("order", start_order),
            CallbackQueryHandler(start_order, pattern=cb.NEW_ORDER.matches),
            *_browse_handlers(),
        ],
        states={
            BROWSE: [MessageHandler(text, search)],
            ASK: [
                MessageHandler(text, answer_text),
                CallbackQueryHandler(answer_button, pattern=cb.DRIP_FEED.matches),
                CallbackQueryHandler(answer_button, pattern=cb.CHOICE.matches),
                CallbackQueryHandler(answer_button, pattern=cb.SKIP.matches),
                CallbackQueryHandler(back, pattern=cb.BACK.matches),
            ],
            CONFIRM: [
                CallbackQueryHandler(confirm, pattern=cb.CONFIRM.matches),
                CallbackQueryHandler(edit, pattern=cb.EDIT.matches),
                CallbackQueryHandler(back, pattern=cb.BACK.matches),
            ],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        fallbacks=[
            CallbackQueryHandler(abort, pattern=cb.ABORT.matches),
            CommandHandler("cancel", abort, has_args=False),
            CommandHandler("start", to_menu),
            CallbackQueryHandler(to_menu, pattern=cb.MENU.matches),
            CallbackQueryHandler(confirm, pattern=cb.CONFIRM.matches),
            *_browse_handlers(),
        ],
        name="order",
        persistent=True,
        allow_reentry=True,
        conversation_timeout=timeout,
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(conversation(application.bot_data.settings.conversation_timeout))
    # Outside a conversation, an old Confirm button must still answer (never re-order).
    application.add_handler(CallbackQueryHandler(confirm, pattern=cb.CONFIRM.matches))
