"""Translations (gettext catalogs managed with Babel) and locale-aware formatting.

Messages are marked with `t._("...")` and `t.n_("one", "many", n)` on a `Translator`, or
with `N_("...")` where the text is translated later. `make messages` extracts them into
`bot/locales/bot.pot` and merges them into every `bot/locales/<lang>/LC_MESSAGES/bot.po`.
The .po files are compiled in memory at start, so no generated file is kept in the tree.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import NullTranslations, Translations

from bot.core.money import WHOLE_UNITS

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "bot"
LANGUAGE_ALIASES = {"in": "id"}


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Translator:
    """One language: messages and numbers, dates and money in its locale."""

    language: str
    translations: NullTranslations
    locale: Locale

    def _(self, message: str) -> str:
        return self.translations.gettext(message)

    def n_(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def money(self, amount: Decimal, currency: str) -> str:
        """One rule per currency, the same in every language (only the locale's symbols and
        separators differ): a whole amount of rupiah (or of a currency without cents) has no
        decimals (`Rp15.000`); other amounts have the currency's decimals (`Rp100.842,92`,
        `$15.00`); an amount below 1 keeps up to 5 (a rate of `$0.27819` per 1000)."""
        return _money(amount, currency, self.language)

    def datetime(self, moment: datetime) -> str:
        return format_datetime(moment, format="short", locale=self.locale)


SMALL_DECIMALS = 5


def money_decimals(amount: Decimal, currency: str) -> int:
    digits = max(2, get_currency_precision(currency)) if currency else 2
    if amount == amount.to_integral_value():
        return 0 if not currency or currency in WHOLE_UNITS else digits
    if abs(amount) < 1:
        needed = -int(amount.normalize().as_tuple().exponent)
        return min(max(needed, digits), SMALL_DECIMALS)
    return digits


@lru_cache(maxsize=65_536)
def _money(amount: Decimal, currency: str, language: str) -> str:
    """Babel's formatting is slow and menus show the same prices again and again."""
    decimals = money_decimals(amount, currency)
    number = "#,##0" + ("." + "0" * decimals if decimals else "")
    if not currency:
        return format_decimal(amount, format=number, locale=language)
    pattern = _CURRENCY_PATTERN.sub(number, _currency_pattern(language))
    return format_currency(amount, currency, format=pattern, locale=language, currency_digits=False)


_CURRENCY_PATTERN = re.compile(r"#,##0(\.0+)?")


@lru_cache(maxsize=16)
def _currency_pattern(language: str) -> str:
    return str(Locale.parse(language).currency_formats["standard"].pattern)


class I18n:
    """Every catalog under `locales/`, loaded once."""

    def __init__(self, default_language: str, locales_dir: Path = LOCALES_DIR) -> None:
        self._translators: dict[str, Translator] = {}
        for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            language = po_path.parent.parent.name
            self._translators[language] = Translator(
                language, _compile(po_path, language), Locale.parse(language)
            )
        if default_language not in self._translators:
            self._translators[default_language] = Translator(
                default_language, NullTranslations(), Locale.parse(default_language)
            )
        self.default_language = default_language

    @property
    def languages(self) -> list[str]:
        return sorted(self._translators)

    def resolve(self, stored: str | None, telegram_code: str | None) -> str:
        """The user's stored choice, else Telegram's language, else the default."""
        for candidate in (stored, telegram_code):
            if not candidate:
                continue
            code = candidate.replace("_", "-").split("-")[0].lower()
            code = LANGUAGE_ALIASES.get(code, code)
            if code in self._translators:
                return code
        return self.default_language

    def get(self, language: str) -> Translator:
        return self._translators.get(language) or self._translators[self.default_language]


def _compile(po_path: Path, language: str) -> Translations:
    stat = po_path.stat()
    return _compiled(po_path, language, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _compiled(po_path: Path, language: str, mtime_ns: int, size: int) -> Translations:
    """Once per version of a catalog file (its translations are only read): parsing one
    costs more than building the rest of an application, which a test run does hundreds of
    times."""
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)
