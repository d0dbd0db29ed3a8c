"""Issue 25, through the real screens: fewer taps, links without a scheme, drafts kept and
named, order lines pasted anywhere, search in resellers' words."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.taps import TASKS, Walk
from bot.adapters.sandbox.panel import SandboxPanel
from bot.core.api import Service
from bot.telegram import callback as cb
from tests.harness import USER, Harness


@pytest.mark.parametrize(("task", "target", "walk_of", "says"), TASKS, ids=[t[0] for t in TASKS])
async def test_the_common_tasks_take_at_most_their_taps(
    tmp_path: Path, task: str, target: int, walk_of: object, says: str
) -> None:
    async with Harness(tmp_path, SandboxPanel(step_seconds=10**9)) as bot:
        walk = Walk(bot)
        last = await walk_of(walk)  # type: ignore[operator]
        assert says in last
        assert walk.actions <= target, f"{task}: {walk.actions} actions"


async def test_a_service_from_a_list_opens_its_order_with_quantity_buttons(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        found = await bot.say(USER, "ig followers", language="id")
        question = await bot.tap(USER, found.buttons[0][1], language="id")
        assert "ID layanan: 1" in question.text  # the card, above the first question
        assert "Kirim link" in question.text
        reply = await bot.say(USER, "instagram.com/tokobudi.id", language="id")
        labels = [text for text, _ in reply.buttons]
        assert labels[:4] == ["100", "500", "1.000", "5.000"]  # within 50 to 100,000
        summary = await bot.tap(USER, reply.button("5.000"), language="id")
        assert "https://instagram.com/tokobudi.id" in summary.text
        assert any(text.startswith("💧") for text in [t for t, _ in summary.buttons])
        # Drip-feed is an option of the summary, not a question every order asks.
        runs = await bot.tap(USER, summary.button("💧"), language="id")
        assert "runs" in bot.data(USER).draft.waiting_for
        assert runs.button("◀️")


async def test_quantity_buttons_stay_within_the_range(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(14))  # comment likes: 20 to 5,000
        reply = await bot.say(USER, "https://instagram.com/p/abc")
        numbers = [t for t, data in reply.buttons if cb.NUMBER.matches(data)]
        assert numbers == ["100", "500", "1,000", "5,000"]
        too_many = cb.NUMBER(bot.data(USER).draft.turn, 50_000)  # a forged preset
        reply = await bot.tap(USER, too_many)
        assert "Out of range" in reply.text
        assert "quantity" not in bot.data(USER).draft.values


@pytest.mark.parametrize(
    ("language", "not_a_link"), [("en", "That is not a link"), ("id", "Itu bukan link")]
)
async def test_a_link_without_its_scheme_is_taken(
    tmp_path: Path, language: str, not_a_link: str
) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(1), language=language)
        reply = await bot.say(USER, "1.000", language=language)
        assert not_a_link in reply.text and "https://" not in reply.text.split(".")[0]
        await bot.say(USER, "instagram.com/tokobudi.id", language=language)
        assert bot.data(USER).draft.values["link"] == "https://instagram.com/tokobudi.id"


async def test_the_continue_button_names_the_draft_in_both_languages(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(2))
        await bot.say(USER, "https://instagram.com/p/abc")
        menu = await bot.say(USER, "/start")
        assert menu.buttons[0][0] == "▶️ Continue: Instagram Likes [Instant] (quantity left)"
        menu = await bot.say(USER, "/start", language="id")
        assert menu.buttons[0][0] == "▶️ Lanjutkan: Instagram Likes [Instant] (sisa jumlah)"
        reply = await bot.tap(USER, menu.button("▶️"), language="id")
        summary = await bot.tap(USER, reply.button("100"), language="id")
        menu = await bot.say(USER, "/start")
        assert menu.buttons[0][0] == "▶️ Continue: Instagram Likes [Instant] (to confirm)"
        assert summary.button("✅")


async def test_opening_new_order_and_going_back_keeps_the_draft(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.tap(USER, cb.START_ORDER(2))
        await bot.say(USER, "https://instagram.com/p/abc")
        categories = await bot.tap(USER, cb.NEW_ORDER())
        menu = await bot.tap(USER, categories.button("🏠"))
        assert menu.buttons[0][0].startswith("▶️ Continue: Instagram Likes")
        assert bot.data(USER).draft.values == {"link": "https://instagram.com/p/abc"}
        await bot.say(USER, "/order")
        assert bot.data(USER).draft is not None


async def test_space_separated_lines_open_the_mass_preview_after_my_orders(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        await bot.say(USER, "/orders")
        shown = await bot.say(USER, "1 https://instagram.com/p/a 100\n2 instagram.com/p/b 200")
        assert "2 orders, total" in shown.text
        await bot.tap(USER, cb.START_ORDER(1))  # and in the middle of an order's questions
        shown = await bot.say(USER, "1|https://instagram.com/p/c|100", language="id")
        assert "1 order, total" in shown.text
        assert bot.data(USER).draft is not None  # the order waits, untouched


async def test_words_that_find_nothing_say_so_with_tips(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        reply = await bot.say(USER, "qwertyuiop")
        assert "No service matches “qwertyuiop”" in reply.text and "ig followers" in reply.text
        reply = await bot.say(USER, "qwertyuiop", language="id")
        assert "Tidak ada layanan yang cocok" in reply.text


async def test_search_at_the_menu_understands_resellers(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        for query, first in (
            ("ig followers", "Instagram Followers"),
            ("pengikut ig", "Instagram Followers"),
            ("folowers", "Instagram Followers"),
            ("komentar ig", "Instagram Custom Comments"),
            ("tg anggota", "Telegram Group Invites"),
            ("x poll", "Twitter Poll Votes"),
            ("yt", "YouTube Starter Package"),
        ):
            found = await bot.say(USER, query, language="id")
            assert found.buttons[0][0].split(" · ")[-1], query
            assert first in found.buttons[0][0], (query, found.buttons)


async def test_service_buttons_show_what_tells_services_apart(tmp_path: Path) -> None:
    base = {
        "type": "Default",
        "category": "Instagram Followers",
        "min": 100,
        "max": 5000,
        "refill": True,
        "cancel": False,
    }
    decoration = "🔥🔥 Instagram Followers | Real Accounts | Fast Start | HQ 💎 | "
    services = [
        {**base, "service": 101, "rate": "0.75", "name": decoration + "Refill 30D | Max 5K"},
        {
            **base,
            "service": 102,
            "rate": "2.35",
            "name": decoration + "Lifetime | Max 50K",
            "max": 50000,
        },
        {**base, "service": 103, "rate": "0.50", "name": decoration + "No Refill", "refill": False},
    ]
    sandbox = SandboxPanel(services=[Service.model_validate(s) for s in services])
    async with Harness(tmp_path, sandbox) as bot:
        found = await bot.say(USER, "ig followers")
        labels = [text for text, _ in found.buttons[:3]]
        assert labels[0].startswith("#101 · IDR0.75/1K · ♻️30d · max 5K · 🔥🔥 Instagram")
        assert labels[1].startswith("#102 · IDR2.35/1K · ♻️∞ · max 50K · ")
        assert labels[2].startswith("#103 · IDR0.50/1K · max 5K · ")
        assert len(set(labels)) == 3 and all(len(label) <= 64 for label in labels)
        found = await bot.say(USER, "ig followers", language="id")
        assert found.buttons[1][0].startswith("#102 · Rp2,35/1K · ♻️∞ · maks 50K · ")
