"""The gate every update passes first: who may use the bot (admins, `ALLOWED_IDS`, anyone
with `OPEN_SIGNUP`; anyone else gets a polite refusal showing their id), who acts (the
`Actor`), in which language; and, last of all, the one router of typed text, by what the
user's next text was awaited as (`Awaiting`).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core.amounts import parse_int
from bot.logs import current_update
from bot.telegram import callback as cb
from bot.telegram.context import BotContext, Expecting
from bot.telegram.features.admin import handlers as admin
from bot.telegram.features.broadcasts import handlers as broadcasts
from bot.telegram.features.catalog import handlers as catalog
from bot.telegram.features.mass import handlers as mass
from bot.telegram.features.orders import handlers as orders
from bot.telegram.features.support import handlers as support
from bot.telegram.features.wallet import handlers as wallet
from bot.telegram.features.wallet import manual
from bot.telegram.render.keyboards import Button, markup, menu_button
from bot.telegram.render.text import escape, field_label, shorten
from bot.telegram.replies import answer_query, expired, home_menu, show

log = logging.getLogger(__name__)

GROUP = -100


async def gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    state = context.state
    if user is None:
        raise ApplicationHandlerStop
    current_update.set((user.id, update.update_id))
    log.debug("an update from user %d", user.id)
    if not state.access.allows(user.id):
        context.use_language(state.i18n.resolve(None, user.language_code))
        t = context.t
        text = t._(
            "Sorry, this bot is private. Ask its operator for access and give them your "
            "Telegram id: <code>{id}</code>"
        ).format(id=user.id)
        await answer_query(update, context, t._("Sorry, this bot is private."))
        if update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, text)
        log.info("refused user %d: not in ADMIN_IDS or ALLOWED_IDS (told them their id)", user.id)
        raise ApplicationHandlerStop
    row = await state.accounts.seen(user.id, user.language_code)
    context.use_language(state.i18n.resolve(row.language, user.language_code))
    context.actor = state.access.actor(user.id)
    if context.user_data is not None:
        context.came_from, context.user_data.awaiting = context.user_data.awaiting, None
    if update.callback_query is not None and not update.callback_query.data:
        # PTB lets a query without data match every patterned handler: stop it here.
        await expired(update, context)
        raise ApplicationHandlerStop


async def too_busy(update: Update, application: Application) -> None:  # type: ignore[type-arg]
    """A user whose queue of updates is full: told once that the rest waits (strangers are
    not answered here; the gate answers them)."""
    state = application.bot_data
    user = update.effective_user
    if user is None or not state.access.allows(user.id):
        return
    row = await state.accounts.get(user.id)
    t = state.i18n.get(state.i18n.resolve(row.language if row else None, user.language_code))
    text = t._(
        "Please wait: your earlier requests are still being handled. "
        "What you sent meanwhile was skipped."
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=False)
        elif update.effective_chat is not None:
            await application.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        log.info("could not tell user %d to wait: %s", user.id, exc)


async def route_text(update: Update, context: BotContext) -> None:
    """Text no feature took (outside an order's questions), by what it was awaited as:
    pasted order lines are a mass order whatever came before; after the orders list, words
    find an order; after a prompt, its answer; else words search the services. What finds
    nothing, an unknown command or anything else gets the menu and a hint."""
    message = update.effective_message
    text = (message.text or "").strip() if message is not None else ""
    awaiting = context.came_from
    expecting = awaiting.expecting if awaiting is not None else None
    if text and (expecting is Expecting.MASS_LINES or mass.looks_like_lines(text)):
        await mass.preview(update, context, text)
        return
    if text and not text.startswith("/"):
        match expecting:
            case Expecting.ORDER_SEARCH:
                await orders.find_orders(update, context, text)
                return
            case Expecting.TOP_UP_AMOUNT:
                await wallet.typed_amount(update, context, text)
                return
            case Expecting.DEPOSIT_PROOF:
                await manual.proof_text(update, context, text)
                return
            case Expecting.PANEL_ID if awaiting is not None and awaiting.order is not None:
                await admin.panel_id_typed(update, context, awaiting.order, text)
                return
            case Expecting.SUPPORT_MESSAGE if awaiting is not None:
                await support.customer_message(update, context, awaiting.order)
                return
            case Expecting.TICKET_REPLY if awaiting is not None and awaiting.order is not None:
                await support.admin_reply(update, context, awaiting.order)
                return
            case Expecting.BROADCAST_MESSAGE if context.actor.is_admin:
                await broadcasts.composed(update, context)
                return
        if await offer_to_draft(update, context, text):
            return
        if await catalog.search_found(update, context, text):
            return
    t = context.t
    await show(
        update,
        context,
        t._("I did not understand that. Use the menu below, or /help for the commands."),
        home_menu(context),
    )


async def route_photo(update: Update, context: BotContext) -> None:
    """A photo: for a ticket after Support (or an admin's answer after Reply), else the proof
    of a top-up waiting for one (shop mode)."""
    awaiting = context.came_from
    expecting = awaiting.expecting if awaiting is not None else None
    if expecting is Expecting.SUPPORT_MESSAGE and awaiting is not None:
        await support.customer_message(update, context, awaiting.order)
    elif expecting is Expecting.TICKET_REPLY and awaiting is not None and awaiting.order:
        await support.admin_reply(update, context, awaiting.order)
    elif expecting is Expecting.BROADCAST_MESSAGE and context.actor.is_admin:
        await broadcasts.composed(update, context)
    elif context.state.shop.on:
        await manual.proof_photo(update, context)
    else:
        await route_text(update, context)


async def offer_to_draft(update: Update, context: BotContext, text: str) -> bool:
    """A number typed at the menu while an order waits for a number: offered to that order
    (or searched, at the user's choice), never searched silently."""
    draft = context.data.draft
    number = parse_int(text) if len(text) <= 20 else None
    if draft is None or number is None or not draft.waiting_number or number < 0:
        return False
    t = context.t
    context.data.search = text[: catalog.MAX_QUERY]
    use = t._("▶️ Use {n} for: {service}").format(
        n=t.number(number), service=shorten(draft.service_name, 30)
    )
    rows = [
        [Button(use, callback_data=cb.NUMBER(draft.turn, number))],
        [Button(t._("🔍 Search the services instead"), callback_data=cb.SEARCH_PAGE(0))],
        [menu_button(t)],
    ]
    question = t._("Your order {service} is waiting for its {field}. Is {n} for it?").format(
        service=escape(draft.service_name),
        field=field_label(t, draft.waiting_for).lower(),
        n=t.number(number),
    )
    await show(update, context, question, markup(rows))
    return True


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(TypeHandler(Update, gate), group=GROUP)


def register_fallbacks(application: Application) -> None:  # type: ignore[type-arg]
    """Registered last in the default group, so they run only when no feature handled the
    update: typed text, unknown commands and buttons nobody knows."""
    application.add_handler(MessageHandler(filters.PHOTO & filters.ChatType.PRIVATE, route_photo))
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE, route_text))
    application.add_handler(CallbackQueryHandler(expired))
