"""The screens of checkout: a question of the order's type, the summary's buttons, and what
became of a submission."""

from __future__ import annotations

from decimal import Decimal

from telegram import InlineKeyboardMarkup

from bot.core.api import Service, ServiceType
from bot.core.drafts import DRIP_FEED_STEP, OrderDraft, Quote, quantity_presets
from bot.core.order_types import FieldKind, OrderType
from bot.core.panel import OutcomeUnknown, failure_from_text
from bot.core.records import Order, Outcome, Wallet
from bot.telegram import callback as cb
from bot.telegram.i18n import Translator
from bot.telegram.render.keyboards import Button, markup
from bot.telegram.render.orders import fields_block, order_card
from bot.telegram.render.services import per_thousand
from bot.telegram.render.text import (
    choice_label,
    escape,
    failure_text,
    field_label,
    field_prompt,
    lost_answer_text,
    shorten,
)

EDITS_PER_ROW = 2
SHORT_CHOICE = 12
"""Choices whose labels are at most this long go four to a row."""


def question_text(
    t: Translator, step: str, service: Service, order_type: OrderType, *, card: str = ""
) -> str:
    """The question of `step`; `card`: the service's card, shown above the first question
    (a service chosen from a list opens its order at once)."""
    head = (card or f"<b>{escape(shorten(service.name, 120))}</b>") + "\n\n"
    if step == DRIP_FEED_STEP:
        return head + t._("Deliver in several runs (drip-feed)?")
    spec = order_type.field(step)
    return head + f"<b>{field_label(t, step)}</b>\n" + field_prompt(t, spec, service)


def question_keyboard(
    t: Translator,
    step: str,
    order_type: OrderType,
    turn: int,
    *,
    service: Service | None = None,
    starred: bool | None = None,
) -> InlineKeyboardMarkup:
    """The choices of a question (if any), the quantities of the service's range (for a
    quantity), Skip for an optional one, ☆ favourites on the first question (`starred` not
    None), Back and Cancel."""
    rows: list[list[Button]] = []
    if step == DRIP_FEED_STEP:
        rows.append(
            [
                Button(t._("Yes, drip-feed"), callback_data=cb.DRIP_FEED(turn, 1)),
                Button(t._("No, all at once"), callback_data=cb.DRIP_FEED(turn, 0)),
            ]
        )
    else:
        spec = order_type.field(step)
        if spec.kind is FieldKind.CHOICE:
            buttons = [
                Button(choice_label(t, spec.name, value), callback_data=cb.CHOICE(turn, value))
                for value in spec.choices
            ]
            # Short choices (the delays) four to a row; long ones one to a row.
            per_row = 4 if max(len(b.text) for b in buttons) <= SHORT_CHOICE else 1
            rows += [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
        if spec.name == order_type.quantity_field and spec.service_bounds and service:
            presets = quantity_presets(service.min, service.max)
            rows.append([Button(t.number(n), callback_data=cb.NUMBER(turn, n)) for n in presets])
        if spec.optional and not spec.drip_feed:
            rows.append([Button(t._("Skip ⏭"), callback_data=cb.SKIP(turn))])
    if starred is not None and service is not None:
        rows.append(
            [
                Button(
                    t._("★ In favourites") if starred else t._("☆ Add to favourites"),
                    callback_data=cb.STAR(service.id),
                )
            ]
        )
    rows.append(
        [
            Button(t._("◀️ Back"), callback_data=cb.BACK(turn)),
            Button(t._("✖️ Cancel"), callback_data=cb.ABORT()),
        ]
    )
    return markup(rows)


def summary_keyboard(
    t: Translator,
    draft: OrderDraft,
    top_up: Button | None = None,
    *,
    payable: bool = True,
    drip_feed: bool = False,
) -> InlineKeyboardMarkup:
    """Confirm (when the wallet can pay: else `top_up`, a Top up of what is missing), an ✏️
    button per answer, the drip-feed option (`drip_feed`: the service offers it), Back and
    Cancel."""
    turn = draft.turn
    edits = [
        Button("✏️ " + field_label(t, name), callback_data=cb.EDIT(turn, name))
        for name in draft.values
    ]
    first = [Button(t._("✅ Confirm order"), callback_data=cb.CONFIRM(draft.key, turn))]
    if not payable:
        first = [top_up] if top_up is not None else []
    option = []
    if drip_feed:
        option = [
            Button(t._("📦 All at once instead"), callback_data=cb.DRIP_FEED(turn, 0))
            if draft.drip_feed
            else Button(t._("💧 Drip-feed (in runs)"), callback_data=cb.DRIP_FEED(turn, 1))
        ]
    return markup(
        [
            first,
            *(edits[i : i + EDITS_PER_ROW] for i in range(0, len(edits), EDITS_PER_ROW)),
            option,
            [
                Button(t._("◀️ Back"), callback_data=cb.BACK(turn)),
                Button(t._("✖️ Cancel"), callback_data=cb.ABORT()),
            ],
        ]
    )


def same_link_warning(t: Translator, active: list[Order]) -> str:
    """The user already has unfinished orders for this link: panels refuse a second one or
    deliver less."""
    numbers = ", ".join(
        f"#{o.panel_order_id}" if o.panel_order_id else t._("one of unknown outcome")
        for o in active[:5]
    )
    return t.n_(
        "⚠️ You already have an unfinished order for this link ({orders}). Many panels refuse "
        "a second one, or deliver less.",
        "⚠️ You already have unfinished orders for this link ({orders}). Many panels refuse "
        "another one, or deliver less.",
        len(active),
    ).format(orders=numbers)


def rejection_text(t: Translator, error: str) -> str:
    """Why a submission was not placed, from what was stored of it."""
    return failure_text(t, failure_from_text(error))


def outcome_text(t: Translator, row: Order) -> str:
    """What became of a submission."""
    if row.outcome is Outcome.PLACED:
        return t._("✅ Order placed.") + "\n\n" + order_card(t, row)
    if row.outcome is Outcome.UNKNOWN and row.paid is not None:
        lost = lost_answer_text(t, OutcomeUnknown(row.error or "").lost)
        held = t._(
            "It is not known yet whether the order went through: the operator checks it. The "
            "money stays held until then, and comes back if it was not placed."
        )
        return "⚠️ " + lost + " " + held + "\n\n" + order_card(t, row)
    if row.outcome is Outcome.UNKNOWN:
        failure = OutcomeUnknown(row.error or "")
        return "⚠️ " + failure_text(t, failure) + "\n\n" + order_card(t, row)
    if row.outcome is Outcome.SUBMITTING:
        return t._("⏳ This order is being placed. Look at My orders in a moment.")
    return "❌ " + rejection_text(t, row.error or "")


def duration_text(t: Translator, minutes: int) -> str:
    """About how long, in the largest unit that fits: days, hours or minutes."""
    if minutes >= 2 * 24 * 60:
        days = round(minutes / (24 * 60))
        return t.n_("{n} day", "{n} days", days).format(n=t.number(days))
    if minutes >= 120:
        hours = round(minutes / 60)
        return t.n_("{n} hour", "{n} hours", hours).format(n=t.number(hours))
    return t.n_("{n} minute", "{n} minutes", minutes).format(n=t.number(minutes))


def _summary_details(t: Translator, offer: Quote, currency: str) -> tuple[list[str], str]:
    """The lines that explain what the price is made of, and the price line itself."""
    fields, rate = offer.fields, per_thousand(t, offer.service, currency)
    price = t.money(offer.price, currency)
    if "runs" in fields and "interval" in fields:
        runs, each, interval = int(fields["runs"]), int(fields["quantity"]), int(fields["interval"])
        lines = [
            t._("Drip-feed: {runs} runs × {each} = <b>{total}</b> in all").format(
                runs=t.number(runs), each=t.number(each), total=t.number(runs * each)
            ),
            t._("One run every {interval} min, over about {duration}").format(
                interval=t.number(interval), duration=duration_text(t, (runs - 1) * interval)
            ),
        ]
        return lines, t._("Price: <b>{price}</b> ({total} at {rate})").format(
            price=price, total=t.number(runs * each), rate=rate
        )
    if offer.service.type is ServiceType.SUBSCRIPTIONS:
        lines = []
        if "posts" not in fields:
            lines.append(t._("Posts: unlimited (until it expires or is canceled)"))
        if "expiry" not in fields:
            lines.append(t._("Expiry: none"))
        if "posts" in fields:
            return lines, t._(
                "Price: up to <b>{price}</b> ({posts} posts, at most {max} each)"
            ).format(
                price=price, posts=t.number(int(fields["posts"])), max=t.number(int(fields["max"]))
            )
        return lines, t._("Price: up to <b>{price}</b> per post ({rate})").format(
            price=price, rate=rate
        )
    return [], t._("Price: <b>{price}</b>").format(price=price)


def summary(
    t: Translator,
    offer: Quote,
    currency: str,
    balance: Decimal | None,
    *,
    wallet: Wallet | None = None,
) -> str:
    """`balance`: the panel's; `wallet`: the user's (shop mode), shown with what it holds
    after the order and, apart, the credit limit."""
    details, price_line = _summary_details(t, offer, currency)
    explained = ("runs", "interval") if details and "runs" in offer.fields else ()
    shown = {name: value for name, value in offer.fields.items() if name not in explained}
    lines = [
        t._("<b>Check your order</b>"),
        "",
        t._("Service: {name}").format(name=escape(shorten(offer.service.name, 200))),
        *fields_block(t, shown),
    ]
    if offer.quantity is not None and "quantity" not in offer.fields:
        lines.append(t._("Quantity: {n}").format(n=t.number(offer.quantity)))
    lines += [*details, "", price_line]
    if balance is not None:
        lines.append(t._("Balance: {balance}").format(balance=t.money(balance, currency)))
        if balance < offer.price:
            lines += ["", t._("⚠️ Your balance is too low for this order.")]
    if wallet is not None:
        lines += wallet_after(t, wallet, offer.price, currency)
    return "\n".join(lines)


def wallet_after(t: Translator, wallet: Wallet, price: Decimal, currency: str) -> list[str]:
    """What the wallet holds, what it will hold after paying `price`, its credit limit apart,
    and what is missing when it cannot pay."""
    lines = [
        t._("Wallet: {wallet} → after the order: {after}").format(
            wallet=t.money(wallet.balance, currency),
            after=t.money(wallet.balance - price, currency),
        )
    ]
    if wallet.credit_limit:
        lines.append(
            t._("Credit limit: {limit}").format(limit=t.money(wallet.credit_limit, currency))
        )
    missing = wallet.short_of(price)
    if missing:
        lines += [
            "",
            t._("⚠️ Your wallet is {missing} short: top up first.").format(
                missing=t.money(missing, currency)
            ),
        ]
    return lines
