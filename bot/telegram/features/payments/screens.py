"""The automatic top-ups' screens: the ways to pay, a payment to make (its QR, amount, expiry),
its state when checked, and the notices (closed unpaid, Stars refunded, an admin's alert)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from telegram import InlineKeyboardButton as Button
from telegram import InlineKeyboardMarkup

from bot.core.money import currency_unit
from bot.core.notices import PaymentAlert, PaymentClosed, StarsRefunded
from bot.core.payments import PaymentMethod, PaymentState, StoredPayment
from bot.core.topups import Choice
from bot.telegram import callback as cb
from bot.telegram.i18n import N_, Translator
from bot.telegram.render.keyboards import markup, menu_button
from bot.telegram.render.text import escape, shorten

METHOD_NAMES = {
    PaymentMethod.STARS: N_("⭐ Telegram Stars"),
    PaymentMethod.TRIPAY: N_("Tripay"),
    PaymentMethod.MIDTRANS: N_("QRIS (Midtrans)"),
    PaymentMethod.QRIS: N_("QRIS"),
    PaymentMethod.MANUAL: N_("🧾 Bank transfer (receipt)"),
}
PROBLEMS = {
    "bad_signature": N_("a callback with a wrong signature (forged, or the keys differ)"),
    "unknown_reference": N_("a payment the bot never opened"),
    "wrong_amount": N_("a payment of another amount or currency than its top-up"),
    "refunded": N_("a credited top-up refunded at the gateway (the credit stays)"),
    "paid_again": N_("Stars paid for a top-up that was paid or closed already"),
}


def method_name(t: Translator, method: PaymentMethod, channel: str | None = None) -> str:
    if method is PaymentMethod.TRIPAY and channel:
        return f"{escape(channel)} (Tripay)"  # a channel's code, a brand: not translated
    return t._(METHOD_NAMES[method])


def choice_button(t: Translator, choice: Choice, amount: Decimal, currency: str) -> Button:
    minor = int(amount / currency_unit(currency))
    data = cb.PAY_WITH(choice.method.value, choice.channel or "-", minor)
    return Button(method_name(t, choice.method, choice.channel), callback_data=data)


def choices_keyboard(
    t: Translator, choices: list[Choice], amount: Decimal, currency: str
) -> InlineKeyboardMarkup:
    rows = [[choice_button(t, choice, amount, currency)] for choice in choices]
    return markup([*rows, [menu_button(t)]])


def choose_text(t: Translator, amount: Decimal, currency: str) -> str:
    return t._("➕ Top-up of <b>{amount}</b>. How do you pay?").format(
        amount=t.money(amount, currency)
    )


def _when(t: Translator, moment: float) -> str:
    return t.datetime(datetime.fromtimestamp(moment, tz=UTC)) + " UTC"


def payment_text(t: Translator, payment: StoredPayment, instructions: tuple[str, ...] = ()) -> str:
    """A payment to make: what to pay, until when, how; the wallet is credited by itself."""
    currency = payment.currency
    lines = [
        t._("🧾 Top-up of <b>{amount}</b> with {method}").format(
            amount=t.money(payment.amount, currency),
            method=method_name(t, payment.method, payment.channel),
        ),
        t._("Pay exactly <b>{amount}</b> before {when}.").format(
            amount=t.money(payment.to_pay, currency), when=_when(t, payment.expires_at)
        ),
    ]
    if payment.to_pay != payment.amount:
        lines.append(t._("(The gateway's fee is included.)"))
    if payment.qr_string:
        lines.append(t._("Scan the QR code with any bank or e-wallet app (QRIS)."))
    if payment.pay_code:
        lines.append(t._("Pay code: <code>{code}</code>").format(code=escape(payment.pay_code)))
    if payment.pay_url and payment.pay_url.startswith("https://") and not payment.qr_string:
        link = escape(payment.pay_url).replace('"', "&quot;")
        lines.append(t._('Or pay on <a href="{link}">the payment page</a>.').format(link=link))
    for line in instructions[:8]:
        lines.append("• " + escape(shorten(line, 200)))
    lines.append(
        t._("Your wallet is credited by itself once it is paid; tap Check to ask right now.")
    )
    return "\n".join(lines)


def payment_keyboard(t: Translator, payment: StoredPayment) -> InlineKeyboardMarkup:
    rows = [[Button(t._("🔄 Check"), callback_data=cb.PAY_CHECK(payment.deposit_id))]]
    return markup([*rows, [menu_button(t)]])


def checked_text(t: Translator, payment: StoredPayment, unavailable: str | None) -> str:
    amount = t.money(payment.amount, payment.currency)
    match payment.state:
        case PaymentState.PAID:
            return t._("✅ Your top-up of {amount} is paid and credited.").format(amount=amount)
        case PaymentState.REFUNDED:
            return t._("Your top-up of {amount} was refunded.").format(amount=amount)
        case PaymentState.EXPIRED:
            return t._("⌛ Your top-up of {amount} expired unpaid.").format(amount=amount)
        case PaymentState.FAILED:
            return t._("Your top-up of {amount} was not paid: it is closed.").format(amount=amount)
    if unavailable:
        return t._(
            "The gateway cannot be asked right now ({reason}). Your top-up of {amount} is "
            "credited by itself once it is paid."
        ).format(reason=escape(shorten(unavailable, 200)), amount=amount)
    return t._("Not paid yet: your top-up of {amount} waits until {when}.").format(
        amount=amount, when=_when(t, payment.expires_at)
    )


def gateway_down_text(t: Translator, method: PaymentMethod, reason: str) -> str:
    return t._(
        "{method} cannot take this payment right now ({reason}). Nothing was charged. "
        "Choose another way to pay, or try again later."
    ).format(method=method_name(t, method), reason=escape(shorten(reason, 200)))


def qris_text(t: Translator, asked: Decimal, to_pay: Decimal, currency: str) -> str:
    return "\n".join(
        (
            t._("🧾 Top-up with QRIS: pay exactly <b>{amount}</b>").format(
                amount=t.money(to_pay, currency)
            ),
            t._(
                "That is {asked} and {extra} more, so that your payment can be told apart: "
                "your wallet gets all of {amount}."
            ).format(
                asked=t.money(asked, currency),
                extra=t.money(to_pay - asked, currency),
                amount=t.money(to_pay, currency),
            ),
            t._("Scan the QR code with any bank or e-wallet app, then tap “I have paid”."),
        )
    )


def qris_keyboard(t: Translator, deposit_id: int) -> InlineKeyboardMarkup:
    paid = Button(t._("✅ I have paid"), callback_data=cb.QRIS_PAID(deposit_id))
    return markup([[paid], [menu_button(t)]])


def payment_closed_text(t: Translator, notice: PaymentClosed) -> str:
    amount = t.money(notice.amount, notice.currency)
    if notice.expired:
        return t._(
            "⌛ Your top-up of {amount} was not paid in time and is closed. Start a new one "
            "with ➕ Top up."
        ).format(amount=amount)
    return t._(
        "Your top-up of {amount} was not paid (the payment failed or was cancelled) and is closed."
    ).format(amount=amount)


def stars_refunded_text(t: Translator, notice: StarsRefunded) -> str:
    return t._(
        "↩️ Your {stars} Stars of top-up #{id} were given back, and {amount} taken from your "
        "wallet. Wallet: <b>{balance}</b>"
    ).format(
        stars=notice.stars,
        id=notice.deposit,
        amount=t.money(notice.amount, notice.currency),
        balance=t.money(notice.balance, notice.currency),
    )


def payment_alert_text(t: Translator, notice: PaymentAlert) -> str:
    lines = [
        t._("⚠️ Payments ({method}): {problem}. Nothing was credited.").format(
            method=escape(notice.method),
            problem=t._(PROBLEMS[notice.problem])
            if notice.problem in PROBLEMS
            else escape(notice.problem),
        )
    ]
    if notice.problem == "refunded":
        lines[0] = t._("⚠️ Payments ({method}): {problem}.").format(
            method=escape(notice.method), problem=t._(PROBLEMS["refunded"])
        )
    if notice.reference:
        lines.append(t._("Reference: <code>{ref}</code>").format(ref=escape(notice.reference)))
    if notice.deposit:
        lines.append(t._("Top-up #{id}").format(id=notice.deposit))
    if notice.amount is not None:
        lines.append(
            t._("Said paid: {amount} {currency}").format(
                amount=t.number(notice.amount), currency=escape(notice.currency)
            )
        )
    if notice.detail:
        lines.append(escape(shorten(notice.detail, 200)))
    return "\n".join(lines)
