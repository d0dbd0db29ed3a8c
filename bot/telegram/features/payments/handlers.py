"""Automatic top-ups, the customer's side: the ways to pay an amount, a payment opened (a
Stars invoice, a gateway's QR, a gateway-free QRIS), Check, Telegram's pre-checkout and
successful payment; and an admin's Stars refund (/refundstars)."""

from __future__ import annotations

import logging
from decimal import Decimal

from telegram import InputFile, LabeledPrice, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot.core.payments import PaymentMethod
from bot.core.records import DepositState
from bot.core.shop import TopUpRefusal
from bot.core.topups import (
    STARS_CURRENCY,
    Choice,
    GatewayDown,
    ManualChosen,
    NotOffered,
    PaymentOpened,
    QrisOpened,
    RefundRefusal,
    Settled,
    StarsInvoice,
)
from bot.telegram import callback as cb
from bot.telegram.context import Awaiting, BotContext, Expecting
from bot.telegram.features.payments.screens import (
    checked_text,
    choices_keyboard,
    choose_text,
    gateway_down_text,
    payment_keyboard,
    payment_text,
    qris_keyboard,
    qris_text,
)
from bot.telegram.features.wallet import manual
from bot.telegram.render.keyboards import markup, menu_button
from bot.telegram.render.text import escape, shorten
from bot.telegram.replies import answer_query, expired, home_menu, show, too_fast

log = logging.getLogger(__name__)

CAPTION = 1024
"""The longest caption Telegram takes under a photo."""


async def offer(update: Update, context: BotContext, amount: Decimal) -> bool:
    """After a top-up's amount: the ways to pay it (straight to the one when there is one).
    False when only the manual receipt is offered (the wallet feature goes on with it)."""
    choices = context.state.topups.choices()
    if not context.state.topups.automatic or choices == [Choice(PaymentMethod.MANUAL)]:
        return False
    if not choices:  # the wallets are not in rupiah, and only rupiah methods are enabled
        t = context.t
        text = t._("No way to pay a top-up is available right now. Ask the operator.")
        await show(update, context, text, home_menu(context), new_message=True)
        return True
    if len(choices) == 1:
        if not await too_fast(update, context):
            await pay(update, context, amount, choices[0])
        return True
    t = context.t
    currency = context.state.currency.code
    await show(
        update,
        context,
        choose_text(t, amount, currency),
        choices_keyboard(t, choices, amount, currency),
        new_message=True,
    )
    return True


async def pay_with(update: Update, context: BotContext) -> None:
    """A way to pay tapped."""
    args = cb.PAY_WITH.parse(update.callback_query.data if update.callback_query else None)
    if args is None:
        await expired(update, context)
        return
    try:
        method = PaymentMethod(args[0])
    except ValueError:
        await expired(update, context)
        return
    channel = None if args[1] == "-" else args[1]
    amount = Decimal(args[2]) * context.state.shop.unit
    if await too_fast(update, context):
        return
    await pay(update, context, amount, Choice(method, channel))


async def pay(update: Update, context: BotContext, amount: Decimal, choice: Choice) -> None:
    """A top-up paid the chosen way (the caller checked the user's pace)."""
    t = context.t
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return
    topups = context.state.topups
    started = await topups.start(context.actor, amount, choice, user.full_name)
    currency = context.state.currency.code
    match started:
        case NotOffered():
            await expired(update, context)
        case ManualChosen():
            await manual.open_manual(update, context, amount)
        case TopUpRefusal():
            await manual.refused(update, context, started)
        case StarsInvoice():
            await answer_query(update, context)
            try:
                await context.bot.send_invoice(
                    chat.id,
                    title=t._("Wallet top-up"),
                    description=t._("{amount} for your wallet").format(
                        amount=t.money(started.amount, started.currency)
                    ),
                    payload=started.payload,
                    provider_token="",
                    currency=STARS_CURRENCY,
                    prices=[LabeledPrice(t._("Top-up"), started.stars)],
                )
            except TelegramError as exc:
                log.warning("a Stars invoice was not sent: %s", exc)
                await show(
                    update,
                    context,
                    t._("Telegram did not take the invoice just now. Try again in a moment."),
                    home_menu(context),
                    new_message=True,
                )
        case PaymentOpened():
            await answer_query(update, context)
            payment = started.payment
            steps = started.instructions
            text = payment_text(t, payment, steps)
            while len(text) > CAPTION and steps:  # a photo's caption is short: fewer steps
                steps = steps[:-1]
                text = payment_text(t, payment, steps)
            keyboard = payment_keyboard(t, payment)
            if started.qr_png is not None:
                await context.bot.send_photo(
                    chat.id,
                    InputFile(started.qr_png, filename="qris.png"),
                    caption=text,
                    reply_markup=keyboard,
                )
            else:
                await show(update, context, text, keyboard, new_message=True)
        case QrisOpened():
            await answer_query(update, context)
            context.data.awaiting = Awaiting(Expecting.DEPOSIT_PROOF)
            await context.bot.send_photo(
                chat.id,
                InputFile(started.qr_png, filename="qris.png"),
                caption=qris_text(t, started.asked, started.to_pay, currency),
                reply_markup=qris_keyboard(t, started.deposit.id),
            )
        case GatewayDown():
            others = [c for c in topups.choices() if c.method is not started.method]
            await show(
                update,
                context,
                gateway_down_text(t, started.method, started.reason),
                choices_keyboard(t, others, amount, currency),
                new_message=True,
            )


async def check(update: Update, context: BotContext) -> None:
    args = cb.PAY_CHECK.parse(update.callback_query.data if update.callback_query else None)
    if args is None or await too_fast(update, context):
        if args is None:
            await expired(update, context)
        return
    checked = await context.state.topups.check(context.actor, args[0])
    if checked is None:
        await expired(update, context)
        return
    t = context.t
    context.state.tracker.deliver_soon(context.bot)
    payment = checked.payment
    keyboard = payment_keyboard(t, payment) if payment.state == "pending" else home_menu(context)
    await show(
        update, context, checked_text(t, payment, checked.unavailable), keyboard, new_message=True
    )


async def qris_paid(update: Update, context: BotContext) -> None:
    """The customer paid a gateway-free QRIS: the admins get its card (the exact amount)."""
    args = cb.QRIS_PAID.parse(update.callback_query.data if update.callback_query else None)
    user = update.effective_user
    deposit = await context.state.shop.get_deposit(args[0]) if args and user else None
    if (
        deposit is None
        or user is None
        or deposit.user_id != user.id
        or deposit.method != PaymentMethod.QRIS.value
        or deposit.state is not DepositState.AWAITING_PROOF
    ):  # another's, or replaced since (the one proven is the user's only one waiting)
        await expired(update, context)
        return
    await manual.proven(update, context, "qris", "")


async def pre_checkout(update: Update, context: BotContext) -> None:
    """Telegram asks whether to take the Stars: yes only for the user's own open top-up of
    exactly that many Stars (answered within Telegram's 10 s: one read of the database)."""
    query = update.pre_checkout_query
    if query is None:
        return
    ok = await context.state.topups.pre_checkout(
        query.from_user.id, query.invoice_payload, query.currency, query.total_amount
    )
    t = context.t
    error = None if ok else t._("This top-up is closed or changed. Start a new one in /balance.")
    try:
        await query.answer(ok=ok, error_message=error)
    except TelegramError as exc:
        log.warning("a pre-checkout query was not answered: %s", exc)


async def successful_payment(update: Update, context: BotContext) -> None:
    """Telegram took the Stars: credited once per charge (the notice tells the customer)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.successful_payment is None:
        return
    paid = message.successful_payment
    outcome = await context.state.topups.stars_paid(
        user.id,
        paid.invoice_payload,
        paid.currency,
        paid.total_amount,
        paid.telegram_payment_charge_id,
    )
    context.state.tracker.deliver_soon(context.bot)
    if outcome in (Settled.UNKNOWN, Settled.REFUSED):
        t = context.t
        await show(
            update,
            context,
            t._(
                "Your payment could not be matched to an open top-up. The admins were told; "
                "they give your Stars back."
            ),
            home_menu(context),
            new_message=True,
        )


async def refund_stars(update: Update, context: BotContext) -> None:
    """/refundstars <top-up id>: an admin gives a Stars top-up back, its amount taken from
    the wallet in the same step."""
    t = context.t
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit():
        usage = t._("Send /refundstars and the top-up's number, like /refundstars 12.")
        await show(update, context, usage, markup([[menu_button(t)]]))
        return

    async def give_back(user_id: int, charge_id: str) -> object:
        return await context.bot.refund_star_payment(user_id, charge_id)

    try:
        done = await context.state.topups.refund_stars(context.actor, int(args[0]), give_back)
    except TelegramError as exc:
        text = t._("Telegram refused the refund: {words}. Nothing was taken from the wallet.")
        words = escape(shorten(str(exc), 200))
        await show(update, context, text.format(words=words), markup([[menu_button(t)]]))
        return
    match done:
        case RefundRefusal.NOT_STARS | RefundRefusal.NOT_ADMIN:
            text = t._("Top-up #{id} was not paid with Stars.").format(id=args[0])
        case RefundRefusal.NOT_PAID:
            text = t._("Top-up #{id} is not credited, or was refunded already.").format(id=args[0])
        case RefundRefusal.SPENT:
            text = t._(
                "The wallet no longer holds the amount of top-up #{id}: it was spent. Nothing "
                "was refunded."
            ).format(id=args[0])
        case _:
            currency = context.state.currency.code
            text = t._(
                "↩️ {stars} Stars of top-up #{id} given back to user {user}; {amount} taken "
                "from the wallet (now {balance})."
            ).format(
                stars=done.stars,
                id=done.deposit_id,
                user=done.user_id,
                amount=t.money(done.amount, currency),
                balance=t.money(done.balance, currency),
            )
            context.state.tracker.deliver_soon(context.bot)
    await show(update, context, text, markup([[menu_button(t)]]))


def register(application: Application, wallets: bool, admin_ids: frozenset[int]) -> None:  # type: ignore[type-arg]
    """Only in shop mode (WALLETS=on)."""
    if not wallets:
        return
    application.add_handler(CallbackQueryHandler(pay_with, pattern=cb.PAY_WITH.matches))
    application.add_handler(CallbackQueryHandler(check, pattern=cb.PAY_CHECK.matches))
    application.add_handler(CallbackQueryHandler(qris_paid, pattern=cb.QRIS_PAID.matches))
    application.add_handler(PreCheckoutQueryHandler(pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, successful_payment))
    admins = filters.User(user_id=admin_ids, allow_empty=False)
    application.add_handler(CommandHandler("refundstars", refund_stars, filters=admins))
