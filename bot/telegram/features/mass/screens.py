"""Mass order screens: the prompt, the preview, the progress message and the report.

A preview or report of 100 lines is longer than one Telegram message:
`bot.telegram.render.text.pack` splits the lines into messages, closing and reopening a
monospace block where it cuts one."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from telegram import InlineKeyboardMarkup

from bot.core.api import Service
from bot.core.mass_order import (
    MAX_ORDERS,
    LineReport,
    LineResult,
    MassPlan,
    PlannedLine,
    Problem,
)
from bot.core.order_types import Issue
from bot.core.records import OrderFilter, Wallet
from bot.telegram import callback as cb
from bot.telegram.features.checkout.screens import rejection_text
from bot.telegram.i18n import Translator
from bot.telegram.render.keyboards import Button, markup, menu_button
from bot.telegram.render.orders import progress_bar
from bot.telegram.render.text import (
    Line,
    escape,
    field_label,
    issue_text,
    pack,
    short_link,
    shorten,
)

EXAMPLE_LINKS = ("https://instagram.com/p/abc", "https://youtube.com/watch?v=xyz")


def example(t: Translator, services: Sequence[Service]) -> str:
    """Order lines of services the catalogue has (two that a mass order takes), each at
    its minimum, with a comment between."""
    ids = [(s.id, max(s.min, 100) if s.max >= 100 else s.min) for s in services[:2]] or [(1, 1000)]
    lines = [f"{ids[0][0]}|{EXAMPLE_LINKS[0]}|{ids[0][1]}", "# " + t._("a comment")]
    if len(ids) > 1:
        lines.append(f"{ids[1][0]} | {EXAMPLE_LINKS[1]} | {ids[1][1]}")
    return "\n".join(lines)


def prompt_text(t: Translator, services: Sequence[Service] = ()) -> str:
    """The mass prompt; `services`: those its example names (from the user's catalogue)."""
    return (
        t._("📋 <b>Mass order</b>")
        + "\n\n"
        + t._("Send up to {max} orders, one per line:").format(max=MAX_ORDERS)
        + "\n<code>service_id|link|quantity</code>\n\n"
        + t._("For example:")
        + f"\n<pre>{escape(example(t, services))}</pre>\n"
        + t._(
            "Blank lines and lines starting with # are skipped. A service that needs more than "
            "a link and a quantity is ordered with 🛒 New order. Nothing is ordered before you "
            "confirm the preview."
        )
    )


def too_many_text(t: Translator, count: int) -> str:
    return t._(
        "That is {count} orders: a mass order takes at most {max}. Send the first {max} lines, "
        "then the rest."
    ).format(count=t.number(count), max=t.number(MAX_ORDERS))


def _issue_text(t: Translator, issue: Issue) -> str:
    """A field's problem on a line: which field, and what is expected."""
    return field_label(t, issue.field) + ": " + issue_text(t, issue)


def problem_text(t: Translator, line: PlannedLine) -> str:
    match line.problem:
        case Problem.FORMAT:
            return t._("not service_id|link|quantity")
        case Problem.SERVICE_ID:
            return t._("the service id is not a number")
        case Problem.UNKNOWN_SERVICE:
            return t._("there is no service {id}").format(id=line.service_id)
        case Problem.GUIDED:
            return t._(
                "service {id} needs more than a link and a quantity: order it with 🛒 New order"
            ).format(id=line.service_id)
        case Problem.PACKAGE_QUANTITY:
            return t._("service {id} is a package: give quantity 1, or none").format(
                id=line.service_id
            )
        case Problem.SAME_LINK:
            return t._("the same link as line {n}").format(n=line.other)
        case Problem.ACTIVE if line.other:
            return t._("you have an unfinished order for this link (#{id})").format(id=line.other)
        case Problem.ACTIVE:
            return t._("you have an unfinished order for this link")
        case Problem.FIELD if line.issue is not None:
            return _issue_text(t, line.issue)
    return t._("this line cannot be ordered")


def _order_line(t: Translator, line: PlannedLine, currency: str) -> str:
    assert line.service is not None
    amount = t.number(line.quantity) if line.quantity is not None else "1"
    parts = (
        f"{line.number:>3}.",
        shorten(line.service.name, 28),
        "|",
        short_link(line.link, 34),
        "|",
        amount,
        "|",
        t.money(line.price, currency),
    )
    return escape(" ".join(parts))


def preview_messages(
    t: Translator,
    batch: MassPlan,
    currency: str,
    balance: Decimal | None,
    *,
    wallet: Wallet | None = None,
    notice: str = "",
) -> list[str]:
    """The preview: one monospace line per order, the lines with a problem and why, the
    total and the panel balance (or the user's wallet, its credit limit apart) after it;
    `notice` first."""
    valid, problems = batch.valid, batch.problems
    lines = [Line(notice), Line("")] if notice else []
    lines.append(Line(t._("📋 <b>Mass order: check it</b>")))
    if valid:
        lines.append(Line(""))
        lines += [Line(_order_line(t, line, currency), mono=True) for line in valid]
    if problems:
        lines += [
            Line(""),
            Line(
                t.n_(
                    "❌ <b>{n} line is not ordered:</b>",
                    "❌ <b>{n} lines are not ordered:</b>",
                    len(problems),
                ).format(n=t.number(len(problems)))
            ),
        ]
        lines += [
            Line(
                t._("Line {n}: {problem}").format(
                    n=line.number, problem=escape(problem_text(t, line))
                )
            )
            for line in problems
        ]
    lines.append(Line(""))
    if not valid:
        lines.append(Line(t._("Nothing to order: correct the lines and send them again.")))
        return pack(lines)
    total = batch.total
    lines.append(
        Line(
            t.n_(
                "{n} order, total <b>{total}</b>",
                "{n} orders, total <b>{total}</b>",
                len(valid),
            ).format(n=t.number(len(valid)), total=t.money(total, currency))
        )
    )
    if wallet is not None:
        lines.append(
            Line(
                t._("Wallet: {wallet} → after these orders: {after}").format(
                    wallet=t.money(wallet.balance, currency),
                    after=t.money(wallet.balance - total, currency),
                )
            )
        )
        if wallet.credit_limit:
            lines.append(
                Line(
                    t._("Credit limit: {limit}").format(
                        limit=t.money(wallet.credit_limit, currency)
                    )
                )
            )
        if wallet.short_of(total):
            lines.append(
                Line(
                    t._(
                        "⚠️ Your wallet is {missing} short: the orders it cannot pay for are "
                        "not sent."
                    ).format(missing=t.money(wallet.short_of(total), currency))
                )
            )
    elif balance is not None:
        after = balance - total
        lines.append(Line(t._("Balance after: {balance}").format(balance=t.money(after, currency))))
        if after < 0:
            lines.append(
                Line(
                    t._(
                        "⚠️ Your balance is {missing} short: the panel refuses the orders it "
                        "cannot pay for."
                    ).format(missing=t.money(-after, currency))
                )
            )
    lines += [
        Line(""),
        Line(t._("A mass order cannot be undone: once you confirm, every order above is placed.")),
    ]
    return pack(lines)


def preview_keyboard(t: Translator, key: str, count: int) -> InlineKeyboardMarkup:
    place = t.n_("✅ Place {n} order", "✅ Place {n} orders", count).format(n=t.number(count))
    return markup(
        [
            [Button(place, callback_data=cb.MASS_CONFIRM(key))],
            [Button(t._("✖️ Cancel"), callback_data=cb.MASS_DROP(key))],
        ]
    )


def progress_text(t: Translator, done: int, total: int) -> str:
    return "\n".join(
        (
            t.n_("⏳ <b>Placing {n} order…</b>", "⏳ <b>Placing {n} orders…</b>", total).format(
                n=t.number(total)
            ),
            progress_bar(total, total - done) or "",
            t._("{done} of {total} done").format(done=t.number(done), total=t.number(total)),
        )
    )


def _report_line(t: Translator, report: LineReport) -> str:
    link = escape(short_link(report.link, 34))
    match report.result:
        case LineResult.PLACED if report.order is not None:
            return t._("{n}. ✅ #{id} · {link}").format(
                n=report.number, id=report.order.panel_order_id, link=link
            )
        case LineResult.REFUSED if report.order is not None:
            why = rejection_text(t, report.order.error or "")
            return t._("{n}. ❌ {link}: {why}").format(n=report.number, link=link, why=why)
        case LineResult.UNKNOWN:
            return t._("{n}. ⚠️ {link}: outcome not known, see My orders").format(
                n=report.number, link=link
            )
        case LineResult.NOT_SENT if report.issue is not None:
            why = _issue_text(t, report.issue)
            return t._("{n}. ⏭ {link}: not sent, {why}").format(
                n=report.number, link=link, why=escape(why)
            )
        case LineResult.NOT_SENT:
            return t._("{n}. ⏭ {link}: not sent, the service is no longer offered").format(
                n=report.number, link=link
            )
        case LineResult.NO_FUNDS:
            return t._("{n}. ⏭ {link}: not sent, not enough money in your wallet").format(
                n=report.number, link=link
            )
        case LineResult.REJECTED if report.planned is not None:
            why = problem_text(t, report.planned)
            return t._("{n}. ⏭ {link}: not sent, {why}").format(
                n=report.number, link=link or "—", why=escape(why)
            )
        case LineResult.PRICE_CHANGED:
            return t._(
                "{n}. ⏭ {link}: not sent, its price changed since the preview (nothing taken)"
            ).format(n=report.number, link=link)
    return t._("{n}. ⏳ {link}: waiting").format(n=report.number, link=link)


def report_messages(t: Translator, reports: list[LineReport]) -> list[str]:
    placed = sum(1 for r in reports if r.result is LineResult.PLACED)
    lines = [
        Line(
            t._("📋 <b>Mass order done</b>: {placed} of {total} placed").format(
                placed=t.number(placed), total=t.number(len(reports))
            )
        ),
        Line(""),
        *(Line(_report_line(t, report)) for report in reports),
    ]
    charged = [r.order for r in reports if r.result is LineResult.PLACED and r.order is not None]
    if charged:
        total = sum((o.paid if o.paid is not None else o.price for o in charged), Decimal(0))
        lines += [
            Line(""),
            Line(
                t._("Charged in all: <b>{total}</b>").format(
                    total=t.money(total, charged[0].currency)
                )
            ),
        ]
    return pack(lines)


def report_keyboard(t: Translator) -> InlineKeyboardMarkup:
    orders = Button(t._("📦 My orders"), callback_data=cb.ORDERS(0, OrderFilter.ACTIVE, 0))
    return markup([[orders, menu_button(t)]])
