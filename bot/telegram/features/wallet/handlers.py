"""Shop mode, the customer's side: the wallet in /balance, and top-ups (an amount, the
instructions, a proof; the admins decide in `bot.telegram.features.admin`)."""

from __future__ import annotations

import logging
from decimal import Decimal

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.core.amounts import typed_amount as typed_amount_of
from bot.core.promo import CODE as PROMO_CODE
from bot.core.records import PromoKind
from bot.telegram import callback as cb
from bot.telegram.context import Awaiting, BotContext, Expecting
from bot.telegram.features.payments import handlers as payments
from bot.telegram.features.wallet import manual
from bot.telegram.features.wallet.screens import (
    wallet_text,
)
from bot.telegram.render.keyboards import (
    markup,
    menu_button,
    top_up_button,
    wallet_keyboard,
)
from bot.telegram.replies import (
    expired,
    home_menu,
    show,
    too_fast,
)

log = logging.getLogger(__name__)


# -- the user's side -------------------------------------------------------------------------


async def show_wallet(update: Update, context: BotContext) -> None:
    """/balance of a user who pays from a wallet (and their top-up waiting, if any)."""
    shop = context.state.shop
    user_id = context.actor.user_id
    wallet = await shop.wallet(user_id)
    waiting = await shop.waiting_deposit(user_id)
    text = wallet_text(context.t, wallet, context.state.currency.code, waiting)
    referrals = context.state.referrals.on
    await show(update, context, text, wallet_keyboard(context.t, shop.takes_deposits, referrals))


def _presets(context: BotContext) -> list[Decimal]:
    """Top-up amounts offered as buttons: from the minimum to the maximum."""
    base = [Decimal(n) for n in (50_000, 100_000, 250_000, 500_000)]
    if context.state.currency.code not in ("IDR", ""):
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
    if waiting is not None and not context.state.topups.automatic:
        await show(update, context, manual.waiting_text(context, waiting), home_menu(context))
        return
    currency = context.state.currency.code
    text = t._("➕ <b>Top up</b>\n\nHow much? Tap an amount or type one.")
    if shop.deposit_min > 0:
        text += "\n" + t._("At least {amount}.").format(amount=t.money(shop.deposit_min, currency))
    if await context.state.promos.offers(PromoKind.TOP_UP):
        text += "\n\n" + t._(
            "🎟 Have a promo code? Type the amount and the code, like {example}."
        ).format(example="<code>100000 CODE</code>")
    buttons = [top_up_button(t, amount, currency) for amount in _presets(context)]
    context.data.awaiting = Awaiting(Expecting.TOP_UP_AMOUNT)
    await show(update, context, text, markup([buttons[:2], buttons[2:], [menu_button(t)]]))


async def top_up_amount(update: Update, context: BotContext) -> None:
    args = cb.TOP_UP_AMOUNT.parse(update.callback_query.data if update.callback_query else None)
    if args is None:
        await expired(update, context)
        return
    await _open_deposit(update, context, Decimal(args[0]) * context.state.shop.unit)


async def typed_amount(update: Update, context: BotContext, text: str) -> None:
    """The amount typed after Top up, and a promo code after it if any ("100000 BONUS")."""
    words = text.split()
    code = None
    if len(words) >= 2 and PROMO_CODE.match(words[-1].upper()) and not words[-1].isdigit():
        code = words[-1]
        text = " ".join(words[:-1])
    amount = typed_amount_of(text)
    if amount is None:
        context.data.awaiting = Awaiting(Expecting.TOP_UP_AMOUNT)
        t = context.t
        await show(
            update,
            context,
            t._("That is not an amount. Send digits, like 100000."),
            markup([[menu_button(t)]]),
            new_message=True,
        )
        return
    await _open_deposit(update, context, amount, code)


async def _open_deposit(
    update: Update, context: BotContext, amount: Decimal, code: str | None = None
) -> None:
    """The ways to pay offered (automatic ones first); a promo code goes with the manual
    top-up, where an admin approves its bonus."""
    shop = context.state.shop
    user = update.effective_user
    if user is None or not shop.takes_deposits:
        await expired(update, context)
        return
    refusal = shop.top_up_refusal(amount)
    if refusal is not None:
        await manual.refused(update, context, refusal)
        return
    if code is None and await payments.offer(update, context, amount):
        return
    if await too_fast(update, context):
        return
    await manual.open_manual(update, context, amount, code)


def register(application: Application, wallets: bool) -> None:  # type: ignore[type-arg]
    """Only in shop mode (WALLETS=on)."""
    if not wallets:
        return
    application.add_handler(CallbackQueryHandler(top_up, pattern=cb.TOP_UP.matches))
    application.add_handler(
        CallbackQueryHandler(manual.cancel_top_up, pattern=cb.TOP_UP_CANCEL.matches)
    )
    application.add_handler(CallbackQueryHandler(top_up_amount, pattern=cb.TOP_UP_AMOUNT.matches))
    # A photo is routed by the gate (`route_photo`): a ticket's, or a top-up's proof.
