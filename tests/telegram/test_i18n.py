"""Catalogs: complete, consistent with the code, and Babel's formats per locale."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.telegram.i18n import LOCALES_DIR, I18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "n_": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TAG = re.compile(r"</?(\w+)")


def code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "bot", method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))  # type: ignore[arg-type]
    return found


@pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "pybabel").exists() or shutil.which("make") is None,
    reason="make messages needs the project's .venv (made by make test)",
)
def test_make_messages_changes_nothing_in_an_up_to_date_tree(tmp_path: Path) -> None:
    """A diff after `make messages` means a message changed, not a date or a wrapping."""
    copy = shutil.copytree(LOCALES_DIR, tmp_path / "locales")
    subprocess.run(
        ["make", "--no-print-directory", "-s", "messages", f"LOCALES={copy}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    for committed in sorted(LOCALES_DIR.rglob("*.po*")):
        produced = copy / committed.relative_to(LOCALES_DIR)
        assert produced.read_text() == committed.read_text(), f"run make messages: {committed}"


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_message_in_the_code_is_in_the_catalog_and_translated(language: str) -> None:
    with (LOCALES_DIR / language / "LC_MESSAGES" / "bot.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    messages = code_messages()
    assert len(messages) > 150
    missing, untranslated, inconsistent = [], [], []
    for message in messages:
        entry = catalog.get(message)
        if entry is None:
            missing.append(message)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings) or entry.fuzzy:
            untranslated.append(message)
            continue
        source = message if isinstance(message, str) else message[1]
        for text in strings:
            if set(PLACEHOLDER.findall(text)) - set(PLACEHOLDER.findall(source)):
                inconsistent.append((message, text))
            if sorted(TAG.findall(text)) != sorted(TAG.findall(source)):
                inconsistent.append((message, text))
    assert not missing, f"not in locales/{language}: {missing}"
    assert not untranslated, f"untranslated in {language}: {untranslated}"
    assert not inconsistent, f"placeholders or tags differ: {inconsistent}"


def test_money_and_numbers_follow_the_locale() -> None:
    i18n = I18n("en")
    assert i18n.get("id").money(Decimal("100842.92"), "IDR") == "Rp100.842,92"
    assert i18n.get("en").money(Decimal("100842.92"), "IDR") == "IDR100,842.92"
    assert i18n.get("en").money(Decimal("0.27819"), "USD") == "$0.27819"  # no digit lost
    assert i18n.get("id").number(1234567) == "1.234.567"
    assert i18n.get("en").money(Decimal("5"), "") == "5"


def test_one_money_rule_per_currency_in_every_language() -> None:
    en, id_ = I18n("en").get("en"), I18n("en").get("id")
    cases = [
        (Decimal("15000"), "IDR", "IDR15,000", "Rp15.000"),  # whole rupiah: no decimals
        (Decimal("15000.5"), "IDR", "IDR15,000.50", "Rp15.000,50"),  # fractions: fixed two
        (Decimal("0.9"), "IDR", "IDR0.90", "Rp0,90"),
        (Decimal("15"), "USD", "$15.00", "US$15,00"),  # a currency with cents keeps them
        (Decimal("1234.5678"), "USD", "$1,234.57", "US$1.234,57"),
        (Decimal("0.0045"), "USD", "$0.0045", "US$0,0045"),  # a small rate keeps its digits
    ]
    for amount, currency, english, indonesian in cases:
        assert (en.money(amount, currency), id_.money(amount, currency)) == (english, indonesian)


def test_plurals() -> None:
    en = I18n("en").get("en")
    assert en.n_("{n} order", "{n} orders", 1) == "{n} order"
    assert en.n_("{n} order", "{n} orders", 2) == "{n} orders"
    assert I18n("en").get("id").n_("{n} order", "{n} orders", 2) == "{n} order"


def test_language_resolution() -> None:
    i18n = I18n("en")
    assert i18n.resolve("id", "en") == "id"  # the stored choice first
    assert i18n.resolve(None, "id-ID") == "id"  # then Telegram's language
    assert i18n.resolve(None, "in") == "id"  # the old code for Indonesian
    assert i18n.resolve(None, "fr") == "en"  # else the default
    assert I18n("id").resolve(None, None) == "id"
    assert set(i18n.languages) == {"en", "id"}


def test_indonesian_speaks_as_panels_do() -> None:
    """The words Indonesian SMM users use, a warm register, and two states told apart."""
    t = I18n("en").get("id")
    assert t._("In progress") == "Berjalan" and t._("Processing") == "Diproses"
    assert "Silakan pilih menu:" in t._(
        "<b>Welcome!</b>\nOrder the panel's services, follow your orders and check the "
        "balance, right here. Choose an action:"
    )
    for word in ("Link", "Username", "Hashtag", "Refill", "Error"):
        assert t._(word) == word or t._(f"♻️ {word}") == f"♻️ {word}", word
    with (LOCALES_DIR / "id" / "LC_MESSAGES" / "bot.po").open("rb") as handle:
        catalog = read_po(handle, locale="id")
    indonesian = [m.string for m in catalog if m.id and isinstance(m.string, str)]
    for avoided in ("Tautan", "tautan", "Tagar", "tagar", "Galat", "Nama pengguna"):
        assert not [s for s in indonesian if avoided in s], avoided
