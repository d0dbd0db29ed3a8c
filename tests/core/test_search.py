"""Search as resellers type: short forms, Indonesian words, plurals, one letter wrong."""

from __future__ import annotations

from pathlib import Path

from bot.core.api import Service
from bot.core.catalog import CatalogIndex
from bot.core.search import forms, near_words, one_letter_off
from tests.conftest import load_catalog


def services(*rows: tuple[int, str, str]) -> list[Service]:
    return [
        Service.model_validate(
            {
                "service": i,
                "name": name,
                "type": "Default",
                "category": category,
                "rate": "1",
                "min": 10,
                "max": 1000,
            }
        )
        for i, name, category in rows
    ]


INDEX = CatalogIndex(
    services(
        (1, "Instagram Followers [Real]", "Instagram Followers"),
        (2, "Instagram Mentions User Followers", "Instagram Mentions"),
        (3, "Instagram Likes", "Instagram Likes"),
        (4, "TikTok Views", "TikTok"),
        (5, "YouTube Subscribers", "YouTube"),
        (6, "Telegram Channel Members", "Telegram"),
        (7, "X Followers", "Twitter"),
        (8, "Spotify Plays", "Spotify"),
        (9, "Facebook Page Likes", "Facebook"),
        (10, "Instagram Comments", "Instagram Comments"),
        (11, "TikTok Live Viewers", "TikTok"),
        (12, "Instagram Follower Indonesia", "Instagram Followers"),
    ),
    0,
)


def ids(query: str) -> list[int]:
    return [s.id for s in INDEX.search(query)[0]]


def test_platform_short_forms() -> None:
    assert ids("ig likes") == [3]
    assert ids("tt views")[0] == 4  # "view" also starts "viewers", ranked after
    assert ids("yt subs") == [5]
    assert ids("fb likes") == [9]
    assert ids("tg members") == [6]
    assert ids("x followers") == [7]
    assert ids("twt followers") == [7]
    assert ids("spoti") == [8]
    assert ids("twitter") == [7]  # the panel's X is found by its old name too


def test_the_instagram_followers_category_comes_first() -> None:
    found = ids("ig followers")
    assert found[:2] == [1, 12] and set(found) == {1, 2, 12}


def test_indonesian_words() -> None:
    assert ids("pengikut ig")[:2] == [1, 12]
    assert ids("suka ig") == [3]
    assert ids("tayangan tiktok")[0] == 4
    assert ids("komentar ig") == [10]
    assert ids("penonton tt") == [11]
    assert ids("anggota tg") == [6]
    assert ids("subscriber yt") == [5]


def test_plurals_and_singulars() -> None:
    assert 12 in ids("instagram followers")  # "Follower" singular in the name
    assert ids("telegram member") == [6]
    assert ids("like facebook") == [9]


def test_one_letter_wrong() -> None:
    assert ids("folowers x") == [7]
    assert ids("instagarm likes") == [3]  # two letters swapped
    assert ids("youtub subscribers") == [5]
    assert ids("spotifyy") == [8]
    assert ids("tiktok viewz")[0] == 4
    assert ids("abc") == []  # short words are never guessed
    assert ids("zzzzzz") == []


def test_short_words_match_whole_words_only() -> None:
    assert ids("x") == [7]  # not every word starting with an x
    prefixes, whole = forms("ig")
    assert prefixes == ["instagram"] and whole == ["ig"]


def test_one_letter_off() -> None:
    assert one_letter_off("folow", "follow")
    assert one_letter_off("follow", "folow")
    assert one_letter_off("likse", "likes")
    assert one_letter_off("views", "viewz")
    assert not one_letter_off("views", "views")
    assert not one_letter_off("views", "vxewz")
    assert near_words("folow", ["followers", "follow", "flow"]) == ["followers", "follow", "flow"]
    assert near_words("123456", ["123457"]) == []


def test_real_catalogs_understand_resellers(catalogs: list[Path]) -> None:
    for path in catalogs:
        index = CatalogIndex([Service.model_validate(s) for s in load_catalog(path)], 0)
        for query in ("ig followers", "pengikut ig", "folowers instagram"):
            found, total = index.search(query)
            assert total > 1, (path.name, query)
            assert all("instagram" in s.category.lower() for s in found[:10])
            assert "follower" in found[0].category.lower()
        assert index.search("ig followers")[1] == index.search("instagram follower")[1]
