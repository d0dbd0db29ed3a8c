"""Broadcasts as the admin reads them: the audience to pick, the preview, the progress, the
report; and the message itself as its recipients get it."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardMarkup, Message

from bot.core.notices import BroadcastReport
from bot.core.records import Broadcast, Tally
from bot.telegram import callback as cb
from bot.telegram.i18n import Translator
from bot.telegram.render.keyboards import Button, markup, menu_button

AUDIENCES = ("all", "wallet", "days:7", "days:30", "days:90")


def links_keyboard(broadcast: Broadcast) -> InlineKeyboardMarkup | None:
    if not broadcast.buttons:
        return None
    return markup([[Button(label, url=url)] for label, url in broadcast.buttons])


async def send_broadcast(bot: Bot, chat_id: int, broadcast: Broadcast) -> Message:
    """The message as its recipients get it."""
    keyboard = links_keyboard(broadcast)
    if broadcast.kind == "photo" and broadcast.photo:
        return await bot.send_photo(
            chat_id, broadcast.photo, caption=broadcast.body or None, reply_markup=keyboard
        )
    return await bot.send_message(chat_id, broadcast.body, reply_markup=keyboard)


def compose_prompt(t: Translator) -> str:
    return t._(
        "📣 <b>Broadcast</b>\n\nSend the message to broadcast: text or a photo with a "
        "caption, or forward one. Link buttons: end it with lines like "
        "<code>[Our channel](https://t.me/example)</code>."
    )


def audience_text(t: Translator) -> str:
    return t._("📣 Who gets it?")


def audience_keyboard(
    t: Translator, broadcast_id: int, languages: list[str]
) -> InlineKeyboardMarkup:
    labels = {
        "all": t._("👥 Everyone"),
        "wallet": t._("💰 Customers with a wallet"),
        "days:7": t._("🛒 Ordered in the last 7 days"),
        "days:30": t._("🛒 Ordered in the last 30 days"),
        "days:90": t._("🛒 Ordered in the last 90 days"),
    }
    rows = [
        [
            Button(
                labels[code],
                callback_data=cb.BROADCAST_AUDIENCE(broadcast_id, code.replace(":", "-")),
            )
        ]
        for code in AUDIENCES
    ]
    rows.append(
        [
            Button(
                t._("🌐 Language: {code}").format(code=code),
                callback_data=cb.BROADCAST_AUDIENCE(broadcast_id, f"lang-{code}"),
            )
            for code in languages
        ]
    )
    rows.append([Button(t._("✖️ Cancel"), callback_data=cb.BROADCAST_CANCEL(broadcast_id))])
    return markup(rows)


def preview_text(t: Translator, count: int) -> str:
    return t.n_(
        "📣 The message above goes to <b>{n}</b> user (those who turned notifications off "
        "are left out). Send it?",
        "📣 The message above goes to <b>{n}</b> users (those who turned notifications off "
        "are left out). Send it?",
        count,
    ).format(n=t.number(count))


def preview_keyboard(t: Translator, broadcast_id: int, count: int) -> InlineKeyboardMarkup:
    rows = []
    if count:
        rows.append(
            [
                Button(
                    t._("📣 Send to {n}").format(n=t.number(count)),
                    callback_data=cb.BROADCAST_SEND(broadcast_id),
                )
            ]
        )
    rows.append([Button(t._("✖️ Cancel"), callback_data=cb.BROADCAST_CANCEL(broadcast_id))])
    return markup(rows)


def progress_text(t: Translator, tally: Tally) -> str:
    return t._(
        "📣 Sending… {done}/{total}\nSent: {sent} · blocked the bot: {blocked} · failed: {failed}"
    ).format(
        done=t.number(tally.done),
        total=t.number(tally.total),
        sent=t.number(tally.sent),
        blocked=t.number(tally.blocked),
        failed=t.number(tally.failed),
    )


def report_text(t: Translator, report: BroadcastReport) -> str:
    return t._(
        "📣 <b>Broadcast #{id} done</b> ({total} recipients)\nSent: {sent}\n"
        "Blocked the bot: {blocked}\nFailed: {failed}"
    ).format(
        id=report.broadcast,
        total=t.number(report.total),
        sent=t.number(report.sent),
        blocked=t.number(report.blocked),
        failed=t.number(report.failed),
    )


def done_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return markup([[menu_button(t)]])
