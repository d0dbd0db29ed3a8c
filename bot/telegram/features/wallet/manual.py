"""The manual top-up (shop mode): the operator's instructions for an amount, the customer's
proof, a top-up refused or canceled. Reached from the wallet's Top up and from the ways to
pay (payments), which it imports neither of."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from telegram import Update

from bot.core.promo import PromoRefusal
from bot.core.records import Deposit
from bot.core.shop import TopUpRefusal
from bot.telegram import callback as cb
from bot.telegram.context import Awaiting, BotContext, Expecting
from bot.telegram.features.promo.screens import refusal_text
from bot.telegram.features.wallet.screens import whole_amount_text
from bot.telegram.render.keyboards import Button, markup, menu_button
from bot.telegram.render.text import escape
from bot.telegram.replies import expired, home_menu, show, too_fast


def waiting_text(context: BotContext, deposit: Deposit) -> str:
    t = context.t
    return t._(
        "Your top-up of {amount}, sent {when}, is waiting for an admin. You can top up again "
        "once it is decided."
    ).format(
        amount=t.money(deposit.amount, context.state.currency.code),
        when=t.datetime(datetime.fromtimestamp(deposit.created_at, tz=UTC)),
    )


async def proof_text(update: Update, context: BotContext, text: str) -> None:
    """The reference of a payment typed after a top-up's instructions."""
    await proven(update, context, "text", text)


async def refused(update: Update, context: BotContext, refusal: TopUpRefusal) -> None:
    """A top-up not opened: the earlier one waits for an admin, or the amount is not one."""
    shop = context.state.shop
    user = update.effective_user
    if refusal is TopUpRefusal.WAITING and user is not None:
        waiting = await shop.waiting_deposit(user.id)
        if waiting is not None:
            await show(update, context, waiting_text(context, waiting), home_menu(context))
            return
    context.data.awaiting = Awaiting(Expecting.TOP_UP_AMOUNT)
    menu = markup([[menu_button(context.t)]])  # the amount is asked again
    await show(update, context, _amount_refused(context, refusal), menu, new_message=True)


async def open_manual(
    update: Update, context: BotContext, amount: Decimal, code: str | None = None
) -> None:
    """The manual receipt flow: the operator's instructions, then a proof."""
    t = context.t
    shop = context.state.shop
    user = update.effective_user
    if user is None:
        await expired(update, context)
        return
    if not shop.deposit_instructions:
        if code is None:
            await expired(update, context)
            return
        context.data.awaiting = Awaiting(Expecting.TOP_UP_AMOUNT)
        text = t._(
            "Promo codes go with a top-up an admin approves, which this shop does not take. "
            "Send the amount without the code."
        )
        await show(update, context, text, markup([[menu_button(t)]]), new_message=True)
        return
    currency = context.state.currency.code
    opened = await shop.open_deposit(user.id, amount, code)
    if isinstance(opened, PromoRefusal):
        context.data.awaiting = Awaiting(Expecting.TOP_UP_AMOUNT)
        text = (
            refusal_text(t, opened, code or "")
            + "\n"
            + t._("Send the amount again, with another code or without one.")
        )
        await show(update, context, text, markup([[menu_button(t)]]), new_message=True)
        return
    if isinstance(opened, TopUpRefusal):
        await refused(update, context, opened)
        return
    context.data.awaiting = Awaiting(Expecting.DEPOSIT_PROOF)
    text = "\n\n".join(
        (
            t._("➕ Top-up of <b>{amount}</b>").format(amount=t.money(opened.amount, currency))
            + (
                "\n"
                + t._("🎟 Promo code {code}: its bonus comes with the top-up.").format(
                    code=escape(code.upper())
                )
                if code
                else ""
            ),
            escape(shop.deposit_instructions),
            t._(
                "When you have paid, send a photo of the receipt here, or its reference as "
                "text. An admin checks it and credits your wallet."
            ),
        )
    )
    cancel = Button(t._("✖️ Cancel the top-up"), callback_data=cb.TOP_UP_CANCEL())
    await show(update, context, text, markup([[cancel, menu_button(t)]]), new_message=True)


async def cancel_top_up(update: Update, context: BotContext) -> None:
    """✖️ on the top-up's instructions: dropped, unless its proof was sent already."""
    t = context.t
    user = update.effective_user
    if user is None:
        return
    if await context.state.shop.cancel_deposit(user.id):
        text = t._("Top-up canceled. Nothing is waiting for your payment.")
    else:
        text = t._("No top-up is waiting for a payment: one whose proof was sent is checked.")
    await show(update, context, text, home_menu(context))


def _amount_refused(context: BotContext, refusal: TopUpRefusal) -> str:
    t = context.t
    shop = context.state.shop
    currency = context.state.currency.code
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
    await proven(update, context, "photo", message.photo[-1].file_id)


async def proven(update: Update, context: BotContext, kind: str, proof: str) -> None:
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
