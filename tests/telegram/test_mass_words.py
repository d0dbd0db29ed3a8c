"""Issue 25, point 10 through the real screens: the mass prompt's example and result."""

from __future__ import annotations

import html
import re
from pathlib import Path

from bot.telegram import callback as cb
from tests.harness import USER, Harness
from tests.telegram.test_mass import confirm_mass, order_lines, preview


async def test_the_prompts_example_names_services_of_the_catalogue(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        index = await bot.catalog.get()
        for language, comment in (("en", "# a comment"), ("id", "# sebuah komentar")):
            prompt = await bot.tap(USER, cb.MASS(), language=language)
            example = html.unescape(prompt.text.split("<pre>")[1].split("</pre>")[0])
            assert comment in example
            ids = [int(m) for m in re.findall(r"^(\d+)\s*\|", example, re.MULTILINE)]
            assert len(ids) == 2 and all(i in index.by_id for i in ids)
            shown = await bot.say(USER, example, language=language)  # the example works
            assert "✅" in shown.buttons[0][0]


async def test_the_result_says_what_was_charged_in_all(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        shown = await preview(bot, order_lines(2))
        report = await confirm_mass(bot, shown)
        assert "2 of 2 placed" in report.text
        assert "Charged in all: <b>IDR3,000</b>" in report.text  # 2 x 100 at 15,000/1000


async def test_the_result_repeats_the_lines_the_preview_refused_and_why(tmp_path: Path) -> None:
    async with Harness(tmp_path) as bot:
        lines = [
            "1|https://instagram.com/p/good|100",
            "1|https://instagram.com/p/small|5",
            "999|https://instagram.com/p/nothing|100",
            "nonsense",
        ]
        shown = await preview(bot, "/mass\n" + "\n".join(lines))
        report = await confirm_mass(bot, shown)
        assert "1 of 4 placed" in report.text
        assert "1. ✅ #" in report.text
        assert "2. ⏭ instagram.com/p/small: not sent, " in report.text
        assert "from 50 to 100,000" in report.text.split("2. ⏭", 1)[1].split("\n", 1)[0]
        assert "3. ⏭ instagram.com/p/nothing: not sent, there is no service 999" in report.text
        assert "4. ⏭ —: not sent, not service_id|link|quantity" in report.text
        assert "Charged in all: <b>IDR1,500</b>" in report.text
        indonesian = await bot.tap(USER, shown.button("✅"), language="id")  # placed already
        assert bot.sandbox.calls["add"] == 1
        assert "tidak dikirim" in bot.last(USER).text or indonesian
