"""Mass order: the line parser on hostile input, the preview, placing each line exactly once
(double taps, a stop mid-batch and the next start), the progress message and the report."""

from __future__ import annotations

import asyncio
import html
import re
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.sandbox.panel import SandboxPanel, default_catalog
from bot.core.api import Service
from bot.core.catalog import CatalogIndex
from bot.core.mass_order import MAX_ORDERS, MassLine, Problem, parse, plan
from bot.telegram import callback as cb
from bot.telegram.render.text import MESSAGE_LIMIT, Line, pack
from tests.harness import OTHER, USER, Call, Harness
from tests.telegram.walks import LINK, place

INDEX = CatalogIndex([Service.model_validate(s) for s in default_catalog()], 0.0)


def lines_of(text: str) -> list[tuple[int, str, str, str]]:
    return [(m.number, m.service, m.link, m.quantity) for m in parse(text).lines]


# -- the parser ---------------------------------------------------------------------------------


def test_lines_with_bars_spaces_commas_comments_and_blank_lines() -> None:
    text = (
        "/mass 1|https://instagram.com/p/a|100\n"
        "\n"
        "# my comment | with a bar\n"
        "  2 | https://instagram.com/p/b | 200  \n"
        "3 ,| https://instagram.com/p/c |, 300\n"
        "4|https://youtube.com/watch?v=x\n"
        "5 https://instagram.com/p/d 400\n"
        "6,https://instagram.com/p/e,500\n"
    )
    assert lines_of(text) == [
        (1, "1", "https://instagram.com/p/a", "100"),
        (2, "2", "https://instagram.com/p/b", "200"),
        (3, "3", "https://instagram.com/p/c", "300"),
        (4, "4", "https://youtube.com/watch?v=x", ""),
        (5, "5", "https://instagram.com/p/d", "400"),
        (6, "6", "https://instagram.com/p/e", "500"),
    ]


def test_a_bar_inside_a_link_stays_in_the_link() -> None:
    assert lines_of("1|https://x.com/a|b|100\n4|https://x.com/q?a=1|b=2") == [
        (1, "1", "https://x.com/a|b", "100"),
        (2, "4", "https://x.com/q?a=1|b=2", ""),
    ]


def test_unicode_digits_are_not_a_service_or_a_quantity() -> None:
    batch = plan(
        parse("١|https://instagram.com/p/a|100\n1|https://instagram.com/p/b|١٠٠"), INDEX, {}
    )
    first, second = batch.lines
    assert first.problem is Problem.SERVICE_ID
    assert second.problem is Problem.FIELD and second.issue is not None
    assert second.issue.field == "quantity"


def test_junk_is_refused_line_by_line_and_never_raises() -> None:
    junk = "\n".join(
        [
            "hello",
            "|||",
            "1|",
            "|https://x.com|5",
            "1 2 3 4 5",
            "\x00\x01|\u202e|\ufeff",
            "999999999999999999999|https://x.com/a|10",
            "1|javascript:alert(1)|100",
            "1|https://instagram.com/p/a|-5",
            "1|https://instagram.com/p/a|1e3",
        ]
        * 10
    )
    batch = plan(parse(junk), INDEX, {})
    assert len(batch.lines) == 100
    assert not batch.valid
    assert {line.problem for line in batch.lines} >= {
        Problem.FORMAT,
        Problem.SERVICE_ID,
        Problem.FIELD,
    }


def test_a_10_kb_line_is_one_line_with_a_problem_and_is_never_echoed_whole() -> None:
    link = "https://instagram.com/p/" + "a" * 10_000
    batch = plan(parse(f"1|{link}|100"), INDEX, {})
    (line,) = batch.lines
    assert line.problem is Problem.FIELD and line.issue is not None
    assert line.issue.reason == "too_long"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_parses_into_numbered_lines_without_raising(text: str) -> None:
    parsed = parse(text)
    numbers = sorted([line.number for line in parsed.lines] + parsed.unreadable)
    assert numbers == list(range(1, len(numbers) + 1))
    plan(parsed, INDEX, {})  # never raises


def test_the_problems_of_a_batch() -> None:
    text = "\n".join(
        [
            "1|https://instagram.com/p/a|100",  # fine
            "77|https://instagram.com/p/b|100",  # no such service
            "1|https://instagram.com/p/c|10",  # below the minimum of 50
            "1|instagram.com/p/d|100",  # no scheme: https:// added
            "3|https://instagram.com/p/e|5",  # custom comments: guided order
            "1|https://INSTAGRAM.com/p/a/|200",  # the same link as line 1
            "1|https://instagram.com/p/active|100",  # an unfinished order of the user
            "4|https://youtube.com/watch?v=x|3",  # a package, 3 of them
            "4|https://youtube.com/watch?v=y",  # a package
        ]
    )
    batch = plan(parse(text), INDEX, {"1 instagram.com/p/active": 1001})
    problems = {line.number: (line.problem, line.other) for line in batch.lines}
    assert problems == {
        1: (None, None),
        2: (Problem.UNKNOWN_SERVICE, None),
        3: (Problem.FIELD, None),
        4: (None, None),
        5: (Problem.GUIDED, None),
        6: (Problem.SAME_LINK, 1),
        7: (Problem.ACTIVE, 1001),
        8: (Problem.PACKAGE_QUANTITY, None),
        9: (None, None),
    }
    # 2 x 100 at 15,000/1000 + 1 package
    assert batch.total == 2 * Decimal("1.5") * 1000 + Decimal(45000)


def test_pack_splits_long_screens_and_keeps_monospace_blocks_closed() -> None:
    lines = [Line("head")] + [Line(f"{n:>3}. " + "x" * 70, mono=True) for n in range(100)]
    lines += [Line("tail " * 30)]
    messages = pack(lines)
    assert len(messages) > 1
    for message in messages:
        assert len(message) <= MESSAGE_LIMIT
        assert message.count("<pre>") == message.count("</pre>")
    joined = "".join(messages)
    assert all(f"{n:>3}. " in joined for n in range(100))


def test_mass_line_is_a_value() -> None:
    assert MassLine(1, "1", "l", "2") == MassLine(1, "1", "l", "2")


# -- the screens and placing ---------------------------------------------------------------------


def order_lines(n: int, start: int = 0) -> str:
    return "\n".join(f"1|https://instagram.com/p/m{i}|100" for i in range(start, start + n))


async def preview(bot: Harness, text: str, user_id: int = USER, language: str = "en") -> Call:
    return await bot.say(user_id, text, language)


async def confirm_mass(bot: Harness, shown: Call, user_id: int = USER) -> Call:
    await bot.tap(user_id, shown.button("✅"))
    await bot.state.mass_job.wait()
    return bot.last(user_id)


async def test_mass_from_the_menu_previews_the_lines_typed_next(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        menu = await bot.say(USER, "/start")
        prompt = await bot.tap(USER, menu.button("📋 Mass order"))
        assert "service_id|link|quantity" in prompt.text and "<pre>" in prompt.text
        shown = await bot.say(
            USER, "1|https://instagram.com/p/a|1000\n2 | https://instagram.com/p/b | 500"
        )
        sent = bot.request.sent(USER)
        texts = "\n".join(c.text for c in sent[-2:])
        assert "<pre>" in texts
        assert "Instagram Followers" in texts and "instagram.com/p/a" in texts
        assert "| 1,000 | IDR15,000" in texts  # 1000 at 15,000 per 1000
        assert "| 500 | IDR1,250.25" in texts  # 500 at 2,500.50
        assert "2 orders, total <b>IDR16,250.25</b>" in shown.text
        assert "Balance after:" in shown.text
        assert "cannot be undone" in shown.text
        assert [text for text, _ in shown.buttons] == ["✅ Place 2 orders", "✖️ Cancel"]
        assert bot.sandbox.calls["add"] == 0  # nothing is sent before Confirm


async def test_each_line_is_placed_once_and_the_report_lists_ids_and_the_panels_words(
    tmp_path: Path,
) -> None:
    async with Harness(tmp_path) as bot:
        shown = await preview(bot, "/mass\n" + order_lines(3) + "\n77|https://x.com/a|5")
        assert "Line 4: there is no service 77" in shown.text
        bot.sandbox.fail_next("refuse", action="add", status=400, message="Link is private")
        tapped = shown.button("✅")
        await bot.tap(USER, tapped)
        await bot.tap(USER, tapped)  # a double tap
        await bot.state.mass_job.wait()
        report = bot.last(USER)
        adds = [action for _, action in bot.sandbox.received if action == "add"]
        assert len(adds) == 3  # the first refused, two placed, none twice
        assert "2 of 4 placed" in report.text  # of the 4 lines sent
        assert "4. ⏭ x.com/a: not sent, there is no service 77" in report.text
        assert "❌ instagram.com/p/m0" in report.text and "Link is private" in report.text
        assert re.search(r"2\. ✅ #\d+ · instagram.com/p/m1", report.text)
        assert re.search(r"3\. ✅ #\d+ · instagram.com/p/m2", report.text)
        assert report.method == "editMessageText"  # the progress message became the report
        again = await bot.tap(USER, tapped)  # the old button, once it is all done
        assert "2 of 4 placed" in again.text
        assert bot.sandbox.calls["add"] == 2  # the refusal is answered before it is counted
        assert len(await bot.orders_of(USER)) == 2
        assert await bot.orders_of(OTHER) == []


async def test_a_second_tap_while_the_batch_runs_is_told_so(tmp_path: Path) -> None:
    sandbox = SandboxPanel(latency=0.05)
    async with Harness(tmp_path, sandbox) as bot:
        shown = await preview(bot, order_lines(3))
        await bot.tap(USER, shown.button("✅"))
        progress = bot.last(USER)
        assert "Placing 3 orders" in progress.text and "0 of 3 done" in progress.text
        await bot.tap(USER, shown.button("✅"))
        assert "being placed already" in bot.answers()[-1].params["text"]
        await bot.tap(USER, cb.MASS_DROP(cb.MASS_CONFIRM.parse(shown.button("✅"))[0]))
        await bot.state.mass_job.wait()
        assert bot.sandbox.calls["add"] == 3
        assert "3 of 3 placed" in bot.last(USER).text


async def test_cancel_drops_the_preview_and_its_confirm_expires(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        shown = await preview(bot, order_lines(2))
        dropped = await bot.tap(USER, shown.button("✖️"))
        assert "Nothing was ordered" in dropped.text
        await bot.tap(USER, shown.button("✅"))
        assert "expired" in bot.last(USER).text
        assert bot.sandbox.calls["add"] == 0


async def test_a_newer_preview_expires_the_older_one(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        first = await preview(bot, order_lines(2))
        second = await preview(bot, order_lines(1, start=5))
        await bot.tap(USER, first.button("✅"))
        assert "expired" in bot.last(USER).text
        await confirm_mass(bot, second)
        assert bot.sandbox.calls["add"] == 1


async def test_another_user_cannot_confirm_a_batch(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        shown = await preview(bot, order_lines(2))
        await bot.tap(OTHER, shown.button("✅"))
        assert "expired" in bot.last(OTHER).text
        assert bot.sandbox.calls["add"] == 0


async def test_a_stop_mid_batch_goes_on_at_the_next_start_without_sending_a_line_twice(
    tmp_path: Path,
) -> None:
    sandbox = SandboxPanel(latency=0.02)
    async with Harness(tmp_path, sandbox) as bot:
        shown = await preview(bot, order_lines(10))
        await bot.tap(USER, shown.button("✅"))
        while sandbox.calls["add"] < 4:
            await bot.settle()
            await asyncio.sleep(0.01)
        # leaving the harness stops the bot: the batch stops between two lines
    sent_before = sandbox.calls["add"]
    assert 4 <= sent_before < 10
    async with Harness(tmp_path, sandbox) as bot:  # the next start goes on with it
        await bot.state.mass_job.wait()
        assert sandbox.calls["add"] == 10
        report = bot.last(USER)
        assert "10 of 10 placed" in report.text
        assert len(await bot.orders_of(USER)) == 10
        links = sorted(o.fields["link"] for o in await bot.orders_of(USER))
        assert links == sorted(f"https://instagram.com/p/m{i}" for i in range(10))


async def test_an_unfinished_order_on_a_link_and_lines_pasted_at_the_menu(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        order_id = await place(bot, USER)
        shown = await bot.say(USER, f"1|{LINK}|100\n2|https://instagram.com/p/zz|100")
        assert f"Line 1: you have an unfinished order for this link (#{order_id})" in html.unescape(
            shown.text
        )
        assert "1 order, total" in shown.text


async def test_lines_pasted_while_browsing_the_services_get_the_preview(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        await bot.say(USER, "/order")
        shown = await bot.say(USER, order_lines(2))
        assert "2 orders, total" in shown.text
        found = await bot.say(USER, "likes")  # words typed next search the services, as before
        assert "services match “likes”" in found.text


async def test_more_than_100_lines_are_refused_with_what_to_do(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        reply = await preview(bot, "/mass\n" + order_lines(MAX_ORDERS + 1))
        assert "That is 101 orders: a mass order takes at most 100" in reply.text
        reply = await preview(bot, "/mass\n" + order_lines(MAX_ORDERS))
        assert "100 orders, total" in reply.text
        assert all(len(c.text) <= 4096 for c in bot.request.sent(USER))


async def test_nothing_valid_says_what_to_correct_and_has_no_confirm(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        reply = await preview(bot, "/mass 1|https://instagram.com/p/a|5")
        assert "Line 1: Quantity: Out of range: send a number from 50 to 100,000" in reply.text
        assert "Nothing to order" in reply.text
        assert not any(text.startswith("✅") for text, _ in reply.buttons)


async def test_the_mass_order_in_indonesian(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        prompt = await bot.say(USER, "/mass", language="id")
        assert "Order massal" in prompt.text
        shown = await bot.say(USER, order_lines(2) + "\n77|https://x.com/a|5", language="id")
        assert "Baris 3" in shown.text
        assert "2 order" in shown.text
        await bot.tap(USER, shown.button("✅"), language="id")
        await bot.state.mass_job.wait()
        report = bot.last(USER).text
        assert (
            "2 dari 3" in report and "3. ⏭ x.com/a: tidak dikirim, tidak ada layanan 77" in report
        )
