"""Shop mode: the wallet in /balance, top-ups (amount, instructions, proof, an admin's
decision), the admins' /credit, /debit, /wallet, /limit and /markup, and their answer to an
order of unknown outcome paid from a wallet."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.core import amounts
from bot.core.money import ALL, CATEGORY, MAX_MARKUP, SERVICE, InsufficientFunds
from bot.core.panel import PanelFailure
from bot.core.records import Deposit, Order, Outcome, visible
from bot.core.shop import TopUpRefusal, deposit_notice
from bot.core.unknown_outcome import Attached, NotAttached
from bot.telegram.context import BotContext
from bot.telegram.handlers.common import (
    answer_query,
    command_arguments,
    expired,
    home_menu,
    show,
    too_fast,
    user_id_of,
)
from bot.telegram.jobs.tracker import send_notice
from bot.telegram.ui import callback as cb
from bot.telegram.ui.format import not_attached_text
from bot.telegram.ui.keyboards import (
    PAGE_SIZE,
    Button,
    markup,
    menu_button,
    pager,
    top_up_button,
    wallet_keyboard,
)
from bot.telegram.ui.shop import (
    deposit_line,
    entry_line,
    markup_rules_text,
    wallet_text,
    whole_amount_text,
)
from bot.telegram.ui.text import escape, failure_text
from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

log = logging.getLogger(__name__)

TOP_UP_SCREEN = "top_up"
"""`UserData.screen` while the bot waits for a top-up amount."""
PROOF_SCREEN = "proof"
"""... and then for its proof (a photo or a text)."""
FOUND_SCREEN = "found:"
"""An admin's: `found:<order row id>`, the panel's id of an order of unknown outcome."""
MAX_AMOUNT = Decimal(10) ** 12


def parse_amount(text: str) -> Decimal | None:
    """An amount as people type it (`bot.core.amounts`: `100.000` is a hundred thousand, `25.000,50`
    a fraction too), after `Rp` or `IDR`; None if it is none, not positive, or absurdly
    large."""
    amount = amounts.parse_amount(text.strip().removeprefix("Rp").removeprefix("IDR"))
    return amount if amount is not None and 0 < amount <= MAX_AMOUNT else None


def _currency(context: BotContext) -> str:
    return context.state.currency.code


# -- the user's side -------------------------------------------------------------------------


async def show_wallet(update: Update, context: BotContext) -> None:
    """/balance of a user who pays from a wallet (and their top-up waiting, if any)."""
    user = update.effective_user
    assert user is not None
    shop = context.state.shop
    wallet = await shop.wallet(user.id)
    waiting = await shop.waiting_deposit(user.id)
    text = wallet_text(context.t, wallet, _currency(context), waiting)
    await show(update, context, text, wallet_keyboard(context.t, shop.takes_deposits))


def _presets(context: BotContext) -> list[Decimal]:
    """Top-up amounts offered as buttons: from the minimum to the maximum."""
    base = [Decimal(n) for n in (50_000, 100_000, 250_000, 500_000)]
    if _currency(context) not in ("IDR", ""):
        base = [Decimal(n) for n in (10, 25, 50, 100)]
    shop = context.state.shop
    return [a for a in base if shop.top_up_refusal(a) is None]


async def top_up(update: Update, context: BotContext) -> None:
    t = context.t
    shop = context.state.shop
    user = update.effective_user
    if not shop.takes_deposits or user is None:
        await show(
            update, context, t._("Ask the operator to top up your wallet."), home_menu(context)
        )
        return
    waiting = await shop.waiting_deposit(user.id)
    if waiting is not None:
        await show(update, context, _waiting_text(context, waiting), home_menu(context))
        return
    currency = _currency(context)
    text = t._("➕ <b>Top up</b>\n\nHow much? Tap an amount or type one.")
    if shop.deposit_min > 0:
        text += "\n" + t._("At least {amount}.").format(amount=t.money(shop.deposit_min, currency))
    buttons = [top_up_button(t, amount, currency) for amount in _presets(context)]
    context.data.screen = TOP_UP_SCREEN
    await show(update, context, text, markup([buttons[:2], buttons[2:], [menu_button(t)]]))


def _waiting_text(context: BotContext, deposit: Deposit) -> str:
    t = context.t
    return t._(
        "Your top-up of {amount}, sent {when}, is waiting for an admin. You can top up again "
        "once it is decided."
    ).format(
        amount=t.money(deposit.amount, _currency(context)),
        when=t.datetime(datetime.fromtimestamp(deposit.created_at, tz=UTC)),
    )


async def top_up_amount(update: Update, context: BotContext) -> None:
    args = cb.TOP_UP_AMOUNT.parse(update.callback_query.data if update.callback_query else None)
    if args is None:
        await expired(update, context)
        return
    await _open_deposit(update, context, Decimal(args[0]) * context.state.shop.unit)


async def typed(update: Update, context: BotContext, text: str) -> bool:
    """Text typed after a shop screen (an amount, a proof, an order id); False when the last
    screen was none of them."""
    came_from = context.came_from or ""
    if came_from == TOP_UP_SCREEN:
        amount = parse_amount(text)
        if amount is None:
            context.data.screen = TOP_UP_SCREEN
            t = context.t
            await show(
                update,
                context,
                t._("That is not an amount. Send digits, like 100000."),
                new_message=True,
            )
            return True
        await _open_deposit(update, context, amount)
        return True
    if came_from == PROOF_SCREEN:
        await _proven(update, context, "text", text)
        return True
    if came_from.startswith(FOUND_SCREEN) and came_from[len(FOUND_SCREEN) :].isdigit():
        await _attach(update, context, int(came_from[len(FOUND_SCREEN) :]), text)
        return True
    return False


async def _open_deposit(update: Update, context: BotContext, amount: Decimal) -> None:
    t = context.t
    shop = context.state.shop
    user = update.effective_user
    if user is None or not shop.takes_deposits:
        await expired(update, context)
        return
    if await too_fast(update, context):
        return
    currency = _currency(context)
    opened = await shop.open_deposit(user.id, amount)
    if isinstance(opened, TopUpRefusal):
        if opened is TopUpRefusal.WAITING:
            waiting = await shop.waiting_deposit(user.id)
            assert waiting is not None
            await show(update, context, _waiting_text(context, waiting), home_menu(context))
            return
        context.data.screen = TOP_UP_SCREEN
        await show(update, context, _amount_refused(context, opened), new_message=True)
        return
    context.data.screen = PROOF_SCREEN
    text = "\n\n".join(
        (
            t._("➕ Top-up of <b>{amount}</b>").format(amount=t.money(opened.amount, currency)),
            escape(shop.deposit_instructions),
            t._(
                "When you have paid, send a photo of the receipt here, or its reference as "
                "text. An admin checks it and credits your wallet."
            ),
        )
    )
    await show(update, context, text, markup([[menu_button(t)]]), new_message=True)


def _amount_refused(context: BotContext, refusal: TopUpRefusal) -> str:
    t = context.t
    shop = context.state.shop
    currency = _currency(context)
    match refusal:
        case TopUpRefusal.FRACTION:
            return whole_amount_text(t, currency)
        case TopUpRefusal.ABOVE_MAX:
            return t._("The largest top-up is {amount}. Send a smaller amount.").format(
                amount=t.money(shop.deposit_max, currency)
            )
    return t._("The smallest top-up is {amount}. Send a larger amount.").format(
        amount=t.money(shop.deposit_min, currency)
    )


async def proof_photo(update: Update, context: BotContext) -> None:
    """A photo: the proof of the top-up waiting for one (else the menu's hint)."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    await _proven(update, context, "photo", message.photo[-1].file_id)


async def _proven(update: Update, context: BotContext, kind: str, proof: str) -> None:
    """The proof of the top-up waiting for one: every admin gets its card (through the
    outbox, now)."""
    t = context.t
    user = update.effective_user
    if user is None or await too_fast(update, context):
        return
    deposit = await context.state.shop.prove_deposit(user.id, kind, proof, user.full_name)
    if deposit is None:
        text = t._("No top-up is waiting for a proof. Start one with ➕ Top up in /balance.")
        await show(update, context, text, home_menu(context), new_message=True)
        return
    context.state.tracker.deliver_soon(context.bot)
    await show(
        update,
        context,
        t._("Thank you. An admin checks your payment; you are told here when it is credited."),
        home_menu(context),
        new_message=True,
    )


# -- the admins' side ------------------------------------------------------------------------


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
    try:
        if card is not None and card.photo:
            await query.edit_message_caption(caption=escape(original) + "\n\n" + verdict)
        else:
            await query.edit_message_text(escape(original) + "\n\n" + verdict)
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
    currency = _currency(context)
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
    deposit = await context.state.shop.get_deposit(int(args[0])) if args else None
    chat = update.effective_chat
    if deposit is None or chat is None:
        await expired(update, context)
        return
    await answer_query(update, context)
    notice = deposit_notice(chat.id, deposit, _currency(context))
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
    amount = parse_amount(args[1]) if len(args) >= 2 else None
    user_id = _user_id(args)
    if admin is None or amount is None or user_id is None:
        usage = "/credit" if sign > 0 else "/debit"
        text = t._("Usage: {command} &lt;user id&gt; &lt;amount&gt; [note]").format(command=usage)
        await show(update, context, text)
        return
    currency = _currency(context)
    if not context.state.shop.whole(amount):
        await show(update, context, whole_amount_text(t, currency))
        return
    note = visible(" ".join(args[2:]))[:200]
    try:
        balance = await context.state.shop.adjust(user_id, sign * amount, admin.id, note)
    except InsufficientFunds as short:
        text = t._("Not done: the wallet of user {user} would be {missing} below its limit.")
        await show(
            update, context, text.format(user=user_id, missing=t.money(short.missing, currency))
        )
        return
    text = t._("Wallet of user {user}: {change}, now <b>{balance}</b>.").format(
        user=user_id,
        change=("+" if sign > 0 else "−") + t.money(amount, currency),
        balance=t.money(balance, currency),
    )
    await show(update, context, text)


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
        limit = parse_amount(args[1])
    if user_id is None or limit is None:
        await show(update, context, t._("Usage: /limit &lt;user id&gt; &lt;amount&gt; (0: none)"))
        return
    if not context.state.shop.whole(limit):
        await show(update, context, whole_amount_text(t, _currency(context)))
        return
    if not await context.state.shop.set_limit(user_id, limit):
        wallet = await context.state.shop.wallet(user_id)
        text = t._(
            "Not done: the wallet of user {user} holds {balance} already; the limit cannot be "
            "below that debt."
        ).format(user=user_id, balance=t.money(wallet.balance, _currency(context)))
        await show(update, context, text)
        return
    text = t._("The wallet of user {user} may now go down to {limit}.").format(
        user=user_id, limit=t.money(-limit, _currency(context))
    )
    await show(update, context, text)


async def wallet_command(update: Update, context: BotContext) -> None:
    """/wallet <user id>: the balance and the latest entries, a page at a time."""
    user_id = _user_id(_arguments(update))
    if user_id is None:
        await show(update, context, context.t._("Usage: /wallet &lt;user id&gt;"))
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
    currency = _currency(context)
    wallet = await shop.wallet(user_id)
    entries, count = await shop.entries(user_id, page, PAGE_SIZE)
    lines = [
        t._("<b>Wallet of user {user}</b>").format(user=user_id),
        wallet_text(t, wallet, currency),
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
        percent = None if value == "off" else parse_amount(value)
        if value == "0":
            percent = Decimal(0)
        valid = (
            (scope == ALL and len(args) == 2)
            or (scope == CATEGORY and key)
            or (scope == SERVICE and key.isascii() and key.isdigit())
        )
        if not valid or (value != "off" and (percent is None or percent > MAX_MARKUP)):
            await show(update, context, usage)
            return
        await shop.set_markup(scope, key if scope != ALL else "", percent)
    rules = await shop.markup_rules()
    text = markup_rules_text(t, rules, context.state.settings.markup_percent)
    await show(update, context, text + "\n\n" + usage)


async def unknown_placed(update: Update, context: BotContext) -> None:
    """An admin: the order of unknown outcome was placed; its panel id is asked."""
    args = cb.UNKNOWN_PLACED.parse(update.callback_query.data if update.callback_query else None)
    order = await context.state.store.orders.get(int(args[0])) if args else None
    t = context.t
    if order is None or order.outcome is not Outcome.UNKNOWN:
        await answer_query(update, context, t._("This order was resolved already."))
        return
    context.data.screen = FOUND_SCREEN + str(order.id)
    await show(
        update,
        context,
        t._("Send the panel's id of this order (user {user}, {service}).").format(
            user=order.user_id, service=escape(order.service_name)
        ),
        new_message=True,
    )


async def _attach(update: Update, context: BotContext, row_id: int, text: str) -> None:
    """The panel id an admin sent for an order of unknown outcome: attached after every
    check /found makes."""
    t = context.t
    digits = text.strip().lstrip("#")
    order = await context.state.store.orders.get(row_id)
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 12) or order is None:
        context.data.screen = FOUND_SCREEN + str(row_id)
        await show(
            update, context, t._("Send the order id in digits, like 123456."), new_message=True
        )
        return
    panel_id = int(digits)
    try:
        result = await context.state.unknown.attach(order, panel_id, by_admin=True)
    except PanelFailure as exc:
        context.data.screen = FOUND_SCREEN + str(row_id)
        await show(update, context, failure_text(t, exc), new_message=True)
        return
    if isinstance(result, Attached):
        text = t._("✅ Attached: order {id} is followed, the money stays paid.").format(id=digits)
        context.state.tracker.deliver_soon(context.bot)
    elif result is NotAttached.NOT_WAITING:
        text = t._("This order was resolved already.")
    else:
        context.data.screen = FOUND_SCREEN + str(row_id)
        text = not_attached_text(t, result, order.id, panel_id)
    await show(update, context, text, new_message=True)


async def unknown_not_placed(update: Update, context: BotContext) -> None:
    """An admin: the order of unknown outcome was not placed; its money goes back (once)."""
    args = cb.UNKNOWN_NOT_PLACED.parse(
        update.callback_query.data if update.callback_query else None
    )
    t = context.t
    order = await context.state.store.orders.get(int(args[0])) if args else None
    marked = await context.state.unknown.not_placed(order, by_admin=True) if order else None
    if not isinstance(marked, Order):
        await answer_query(update, context, t._("This order was resolved already."))
        return
    context.state.tracker.deliver_soon(context.bot)
    text = t._("↩️ Marked not placed: {amount} went back to the wallet of user {user}.").format(
        amount=t.money(marked.refunded, marked.currency or _currency(context)), user=marked.user_id
    )
    await show(update, context, text)


def _admins_only(callback: Callable[[Update, BotContext], Awaitable[None]]) -> Any:
    """An admin's button: anyone else gets "expired"."""

    async def guarded(update: Update, context: BotContext) -> None:
        user = update.effective_user
        if user is None or not context.state.settings.is_admin(user.id):
            await expired(update, context)
            return
        await callback(update, context)

    return guarded


def register(application: Application) -> None:  # type: ignore[type-arg]
    """Only in shop mode (WALLETS=on): otherwise these commands are unknown."""
    if not application.bot_data.settings.wallets:
        return
    admins = filters.User(user_id=application.bot_data.settings.admin_ids, allow_empty=False)
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
        (cb.TOP_UP, top_up),
        (cb.TOP_UP_AMOUNT, top_up_amount),
        (cb.DEPOSIT_APPROVE, _admins_only(decide)),
        (cb.DEPOSIT_REJECT, _admins_only(decide)),
        (cb.DEPOSIT_OPEN, _admins_only(deposit_open)),
        (cb.UNKNOWN_PLACED, _admins_only(unknown_placed)),
        (cb.UNKNOWN_NOT_PLACED, _admins_only(unknown_not_placed)),
        (cb.WALLET_PAGE, _admins_only(wallet_page)),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=button.matches))
    application.add_handler(MessageHandler(filters.PHOTO & filters.ChatType.PRIVATE, proof_photo))
