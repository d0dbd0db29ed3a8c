"""The panel's service list: cached in SQLite, indexed in memory, searchable.

The list is served from the cache while it is younger than the TTL; an older one is served
as it is while a background refresh runs, and kept when the panel is down.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import logging
import re
import time
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from pydantic import TypeAdapter

from bot.core import search
from bot.core.api import Service, sellable_rate
from bot.core.panel import Panel, PanelFailure
from bot.core.ports import ServiceCache

log = logging.getLogger(__name__)

_SERVICES = TypeAdapter(list[Service])
_WORD = re.compile(r"\w+")

TERM_CACHE = 4096
RETRY_AFTER_FAILURE = 60.0
"""Seconds before a failed background refresh is tried again."""


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


_MONEY = r"(?:\$|€|£|₹|\brp\.?|\bidr\b|\busd\b|\binr\b|\beur\b)"
_PER = r"(?:\s*(?:/|per)\s*(?:1\s*k|k|1[.,]?000)\b)?"
_PRICE_TAG = re.compile(rf"(?:{_MONEY}\s*\d[\d.,]*|\d[\d.,]*\s*{_MONEY}){_PER}", re.IGNORECASE)
"""A supplier's price in a service's name: `0.82$/K`, `$0.5/1k`, `Rp 1.234/K`, `1.2$`."""
_EMPTY_BRACKETS = re.compile(r"[\[(]\s*[-–|,:]*\s*[\])]")
_AFTER_OPENING = re.compile(r"([\[(])\s*[-–|,]\s*")
_BEFORE_CLOSING = re.compile(r"\s*[-–|,]\s*([\])])")
_LOOSE_END = re.compile(r"(?:\s+[-–|,]\s*)+$|^\s*[-–|,]\s+")
_DOUBLED = re.compile(r"\s([-–|,])(?:\s+[-–|,])+\s")


def without_price_tags(name: str) -> str:
    """A service's name without the supplier's wholesale price in it (what a shop's customers
    see: the price they pay is the shop's): the price goes, and the brackets or dashes it
    leaves empty with it. A name that is nothing but a price stays as it is."""
    if not _PRICE_TAG.search(name):
        return name
    cleaned = _PRICE_TAG.sub("", name)
    for _ in range(2):  # "[ 0.4$/K - (2-5k/Hour)" and nested empties
        cleaned = _EMPTY_BRACKETS.sub("", cleaned)
        cleaned = _AFTER_OPENING.sub(r"\1", cleaned)
        cleaned = _BEFORE_CLOSING.sub(r"\1", cleaned)
    cleaned = _DOUBLED.sub(r" \1 ", " ".join(cleaned.split()))
    cleaned = _LOOSE_END.sub("", cleaned)
    return cleaned or name


def normalize(text: str) -> str:
    """Case- and accent-insensitive form of a text."""
    if text.isascii():
        return text.casefold()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


_ID = re.compile(r"^\s*#?\d{1,12}\s*$")


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


_Match = tuple[frozenset[int], frozenset[int], list[int], frozenset[int]]
"""What a query word matches: anywhere, in names, as a whole name word, by category."""


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    """A short stable id, safe for callback data."""
    name: str
    services: tuple[Service, ...]


class _WordIndex:
    """word -> positions of the services holding it, with prefix lookup over a sorted vocabulary."""

    def __init__(self, texts: Iterable[str]) -> None:
        postings: defaultdict[str, list[int]] = defaultdict(list)
        for position, text in enumerate(texts):
            for word in set(words(text)):
                postings[word].append(position)
        self._postings = dict(postings)
        self._vocabulary = sorted(postings)

    @property
    def vocabulary(self) -> list[str]:
        return self._vocabulary

    def exact(self, word: str) -> list[int]:
        return self._postings.get(word, [])

    def prefixed(self, prefix: str) -> Iterable[list[int]]:
        start = bisect.bisect_left(self._vocabulary, prefix)
        for word in self._vocabulary[start:]:
            if not word.startswith(prefix):
                break
            yield self._postings[word]


class CatalogIndex:
    """An immutable view of one service list."""

    def __init__(
        self, services: list[Service], fetched_at: float, *, words_of: CatalogIndex | None = None
    ) -> None:
        """`words_of`: an index of the same services in the same order (other rates, say),
        whose word indexes are shared instead of built again."""
        self.services = services
        self.fetched_at = fetched_at
        self.by_id = {s.id: s for s in services}
        grouped: defaultdict[str, list[int]] = defaultdict(list)
        for position, service in enumerate(services):
            grouped[service.category].append(position)
        self.categories: list[Category] = []
        self._members: list[list[int]] = []
        self._by_key: dict[str, Category] = {}
        self._places: dict[int, tuple[Category, int]] = {}
        for name, positions in grouped.items():
            key = f"{zlib.crc32(name.encode()):08x}"
            while key in self._by_key:
                key = f"{(int(key, 16) + 1) % 2**32:08x}"
            members = tuple(services[p] for p in positions)
            category = Category(key, name, members)
            self.categories.append(category)
            self._members.append(positions)
            self._by_key[key] = category
            self._places.update((s.id, (category, rank)) for rank, s in enumerate(members))
        self._names: _WordIndex
        self._category_words: _WordIndex
        if words_of is not None:
            self._names, self._category_words = words_of._names, words_of._category_words
        else:
            self._names = _WordIndex(s.name for s in services)
            self._category_words = _WordIndex(c.name for c in self.categories)
        self._terms: dict[str, _Match] = {}

    def category(self, key: str) -> Category | None:
        return self._by_key.get(key)

    def place(self, service_id: int) -> tuple[Category, int]:
        """A service's category and its rank in it."""
        return self._places[service_id]

    def _term(self, term: str) -> _Match:
        """What one query word matches: anywhere, in names, and as a whole name word. The
        word's forms count (`ig` is Instagram, `pengikut` followers, a plural its singular:
        `bot.core.search`); a word that matches nothing may have one letter wrong.
        Cached, since the same words come back (and every page of a search repeats it)."""
        cached = self._terms.get(term)
        if cached is None:
            prefixes, whole = search.forms(term)
            cached = self._matching(prefixes, whole)
            if not cached[0]:
                near = search.near_words(term, self._names.vocabulary)
                near += search.near_words(term, self._category_words.vocabulary)
                cached = self._matching([], near)
            if len(self._terms) >= TERM_CACHE:
                self._terms.clear()
            self._terms[term] = cached
        return cached

    def _matching(self, prefixes: list[str], whole: list[str]) -> _Match:
        in_names: set[int] = set()
        in_categories: set[int] = set()
        exact: set[int] = set()
        for prefix in prefixes:
            for postings in self._names.prefixed(prefix):
                in_names.update(postings)
            for categories in self._category_words.prefixed(prefix):
                in_categories.update(categories)
            exact.update(self._names.exact(prefix))
        for word in whole:
            in_names.update(self._names.exact(word))
            in_categories.update(self._category_words.exact(word))
            exact.update(self._names.exact(word))
        by_category: set[int] = set()
        for category in in_categories:
            by_category.update(self._members[category])
        matched = in_names | by_category
        return frozenset(matched), frozenset(in_names), sorted(exact), frozenset(by_category)

    def search(self, query: str, limit: int = 100) -> tuple[list[Service], int]:
        """Services matching every word of the query (by prefix, in name or category), best
        first: per word 3 points for an exact word of the name, 2 for a prefix of one, 1 for
        a match in the category only; ties go to the services whose category matches more
        words, then keep the panel's order. Each word's forms count (`bot.core.search`).
        Returns at most `limit` of them and how many matched in all. A query that is a
        service's id (`1234` or `#1234`) finds that service first."""
        by_id = self.by_id.get(int(query.strip().lstrip("#"))) if _ID.match(query) else None
        found, total = self._search_words(query, limit)
        if by_id is None:
            return found, total
        rest = [s for s in found if s.id != by_id.id]
        return [by_id, *rest][:limit], total + (len(rest) == len(found))

    def _search_words(self, query: str, limit: int) -> tuple[list[Service], int]:
        terms = list(dict.fromkeys(words(query)))[:8]
        if not terms:
            return [], 0
        candidates: set[int] | None = None
        bonuses: list[Iterable[int]] = []
        in_categories: list[frozenset[int]] = []
        for term in terms:
            matched, in_names, exact, by_category = self._term(term)
            candidates = set(matched) if candidates is None else candidates & matched
            if not candidates:
                return [], 0
            bonuses += [in_names, exact]
            in_categories.append(by_category)
        assert candidates is not None
        extra: Counter[int] = Counter()
        for bonus in bonuses:
            extra.update(candidates.intersection(bonus))
        also: Counter[int] = Counter()
        for by_category in in_categories:
            also.update(candidates.intersection(by_category))
        best = heapq.nsmallest(limit, ((-extra[p], -also[p], p) for p in candidates))
        return [self.services[position] for *_, position in best], len(candidates)


def services_from_json(
    text: str, pause: Callable[[], AbstractContextManager[None]] = nullcontext
) -> list[Service]:
    """A service list stored as JSON text (the cache the bot starts from); `pause` wraps the
    parse (the runtime pauses the collector)."""
    with pause():
        return _SERVICES.validate_json(text)


class Catalog:
    """The cached service list of one panel."""

    def __init__(
        self,
        panel: Panel,
        cache: ServiceCache,
        *,
        ttl: float,
        clock: Callable[[], float] = time.time,
        pause: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self._panel = panel
        self._pause = pause
        self._cache = cache
        self._ttl = ttl
        self._clock = clock
        self._index: CatalogIndex | None = None
        self._refreshing: asyncio.Task[None] | None = None
        self._retry_at = 0.0
        self._unsellable: set[int] = set()
        """Services left out for their rate, logged once each."""

    def _index_of(self, services: list[Service], fetched_at: float) -> CatalogIndex:
        """The index of the services a customer can be sold: one whose rate is zero,
        negative or absurd is left out (and logged the first time)."""
        sellable = [s for s in services if sellable_rate(s.rate)]
        if len(sellable) < len(services):
            left_out = {s.id for s in services} - {s.id for s in sellable}
            new = sorted(left_out - self._unsellable)
            if new:
                log.warning(
                    "%d service(s) left out for a rate no order can have: %s",
                    len(new),
                    ", ".join(map(str, new[:20])) + (" …" if len(new) > 20 else ""),
                )
            self._unsellable = left_out
        with self._pause():
            return CatalogIndex(sellable, fetched_at)

    async def load_cached(self) -> None:
        """Load the list kept in the database, if any (fast start, works with the panel down)."""
        cached = await self._cache.load()
        if cached is not None:
            fetched_at, text = cached
            self._index = self._index_of(services_from_json(text, self._pause), fetched_at)

    async def get(self) -> CatalogIndex:
        """The current index; raises `PanelFailure` only when there is none at all."""
        if self._index is None:
            await self.refresh()
        elif self._clock() - self._index.fetched_at > self._ttl and self._clock() >= self._retry_at:
            self._refresh_in_background()
        assert self._index is not None
        return self._index

    def _refresh_in_background(self) -> None:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh()
        except PanelFailure as exc:
            self._retry_at = self._clock() + min(self._ttl, RETRY_AFTER_FAILURE)
            log.warning("service list refresh failed, serving the cached one: %s", exc)

    async def refresh(self) -> None:
        services = await self._panel.services()
        now = self._clock()
        self._index = self._index_of(services, now)
        await self._cache.save(now, services)
        log.info("service list refreshed: %d services", len(services))

    async def aclose(self) -> None:
        if self._refreshing is not None and not self._refreshing.done():
            self._refreshing.cancel()
