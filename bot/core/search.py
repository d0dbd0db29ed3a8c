"""What resellers type, read as the words of a panel's catalogue: platform short forms (ig,
tt, yt, fb, tg, x/twt, spoti…), Indonesian words (pengikut, suka, tayangan…), plurals, and
words with one letter wrong. Pure: the catalogue's index (`bot.core.catalog`) asks here for
the forms a query word may take."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

SHORT_FORMS: dict[str, tuple[str, ...]] = {
    "ig": ("instagram",),
    "insta": ("instagram",),
    "tt": ("tiktok",),
    "yt": ("youtube",),
    "fb": ("facebook",),
    "tg": ("telegram",),
    "tele": ("telegram",),
    "x": ("twitter",),
    "twt": ("twitter",),
    "twitter": ("x",),
    "spoti": ("spotify",),
    "spo": ("spotify",),
    "sc": ("soundcloud",),
    "li": ("linkedin",),
    "wa": ("whatsapp",),
    "dc": ("discord",),
    "th": ("threads",),
}
"""A platform's short forms, each with the words a catalogue names the platform with."""

WORDS: dict[str, tuple[str, ...]] = {
    "pengikut": ("followers", "follower"),
    "follower": ("followers",),
    "suka": ("likes", "like"),
    "like": ("likes",),
    "tayangan": ("views", "view"),
    "penayangan": ("views", "view"),
    "tontonan": ("views", "view"),
    "view": ("views",),
    "komentar": ("comments", "comment"),
    "komen": ("comments", "comment"),
    "comment": ("comments",),
    "penonton": ("viewers", "viewer", "live"),
    "viewer": ("viewers",),
    "anggota": ("members", "member"),
    "member": ("members",),
    "subscriber": ("subscribers", "subs"),
    "subscribers": ("subs", "subscriber"),
    "subs": ("subscribers", "subscriber"),
    "sub": ("subscribers", "subscriber", "subs"),
    "pelanggan": ("subscribers", "subscriber", "subs"),
    "bagikan": ("shares", "share"),
    "share": ("shares",),
    "simpan": ("saves", "save"),
    "save": ("saves",),
    "putar": ("plays", "play", "streams"),
    "play": ("plays",),
    "stream": ("streams",),
    "kunjungan": ("visits", "traffic"),
    "pengunjung": ("visitors", "traffic"),
    "trafik": ("traffic",),
    "jam": ("hours", "watch"),
    "tonton": ("watch",),
    "otomatis": ("auto",),
    "murah": ("cheap",),
    "indo": ("indonesia",),
}
"""Words resellers use (Indonesian, and singular forms) with the catalogue's words for them."""

SHORT = 2
"""Query words this short, and short forms, are matched as whole words only (`x` would
otherwise find every word starting with an x)."""
TYPO_FROM = 4
"""Words at least this long may have one letter wrong."""


def forms(term: str) -> tuple[list[str], list[str]]:
    """The forms a query word (normalized) may take: matched as prefixes, and as whole words
    only. A plural's singular is a form of it (`followers` also finds `follower`)."""
    prefixes: list[str] = []
    whole: list[str] = []
    (whole if len(term) <= SHORT or term in SHORT_FORMS else prefixes).append(term)
    for known in (SHORT_FORMS.get(term, ()), WORDS.get(term, ())):
        prefixes.extend(f for f in known if len(f) > SHORT)
        whole.extend(f for f in known if len(f) <= SHORT)
    if len(term) > TYPO_FROM and term.endswith("s") and not term.endswith("ss"):
        prefixes.append(term[:-1])
    return list(dict.fromkeys(prefixes)), list(dict.fromkeys(whole))


def one_letter_off(typed: str, word: str) -> bool:
    """Whether `word` is `typed` with one letter changed, added, left out, or two letters
    swapped."""
    if typed == word:
        return False
    lt, lw = len(typed), len(word)
    if abs(lt - lw) > 1:
        return False
    if lt == lw:
        diff = [i for i in range(lt) if typed[i] != word[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and typed[diff[0]] == word[diff[1]]
            and typed[diff[1]] == word[diff[0]]
        )
    short, long = (typed, word) if lt < lw else (word, typed)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def near_words(typed: str, vocabulary: Iterable[str]) -> list[str]:
    """The words of `vocabulary` one letter off `typed`, as a whole word or as the start of
    a longer word (`folow` finds `followers`). Only for words of `TYPO_FROM` letters or more."""
    if len(typed) < TYPO_FROM or not typed.isalpha():
        return []
    found = []
    for word in vocabulary:
        if abs(len(word) - len(typed)) <= 1:
            if one_letter_off(typed, word):
                found.append(word)
        elif len(word) > len(typed) and any(
            one_letter_off(typed, word[:n]) for n in (len(typed) - 1, len(typed), len(typed) + 1)
        ):
            found.append(word)
    return found


def closest(name: str, known: Iterable[str]) -> tuple[str | None, list[str]]:
    """`name` among `known` (case- and space-insensitive): the exact one, else None and the
    closest ones (at most three), best first."""
    by_key = {" ".join(k.casefold().split()): k for k in known}
    key = " ".join(name.casefold().split())
    if key in by_key:
        return by_key[key], []
    near = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.5)
    near += [by_key[k] for k in by_key if key and key in k and by_key[k] not in near][:3]
    return None, list(dict.fromkeys(by_key.get(k, k) for k in near))[:3]
