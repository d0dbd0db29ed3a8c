"""User-facing words for the domain's values: fields, validation issues, errors, statuses."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core import panel as errors
from bot.core.api import OrderState, RefillState, Service
from bot.core.order_types import FieldSpec, Issue, Reason
from bot.core.records import UserRecord
from bot.telegram.i18n import N_, I18n, Translator

FIELD_LABELS = {
    "link": N_("Link"),
    "quantity": N_("Quantity"),
    "runs": N_("Drip-feed runs"),
    "interval": N_("Interval (minutes)"),
    "comments": N_("Comments"),
    "usernames": N_("Usernames"),
    "hashtags": N_("Hashtags"),
    "hashtag": N_("Hashtag"),
    "username": N_("Username"),
    "media": N_("Media link"),
    "answer_number": N_("Answer number"),
    "groups": N_("Groups"),
    "min": N_("Minimum per post"),
    "max": N_("Maximum per post"),
    "posts": N_("New posts"),
    "old_posts": N_("Old posts"),
    "delay": N_("Delay (minutes)"),
    "expiry": N_("Expiry date"),
    "country": N_("Country"),
    "device": N_("Device"),
    "type_of_traffic": N_("Traffic type"),
    "google_keyword": N_("Google keyword"),
    "referring_url": N_("Referring URL"),
    "keywords": N_("Keywords"),
}

FIELD_PROMPTS = {
    "link": N_("Send the link, starting with https://"),
    "quantity": N_("Send the quantity, from {min} to {max}."),
    "runs": N_("How many runs? Send a number from {min} to {max}."),
    "interval": N_("How many minutes between runs? Send a number from {min} to {max}."),
    "comments": N_("Send the comments, one per line (from {min} to {max} lines)."),
    "usernames": N_("Send the usernames, one per line."),
    "hashtags": N_("Send the hashtags, one per line."),
    "hashtag": N_("Send the hashtag."),
    "username": N_("Send the username (the @ is optional)."),
    "media": N_("Send the link to the media whose likers should be mentioned."),
    "answer_number": N_("Which answer should get the votes? Send its number."),
    "groups": N_("Send the groups, one per line."),
    "min": N_("Send the minimum quantity per post, from {min} to {max}."),
    "max": N_("Send the maximum quantity per post, from {min} to {max}."),
    "posts": N_("How many new posts? Send a number, or skip."),
    "old_posts": N_("How many old posts? Send a number, or skip."),
    "delay": N_("Choose the delay in minutes."),
    "expiry": N_("Send the expiry date as dd/mm/yyyy, or skip."),
    "country": N_("Send the country (a code like US or a name)."),
    "device": N_("Choose the device."),
    "type_of_traffic": N_("Choose the type of traffic."),
    "google_keyword": N_("Send the Google keyword."),
    "referring_url": N_("Send the referring URL, starting with https://"),
    "keywords": N_("Send the keywords, one per line."),
}

CHOICE_LABELS = {
    ("device", "1"): N_("Desktop"),
    ("device", "2"): N_("Mobile (Android)"),
    ("device", "3"): N_("Mobile (iOS)"),
    ("device", "4"): N_("Mixed mobile"),
    ("device", "5"): N_("Mixed mobile and desktop"),
    ("type_of_traffic", "1"): N_("Google keyword"),
    ("type_of_traffic", "2"): N_("Custom referrer"),
    ("type_of_traffic", "3"): N_("Blank referrer"),
    ("delay", "0"): N_("No delay"),
}

ORDER_STATES = {
    OrderState.PENDING: N_("Pending"),
    OrderState.IN_PROGRESS: N_("In progress"),
    OrderState.PROCESSING: N_("Processing"),
    OrderState.COMPLETED: N_("Completed"),
    OrderState.PARTIAL: N_("Partial"),
    OrderState.CANCELED: N_("Canceled"),
    OrderState.REFUNDED: N_("Refunded"),
    OrderState.ERROR: N_("Error"),
    OrderState.FAIL: N_("Failed"),
}

REFILL_STATES = {
    RefillState.PENDING: N_("Pending"),
    RefillState.IN_PROGRESS: N_("In progress"),
    RefillState.COMPLETED: N_("Completed"),
    RefillState.REJECTED: N_("Rejected"),
}


def field_label(t: Translator, name: str) -> str:
    return t._(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def field_prompt(t: Translator, spec: FieldSpec, service: Service) -> str:
    low, high = (service.min, service.max) if spec.service_bounds else (spec.minimum, spec.maximum)
    template = t._(FIELD_PROMPTS[spec.name]) if spec.name in FIELD_PROMPTS else spec.name
    return template.format(
        min=t.number(low) if low is not None else "", max=t.number(high) if high is not None else ""
    )


def choice_label(t: Translator, field: str, value: str) -> str:
    label = CHOICE_LABELS.get((field, value))
    if label:
        return t._(label)
    if field == "delay":
        return t.n_("{n} minute", "{n} minutes", int(value)).format(n=value)
    return value


def issue_text(t: Translator, issue: Issue) -> str:
    """What is wrong with an answer and what is expected, in the user's language."""
    b = {k: t.number(v) if isinstance(v, int) else v for k, v in issue.bounds.items()}
    match issue.reason:
        case Reason.REQUIRED:
            return t._("This answer cannot be empty.")
        case Reason.NOT_INTEGER:
            return t._("That is not a whole number. Send digits only, like 1000.")
        case Reason.OUT_OF_RANGE if "min" in b and "max" in b:
            return t._("Out of range: send a number from {min} to {max}.").format(**b)
        case Reason.OUT_OF_RANGE if "min" in b:
            return t._("Too small: send a number of at least {min}.").format(**b)
        case Reason.OUT_OF_RANGE:
            return t._("Too large: send a number of at most {max}.").format(**b)
        case Reason.NO_SCHEME:
            return t._("A link must start with https:// — for example {example}").format(**b)
        case Reason.NOT_URL:
            return t._("That is not a link. Send a link like https://instagram.com/p/abc")
        case Reason.BAD_USERNAME:
            return t._(
                "That is not a username. Use letters, digits, dots and underscores, like @example."
            )
        case Reason.BAD_LINE:
            return t._(
                "Line {line} is not a username. Use letters, digits, dots and underscores."
            ).format(**b)
        case Reason.LINE_COUNT:
            count = int(issue.bounds["count"])
            return t.n_(
                "You sent {count} line; send from {min} to {max} lines, one item per line.",
                "You sent {count} lines; send from {min} to {max} lines, one item per line.",
                count,
            ).format(**b)
        case Reason.BAD_HASHTAG if "line" in b:
            return t._(
                "Line {line} is not a hashtag: one word of letters, digits or underscores, "
                "like #travel."
            ).format(**b)
        case Reason.BAD_HASHTAG:
            return t._(
                "That is not a hashtag: one word of letters, digits or underscores, like #travel."
            )
        case Reason.TOO_LONG if "line" in b:
            return t._("Line {line} is too long: at most {max} characters.").format(**b)
        case Reason.TOO_LONG:
            return t._("That is too long: at most {max} characters.").format(**b)
        case Reason.NOT_CHOICE:
            return t._("Choose one of the buttons ({choices}).").format(**b)
        case Reason.BAD_DATE:
            return t._("That is not a date. Send it as dd/mm/yyyy, like 31/12/2026.")
        case Reason.DATE_PAST:
            return t._("That date has passed. Send a date from today on.")
        case Reason.MIN_ABOVE_MAX:
            return t._("The maximum cannot be below the minimum ({min}).").format(**b)
        case Reason.TOTAL_ABOVE_MAX:
            return t._(
                "Runs × quantity is more than this service delivers ({max}): at this quantity, "
                "at most {runs} runs."
            ).format(**b)
        case Reason.DRIP_TOO_LONG:
            return t._(
                "The runs would last more than {days} days: send a shorter interval or go back "
                "for fewer runs."
            ).format(**b)
        case Reason.RUNS_WITHOUT_INTERVAL:
            return t._("Drip-feed needs both the runs and the interval.")
    return t._("That answer is not valid.")


REFUSAL_WORDS = 300
"""The panel's own words are shown up to this length."""


def _refusal_lead(t: Translator, error: errors.PanelError) -> str:
    match error:
        case errors.InsufficientFunds():
            return t._("Not enough funds on the panel balance.")
        case errors.BadLink():
            return t._("The panel rejected the link. Check it and try again.")
        case errors.BadQuantity():
            return t._("The panel rejected the quantity. Check the limits and try again.")
        case errors.UnknownService():
            return t._("This service is no longer offered by the panel.")
        case errors.DuplicateActiveOrder():
            return t._("An order for this link is still active. Wait until it finishes.")
        case errors.BadKey():
            return t._("The panel rejected the bot's API key. Please tell the bot's operator.")
        case errors.NotFound():
            return t._("Not found.")
        case errors.NotSupported():
            return t._("The panel does not offer this through its API.")
        case errors.Unreadable():
            return t._("The panel's answer could not be read.")
    return t._("The panel refused.")


def lost_answer_text(t: Translator, lost: errors.LostAnswer) -> str:
    match lost:
        case errors.LostAnswer.TIMEOUT:
            return t._("The panel did not answer in time.")
        case errors.LostAnswer.ERROR_PAGE:
            return t._("The panel answered with an error page instead of a result.")
        case errors.LostAnswer.NO_ID:
            return t._("The panel's answer did not say which order it placed.")
        case errors.LostAnswer.RESTART:
            return t._("The bot was restarted while this was being sent.")
    return t._("The connection to the panel broke before its answer arrived.")


def failure_text(t: Translator, failure: errors.PanelFailure) -> str:
    """A failed panel call as the user reads it, in HTML: what happened, what was done (nothing,
    or not known), and for a refusal the panel's own words, escaped."""
    match failure:
        case errors.PanelBusy():
            return t._(
                "The panel is busy (too many requests). Nothing was done. Try again in {seconds} s."
            ).format(seconds=t.number(max(1, math.ceil(failure.retry_after))))
        case errors.PanelUnavailable():
            return t._(
                "The panel cannot be reached right now. Nothing was changed. Try again shortly."
            )
        case errors.OutcomeUnknown():
            return (
                lost_answer_text(t, failure.lost)
                + " "
                + t._(
                    "It is not known whether this went through. Check My orders (or the "
                    "panel's website) before trying again."
                )
            )
        case errors.PanelError():
            lead = _refusal_lead(t, failure)
            if not failure.from_panel:
                return lead
            words = escape(shorten(failure.message, REFUSAL_WORDS))
            return lead + " " + t._("The panel says: “{words}”").format(words=words)
    return escape(str(failure))


def user_translator(i18n: I18n, user: UserRecord | None) -> Translator:
    """The language of a user the bot writes to unasked: their choice, else their Telegram's
    (as last seen), else the default."""
    if user is None:
        return i18n.get(i18n.default_language)
    return i18n.get(i18n.resolve(user.language, user.telegram_language))


MESSAGE_LIMIT = 3900
"""Characters per message (Telegram takes 4096), with room for the tags."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a long screen: `mono` lines are shown in a monospace block."""

    text: str
    mono: bool = False


def pack(lines: Sequence[Line], limit: int = MESSAGE_LIMIT) -> list[str]:
    """The lines as few messages as fit, each at most `limit` characters (a single longer
    line is cut), monospace runs in <pre> blocks."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    mono = False

    def close() -> None:
        nonlocal current, size, mono
        if mono:
            current[-1] += "</pre>"
        if current:
            messages.append("\n".join(current))
        current, size, mono = [], 0, False

    for line in lines:
        text = line.text if len(line.text) <= limit - 20 else line.text[: limit - 21] + "…"
        opening = "<pre>" if line.mono and not mono else ""
        closing = "</pre>" if mono and not line.mono else ""
        if size + len(opening) + len(closing) + len(text) + 7 > limit:
            close()
            opening = "<pre>" if line.mono else ""
            closing = ""
        if closing:
            current[-1] += closing
        current.append(opening + text)
        size += len(opening) + len(closing) + len(text) + 1
        mono = line.mono
    close()
    return messages


def escape(text: object) -> str:
    """Safe in HTML parse mode."""
    return html.escape(str(text), quote=False)


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def short_link(link: str, limit: int = 40) -> str:
    """A link as a line shows it: without its scheme and www, shortened (not escaped)."""
    text = link.strip()
    for prefix in ("https://", "http://", "www."):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    return shorten(text, limit)


def order_state_text(t: Translator, raw: str | None) -> str:
    if not raw:
        return t._("Unknown")
    label = ORDER_STATES.get(OrderState.parse(raw))
    return t._(label) if label else raw


def refill_state_text(t: Translator, raw: str | None) -> str:
    if not raw:
        return t._("Unknown")
    label = REFILL_STATES.get(RefillState.parse(raw))
    return t._(label) if label else raw
