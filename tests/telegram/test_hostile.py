"""Hostile input: random and oversized texts in every step, random callback data, junk
arguments, unicode edge cases. Never an unhandled error, always an answer, and every answer
is one Telegram accepts (the recording Bot API refuses invalid HTML and long texts)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.sandbox.panel import default_catalog
from bot.telegram import callback as cb
from tests.harness import USER, Harness

SOMETHING_WRONG = "Something went wrong"
EDGES = [
    "",
    " ",
    "\n",
    "\u200b",
    "\u202e",
    "‮reversed",
    "🏳️‍🌈" * 50,
    "ẞ",
    "İ",
    "\x00",
    "<b>",
    "</i>",
    "&",
    "&amp;",
    "<a href='x'>",
    "9" * 500,
    "-1",
    "1e9",
    "٣",
    "１２",
    "https://",
    "http://x",
    "@",
    "@" * 100,
    "a\r\nb",
    "\t",
]
texts = st.one_of(
    st.sampled_from(EDGES),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=300),
    # Oversized texts are built by repetition: random 12 kB strings would exhaust
    # hypothesis's entropy budget without being any more hostile.
    st.builds(
        lambda piece, times: (piece * times)[:12_000],
        st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40),
        st.integers(min_value=100, max_value=12_000),
    ),
)
HOSTILE = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[asyncio.AbstractEventLoop, Harness]]:
    loop = asyncio.new_event_loop()
    bot = Harness(Path(tmp_path_factory.mktemp("hostile")))
    loop.run_until_complete(bot.__aenter__())
    yield loop, bot
    loop.run_until_complete(bot.__aexit__(None, None, None))
    loop.close()


def answered(bot: Harness, before: int, answers_before: int | None = None) -> None:
    """Something was said to the user since `before` messages (or, for a button, the
    button's query was answered), and nothing went wrong."""
    sent = bot.request.sent(USER)
    query_answered = answers_before is not None and len(bot.answers()) > answers_before
    assert len(sent) > before or query_answered, "no answer"
    assert not any(SOMETHING_WRONG in c.text for c in sent[before:])
    assert not bot.request.rejected, bot.request.rejected


@HOSTILE
@given(
    service=st.sampled_from([s["service"] for s in default_catalog()]),
    answers=st.lists(texts, min_size=1, max_size=6),
)
def test_random_texts_in_every_step_of_every_order_type(
    running: tuple[asyncio.AbstractEventLoop, Harness], service: int, answers: list[str]
) -> None:
    loop, bot = running
    loop.run_until_complete(bot.tap(USER, cb.START_ORDER(int(service))))
    for text in answers:
        if not text.strip():
            continue  # Telegram does not deliver empty messages
        before = len(bot.request.sent(USER))
        loop.run_until_complete(bot.say(USER, text))
        answered(bot, before)
    loop.run_until_complete(bot.say(USER, "/cancel"))


@HOSTILE
@given(
    data=st.one_of(
        st.text(max_size=64),
        st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
        st.sampled_from(
            ["1y:" + "a" * 12, "1k:00000000:99999", "1O:7:-1", "1C:999", "1r:0", "1L:id"]
        ),
    )
)
def test_random_callback_data(
    running: tuple[asyncio.AbstractEventLoop, Harness], data: str
) -> None:
    loop, bot = running
    before, answers_before = len(bot.request.sent(USER)), len(bot.answers())
    loop.run_until_complete(bot.tap(USER, data or "x"))
    answered(bot, before, answers_before)


@HOSTILE
@given(
    command=st.sampled_from(
        [
            "/status",
            "/refill",
            "/refill_status",
            "/cancel",
            "/order",
            "/orders",
            "/language",
            "/balance",
            "/notifications",
            "/help",
            "/start",
            "/stats",
        ]
    ),
    argument=texts,
)
def test_commands_with_junk_arguments(
    running: tuple[asyncio.AbstractEventLoop, Harness], command: str, argument: str
) -> None:
    loop, bot = running
    before = len(bot.request.sent(USER))
    loop.run_until_complete(bot.say(USER, f"{command} {argument}"[:4096]))
    answered(bot, before)
    loop.run_until_complete(bot.say(USER, "/cancel"))
