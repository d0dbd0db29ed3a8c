"""The screens of checkout: a question of the order's type, the summary's buttons, and what
became of a submission."""

from __future__ import annotations

from bot.core.api import Service
from bot.core.checkout import DRIP_FEED_STEP, OrderDraft
from bot.core.order_types import FieldKind, OrderType
from bot.core.panel import OutcomeUnknown, failure_from_text
from bot.core.records import Order, Outcome
from bot.telegram.i18n import Translator
from bot.telegram.ui import callback as cb
from bot.telegram.ui.format import order_card
from bot.telegram.ui.keyboards import Button, markup
from bot.telegram.ui.text import (
    choice_label,
    escape,
    failure_text,
    field_label,
    field_prompt,
    lost_answer_text,
    shorten,
)
from telegram import InlineKeyboardMarkup

EDITS_PER_ROW = 2
SHORT_CHOICE = 12
"""Choices whose labels are at most this long go four to a row."""


def question_text(t: Translator, step: str, service: Service, order_type: OrderType) -> str:
    head = f"<b>{escape(shorten(service.name, 120))}</b>\n\n"
    if step == DRIP_FEED_STEP:
        return head + t._("Deliver in several runs (drip-feed)?")
    spec = order_type.field(step)
    return head + f"<b>{field_label(t, step)}</b>\n" + field_prompt(t, spec, service)


def question_keyboard(
    t: Translator, step: str, order_type: OrderType, screen: int
) -> InlineKeyboardMarkup:
    """The choices of a question (if any), Skip for an optional one, Back and Cancel."""
    rows: list[list[Button]] = []
    if step == DRIP_FEED_STEP:
        rows.append(
            [
                Button(t._("Yes, drip-feed"), callback_data=cb.DRIP_FEED(screen, 1)),
                Button(t._("No, all at once"), callback_data=cb.DRIP_FEED(screen, 0)),
            ]
        )
    else:
        spec = order_type.field(step)
        if spec.kind is FieldKind.CHOICE:
            buttons = [
                Button(choice_label(t, spec.name, value), callback_data=cb.CHOICE(screen, value))
                for value in spec.choices
            ]
            # Short choices (the delays) four to a row; long ones one to a row.
            per_row = 4 if max(len(b.text) for b in buttons) <= SHORT_CHOICE else 1
            rows += [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
        if spec.optional and not spec.drip_feed:
            rows.append([Button(t._("Skip ⏭"), callback_data=cb.SKIP(screen))])
    rows.append(
        [
            Button(t._("◀️ Back"), callback_data=cb.BACK(screen)),
            Button(t._("✖️ Cancel"), callback_data=cb.ABORT()),
        ]
    )
    return markup(rows)


def summary_keyboard(
    t: Translator, draft: OrderDraft, top_up: Button | None = None, *, payable: bool = True
) -> InlineKeyboardMarkup:
    """Confirm (when the wallet can pay: else `top_up`, a Top up of what is missing), an ✏️
    button per answer, Back and Cancel."""
    screen = draft.screen
    edits = [
        Button("✏️ " + field_label(t, name), callback_data=cb.EDIT(screen, name))
        for name in draft.values
    ]
    first = [Button(t._("✅ Confirm order"), callback_data=cb.CONFIRM(draft.key, screen))]
    if not payable:
        first = [top_up] if top_up is not None else []
    return markup(
        [
            first,
            *(edits[i : i + EDITS_PER_ROW] for i in range(0, len(edits), EDITS_PER_ROW)),
            [
                Button(t._("◀️ Back"), callback_data=cb.BACK(screen)),
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
