"""/stats, for admins: users, orders, panel health and the tracker's last cycle."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.core.records import DAY
from bot.telegram.context import BotContext
from bot.telegram.ui.shop import money_lines
from bot.telegram.ui.text import escape, order_state_text
from telegram import Update
from telegram.ext import Application, CommandHandler, filters


async def stats(update: Update, context: BotContext) -> None:
    t = context.t
    state = context.state
    store = state.store
    now = state.clock()
    midnight = datetime.fromtimestamp(now, tz=UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    lines = [
        t._("<b>Statistics</b>"),
        "",
        t._("Users: {n}").format(n=t.number(await store.users.count())),
        t._("Orders today: {n}").format(
            n=t.number(await store.orders.count_since(midnight.timestamp()))
        ),
        t._("Orders by status:"),
    ]
    counts = await store.orders.counts_by_status()
    lines += [
        f"  {escape(order_state_text(t, status))}: {t.number(n)}"
        for status, n in sorted(counts.items(), key=lambda item: -item[1])
    ]
    if not counts:
        lines.append("  —")
    panel = state.panel
    last = (
        t.datetime(datetime.fromtimestamp(panel.last_success, tz=UTC))
        if panel.last_success
        else t._("never")
    )
    lines += [
        "",
        t._("Panel: last successful call {when}, failures in a row: {n}").format(
            when=last, n=t.number(panel.failures_in_a_row)
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
    lines.append(t._("Notifications waiting: {n}").format(n=t.number(await store.outbox.count())))
    if state.shop.on:
        today = midnight.timestamp()
        periods = (
            (t._("Today"), today),
            (t._("7 days"), now - 7 * DAY),
            (t._("30 days"), now - 30 * DAY),
        )
        figures = await state.shop.money_since(moment for _, moment in periods)
        labelled = [(label, f) for (label, _), f in zip(periods, figures, strict=True)]
        lines += ["", *money_lines(t, labelled, state.currency.code)]
    await context.bot.send_message(update.effective_chat.id, "\n".join(lines))  # type: ignore[union-attr]


def register(application: Application) -> None:  # type: ignore[type-arg]
    admins = application.bot_data.settings.admin_ids
    application.add_handler(
        CommandHandler("stats", stats, filters=filters.User(user_id=admins, allow_empty=False))
    )
