"""The admins' tools: /stats (users, orders, panel health, the tracker's last cycle, the
money); in shop mode /credit, /debit, /wallet, /limit, /markup and /deposits, the decision on
a top-up, and the answer to an order of unknown outcome paid from a wallet."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.core.amounts import typed_amount
from bot.core.money import ALL, CATEGORY, MAX_MARKUP, SERVICE, InsufficientFunds
from bot.core.panel import PanelFailure
from bot.core.records import Order, visible
from bot.core.search import closest
from bot.core.unknown_outcome import Attached, NotAttached
from bot.telegram import callback as cb
from bot.telegram.context import Awaiting, BotContext, Expecting
from bot.telegram.features.wallet.screens import (
    deposit_line,
    entry_line,
    markup_rules_text,
    money_lines,
    wallet_text,
    whole_amount_text,
)
from bot.telegram.i18n import Translator
from bot.telegram.notices import send_notice
from bot.telegram.render.keyboards import PAGE_SIZE, Button, markup, menu_button, pager
from bot.telegram.render.orders import not_attached_text
from bot.telegram.render.text import escape, failure_text, order_state_text
from bot.telegram.replies import (
    answer_query,
    command_arguments,
    expired,
    home_menu,
    show,
    user_id_of,
)

log = logging.getLogger(__name__)


async def stats(update: Update, context: BotContext) -> None:
    t = context.t
    state = context.state
    figures = await state.stats.now()
    lines = [
        t._("<b>Statistics</b>"),
        "",
        t._("Users: {n}").format(n=t.number(figures.users)),
        t._("Orders today: {n}").format(n=t.number(figures.orders_since)),
        t._("Orders by status:"),
    ]
    counts = figures.by_status
    lines += [
        f"  {escape(order_state_text(t, status))}: {t.number(n)}"
        for status, n in sorted(counts.items(), key=lambda item: -item[1])
    ]
    if not counts:
        lines.append("  —")
    last = (
        t.datetime(datetime.fromtimestamp(figures.panel_last_success, tz=UTC))
        if figures.panel_last_success
        else t._("never")
    )
    lines += [
        "",
        t._("Panel: last successful call {when}, failures in a row: {n}").format(
            when=last, n=t.number(figures.panel_failures)
        ),
    ]
    cycle = state.tracker.last_cycle
    if cycle is None:
        lines.append(t._("Tracker: no cycle yet"))
    else:
        lines.append(
            t._(
                "Tracker: last cycle took {seconds} s for {orders} orders and {refills} refills; "
                "{changes} changes, {sent} messages sent"
            ).format(
                seconds=t.number(Decimal(str(round(cycle.duration, 3)))),
                orders=t.number(cycle.orders),
                refills=t.number(cycle.refills),
                changes=t.number(cycle.changes),
                sent=t.number(cycle.sent),
            )
        )
    lines.append(t._("Notifications waiting: {n}").format(n=t.number(figures.outbox)))
    if figures.money:
        labels = (t._("Today"), t._("7 days"), t._("30 days"))
        labelled = list(zip(labels, figures.money, strict=True))
        lines += ["", *money_lines(t, labelled, state.currency.code)]
    await show(update, context, "\n".join(lines), home_menu(context))


# -- shop mode -------------------------------------------------------------------------------


async def decide(update: Update, context: BotContext) -> None:
    """Approve or Reject: the first tap decides (whichever admin, however often)."""
    query = update.callback_query
    admin = update.effective_user
    data = query.data if query else None
    approve = cb.DEPOSIT_APPROVE.matches(data)
    args = (cb.DEPOSIT_APPROVE if approve else cb.DEPOSIT_REJECT).parse(data)
    if query is None or admin is None or args is None:
        await expired(update, context)
        return
    t = context.t
    deposit = await context.state.shop.decide_deposit(int(args[0]), approve, admin.id)
    if deposit is None:
        await answer_query(update, context, t._("This top-up was decided already."))
        return
    context.state.tracker.deliver_soon(context.bot)  # the owner is told
    await answer_query(update, context, t._("Approved.") if approve else t._("Rejected."))
    verdict = (t._("✅ Approved by {admin}") if approve else t._("❌ Rejected by {admin}")).format(
        admin=escape(visible(admin.full_name))
    )
    card = query.message if isinstance(query.message, Message) else None
    original = (card.caption or card.text or "") if card is not None else ""
    menu = markup([[menu_button(t)]])  # decided: the card's way on
    try:
        if card is not None and card.photo:
            await query.edit_message_caption(
                caption=escape(original) + "\n\n" + verdict, reply_markup=menu
            )
        else:
            await query.edit_message_text(escape(original) + "\n\n" + verdict, reply_markup=menu)
    except BadRequest as exc:
        log.info("deposit card not updated: %s", exc)


DEPOSITS_SHOWN = 20


async def deposits_command(update: Update, context: BotContext) -> None:
    """/deposits: the top-ups waiting for an admin, oldest first, each opening its card."""
    t = context.t
    deposits, count = await context.state.shop.waiting_deposits(DEPOSITS_SHOWN)
    if not deposits:
        await show(update, context, t._("No top-up is waiting."), home_menu(context))
        return
    currency = context.state.currency.code
    lines = [
        t.n_("<b>{n} top-up waiting</b>", "<b>{n} top-ups waiting</b>", count).format(
            n=t.number(count)
        ),
        "",
        *(deposit_line(t, deposit, currency) for deposit in deposits),
    ]
    buttons = [
        Button(f"#{deposit.id}", callback_data=cb.DEPOSIT_OPEN(deposit.id)) for deposit in deposits
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    await show(update, context, "\n".join(lines), markup([*rows, [menu_button(t)]]))


async def deposit_open(update: Update, context: BotContext) -> None:
    """A top-up's card again, for the admin who asked (with its photo and buttons)."""
    args = cb.DEPOSIT_OPEN.parse(update.callback_query.data if update.callback_query else None)
    chat = update.effective_chat
    notice = (
        await context.state.shop.deposit_card(chat.id, int(args[0]))
        if args and chat is not None
        else None
    )
    if notice is None or chat is None:
        await expired(update, context)
        return
    await answer_query(update, context)
    t = context.t
    await send_notice(context.bot, chat.id, notice, t)


def _arguments(update: Update) -> list[str]:
    return command_arguments(update).split()


def _user_id(args: list[str]) -> int | None:
    """The user id an admin's command starts with."""
    return user_id_of(args[0]) if args else None


async def adjust_command(update: Update, context: BotContext, sign: int) -> None:
    """/credit <user id> <amount> [note] and /debit <user id> <amount> [note]."""
    t = context.t
    admin = update.effective_user
    args = _arguments(update)
    amount = typed_amount(args[1]) if len(args) >= 2 else None
    user_id = _user_id(args)
    if admin is None or amount is None or user_id is None:
        usage = "/credit" if sign > 0 else "/debit"
        text = t._("Usage: {command} &lt;user id&gt; &lt;amount&gt; [note]").format(command=usage)
        if args and user_id is None:
            wrong = t._("“{token}” is not a user id.").format(token=escape(args[0][:30]))
        elif len(args) >= 2:
            wrong = t._("“{token}” is not an amount: send a number like 25000.").format(
                token=escape(args[1][:30])
            )
        else:
            wrong = t._("The amount is missing.") if args else ""
        await show(update, context, (wrong + "\n" if wrong else "") + text, home_menu(context))
        return
    currency = context.state.currency.code
    if not context.state.shop.whole(amount):
        await show(update, context, whole_amount_text(t, currency), home_menu(context))
        return
    note = visible(" ".join(args[2:]))[:200]
    try:
        balance = await context.state.shop.adjust(user_id, sign * amount, admin.id, note)
        context.state.tracker.deliver_soon(context.bot)  # the customer's notice, now
    except InsufficientFunds as short:
        text = t._("Not done: the wallet of user {user} would be {missing} below its limit.")
        await show(
            update,
            context,
            text.format(user=user_id, missing=t.money(short.missing, currency)),
            home_menu(context),
        )
        return
    text = t._("Wallet of user {user}: {change}, now <b>{balance}</b>.").format(
        user=user_id,
        change=("+" if sign > 0 else "−") + t.money(amount, currency),
        balance=t.money(balance, currency),
    )
    await show(update, context, text, home_menu(context))


async def credit_command(update: Update, context: BotContext) -> None:
    await adjust_command(update, context, 1)


async def debit_command(update: Update, context: BotContext) -> None:
    await adjust_command(update, context, -1)


async def limit_command(update: Update, context: BotContext) -> None:
    """/limit <user id> <amount>: how far below zero the wallet may go (0: not at all)."""
    t = context.t
    args = _arguments(update)
    user_id = _user_id(args)
    limit = Decimal(0) if len(args) == 2 and args[1] == "0" else None
    if len(args) == 2 and limit is None:
        limit = typed_amount(args[1])
    if user_id is None or limit is None:
        usage = t._("Usage: /limit &lt;user id&gt; &lt;amount&gt; (0: none)")
        await show(update, context, usage, home_menu(context))
        return
    if not context.state.shop.whole(limit):
        await show(
            update, context, whole_amount_text(t, context.state.currency.code), home_menu(context)
        )
        return
    if not await context.state.shop.set_limit(user_id, limit):
        wallet = await context.state.shop.wallet(user_id)
        text = t._(
            "Not done: the wallet of user {user} holds {balance} already; the limit cannot be "
            "below that debt."
        ).format(user=user_id, balance=t.money(wallet.balance, context.state.currency.code))
        await show(update, context, text, home_menu(context))
        return
    text = t._("The wallet of user {user} may now go down to {limit}.").format(
        user=user_id, limit=t.money(-limit, context.state.currency.code)
    )
    await show(update, context, text, home_menu(context))


async def wallet_command(update: Update, context: BotContext) -> None:
    """/wallet <user id>: the balance and the latest entries, a page at a time."""
    user_id = _user_id(_arguments(update))
    if user_id is None:
        await show(
            update, context, context.t._("Usage: /wallet &lt;user id&gt;"), home_menu(context)
        )
        return
    shop = context.state.shop
    unknown = await context.state.accounts.get(user_id) is None
    if unknown and not (await shop.entries(user_id, 0, 1))[1]:
        text = context.t._("User {user} has never used this bot: there is no wallet.").format(
            user=user_id
        )
        await show(update, context, text, home_menu(context))
        return
    await _wallet_page(update, context, user_id, 0)


async def wallet_page(update: Update, context: BotContext) -> None:
    args = cb.WALLET_PAGE.parse(update.callback_query.data if update.callback_query else None)
    if args is None:
        await expired(update, context)
        return
    await _wallet_page(update, context, int(args[0]), int(args[1]))


async def _wallet_page(update: Update, context: BotContext, user_id: int, page: int) -> None:
    t = context.t
    shop = context.state.shop
    currency = context.state.currency.code
    wallet = await shop.wallet(user_id)
    entries, count = await shop.entries(user_id, page, PAGE_SIZE)
    lines = [
        t._("<b>Wallet of user {user}</b>").format(user=user_id),
        wallet_text(t, wallet, currency, customer=True),
        "",
    ]
    lines += [entry_line(t, entry, currency) for entry in entries] or [t._("No entries yet.")]
    rows = [pager(t, page, count, lambda p: cb.WALLET_PAGE(user_id, p)), [menu_button(t)]]
    await show(update, context, "\n".join(lines), markup(rows))


async def markup_command(update: Update, context: BotContext) -> None:
    """/markup; /markup all 25; /markup category <name> 40; /markup service <id> 10|off."""
    t = context.t
    shop = context.state.shop
    args = _arguments(update)
    usage = t._(
        "Usage: /markup all &lt;percent&gt; · /markup category &lt;name&gt; &lt;percent&gt; · "
        "/markup service &lt;id&gt; &lt;percent&gt; · “off” instead of a percent removes a rule"
    )
    if args:
        scope, value = args[0].lower(), args[-1].lower()
        key = " ".join(args[1:-1])
        percent = None if value == "off" else typed_amount(value)
        if value == "0":
            percent = Decimal(0)
        valid = (
            (scope == ALL and len(args) == 2)
            or (scope == CATEGORY and key)
            or (scope == SERVICE and key.isascii() and key.isdigit())
        )
        if not valid or (value != "off" and (percent is None or percent > MAX_MARKUP)):
            await show(update, context, usage, home_menu(context))
            return
        if scope == CATEGORY:
            try:
                index = await context.state.browsing.index(context.actor)
            except PanelFailure as exc:
                await show(update, context, failure_text(t, exc), home_menu(context))
                return
            found, near = closest(key, (c.name for c in index.categories))
            if found is None:
                text = t._("There is no category “{name}”.").format(name=escape(key))
                if near:
                    text += " " + t._("Did you mean: {names}?").format(
                        names=", ".join(f"<code>{escape(n)}</code>" for n in near)
                    )
                await show(update, context, text + "\n\n" + usage, home_menu(context))
                return
            key = found
        await shop.set_markup(scope, key if scope != ALL else "", percent)
    rules = await shop.markup_rules()
    text = markup_rules_text(t, rules, shop.default_markup)
    await show(update, context, text + "\n\n" + usage, home_menu(context))


async def unknown_placed(update: Update, context: BotContext) -> None:
    """An admin: the order of unknown outcome was placed; its panel id is asked."""
    args = cb.UNKNOWN_PLACED.parse(update.callback_query.data if update.callback_query else None)
    unknown = context.state.unknown
    order = await unknown.may_decide(context.actor, int(args[0])) if args else None
    t = context.t
    if not isinstance(order, Order):
        await answer_query(update, context, t._("This order was resolved already."))
        return
    context.data.awaiting = Awaiting(Expecting.PANEL_ID, order.id)
    await show(
        update,
        context,
        t._("Send the panel's id of this order (user {user}, {service}).").format(
            user=order.user_id, service=escape(order.service_name)
        ),
        markup([[menu_button(t)]]),
        new_message=True,
    )


async def panel_id_typed(update: Update, context: BotContext, row_id: int, text: str) -> None:
    """The panel id an admin sent for an order of unknown outcome: attached after every
    check /found makes."""
    t = context.t
    digits = text.strip().lstrip("#")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 12):
        context.data.awaiting = Awaiting(Expecting.PANEL_ID, row_id)
        text = t._("Send the order id in digits, like 123456.")
        await show(update, context, text, markup([[menu_button(t)]]), new_message=True)
        return
    panel_id = int(digits)
    try:
        result = await context.state.unknown.attach(context.actor, row_id, panel_id)
    except PanelFailure as exc:
        context.data.awaiting = Awaiting(Expecting.PANEL_ID, row_id)
        await show(
            update, context, failure_text(t, exc), markup([[menu_button(t)]]), new_message=True
        )
        return
    keyboard = _open_order(t, row_id)
    if isinstance(result, Attached):
        text = t._("✅ Attached: order {id} is followed, the money stays paid.").format(id=digits)
        context.state.tracker.deliver_soon(context.bot)
    elif result in (NotAttached.NOT_WAITING, NotAttached.NO_SUCH_ORDER):
        text = t._("This order was resolved already.")
    else:
        context.data.awaiting = Awaiting(Expecting.PANEL_ID, row_id)
        text = not_attached_text(t, result, row_id, panel_id)
        keyboard = markup([[menu_button(t)]])  # the id is asked again
    await show(update, context, text, keyboard, new_message=True)


async def unknown_not_placed(update: Update, context: BotContext) -> None:
    """An admin: the order of unknown outcome was not placed; its money goes back (once)."""
    args = cb.UNKNOWN_NOT_PLACED.parse(
        update.callback_query.data if update.callback_query else None
    )
    t = context.t
    unknown = context.state.unknown
    marked = await unknown.not_placed(context.actor, int(args[0])) if args else None
    if not isinstance(marked, Order):
        await answer_query(update, context, t._("This order was resolved already."))
        return
    context.state.tracker.deliver_soon(context.bot)
    text = t._("↩️ Marked not placed: {amount} went back to the wallet of user {user}.").format(
        amount=t.money(marked.refunded, marked.currency or context.state.currency.code),
        user=marked.user_id,
    )
    await show(update, context, text, _open_order(t, marked.id))


def _open_order(t: Translator, row_id: int) -> InlineKeyboardMarkup:
    """After an order of unknown outcome is decided: its card (in a new message), the menu."""
    return markup(
        [[Button(t._("Open the order"), callback_data=cb.OPEN_ORDER(row_id)), menu_button(t)]]
    )


def _admins_only(callback: Callable[[Update, BotContext], Awaitable[None]]) -> Any:
    """An admin's button: anyone else gets "expired"."""

    async def guarded(update: Update, context: BotContext) -> None:
        if not context.actor.is_admin:
            await expired(update, context)
            return
        await callback(update, context)

    return guarded


def register(application: Application, admin_ids: frozenset[int], wallets: bool) -> None:  # type: ignore[type-arg]
    admins = filters.User(user_id=admin_ids, allow_empty=False)
    application.add_handler(CommandHandler("stats", stats, filters=admins))
    if not wallets:  # shop mode's tools: otherwise these commands are unknown
        return
    for name, command in (
        ("credit", credit_command),
        ("debit", debit_command),
        ("limit", limit_command),
        ("wallet", wallet_command),
        ("markup", markup_command),
        ("deposits", deposits_command),
    ):
        application.add_handler(CommandHandler(name, command, filters=admins))
    for button, callback in (
        (cb.DEPOSIT_APPROVE, decide),
        (cb.DEPOSIT_REJECT, decide),
        (cb.DEPOSIT_OPEN, deposit_open),
        (cb.UNKNOWN_PLACED, unknown_placed),
        (cb.UNKNOWN_NOT_PLACED, unknown_not_placed),
        (cb.WALLET_PAGE, wallet_page),
    ):
        application.add_handler(
            CallbackQueryHandler(_admins_only(callback), pattern=button.matches)
        )
