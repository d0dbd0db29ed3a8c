"""The cached, indexed service list."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.adapters.sandbox.panel import SandboxPanel
from bot.adapters.sqlite.store import SqliteStore
from bot.core.api import Service
from bot.core.catalog import Catalog, CatalogIndex
from bot.core.panel import PanelUnavailable
from tests.conftest import load_catalog
from tests.harness import Clock, sandbox_client


def services(*rows: tuple[int, str, str]) -> list[Service]:
    return [
        Service.model_validate(
            {
                "service": i,
                "name": name,
                "type": "Default",
                "category": category,
                "rate": "1",
                "min": 1,
                "max": 10,
            }
        )
        for i, name, category in rows
    ]


def test_categories_keep_the_panels_order_with_counts() -> None:
    index = CatalogIndex(services((1, "a", "Zeta"), (2, "b", "Alpha"), (3, "c", "Zeta")), 0)
    assert [(c.name, len(c.services)) for c in index.categories] == [("Zeta", 2), ("Alpha", 1)]
    key = index.categories[0].key
    assert index.category(key) is index.categories[0]
    assert len(key) == 8 and index.category("nope") is None


def test_search_is_case_and_accent_insensitive_and_ranked() -> None:
    index = CatalogIndex(
        services(
            (1, "Instagram Followers", "Instagram"),
            (2, "Followers Instagram Réel", "Instagram"),
            (3, "YouTube Views", "YouTube"),
            (4, "Likes", "Instagram Likes"),
            (5, "instagramfollowersplus", "Other"),
        ),
        0,
    )
    found, total = index.search("REEL follow")
    assert [s.id for s in found] == [2] and total == 1
    found, total = index.search("instagram")
    # exact word in the name first, then a prefix of a name word, then the category only
    assert [s.id for s in found] == [1, 2, 5, 4]
    assert index.search("tiktok") == ([], 0)
    assert index.search("   ") == ([], 0)
    assert index.search("<b>&") == ([], 0)


async def test_ttl_background_refresh_and_stale_when_the_panel_is_down(
    store: SqliteStore, clock: Clock
) -> None:
    sandbox = SandboxPanel()
    catalog = Catalog(sandbox_client(sandbox, attempts=1), store.services, ttl=60, clock=clock)
    index = await catalog.get()
    assert sandbox.calls["services"] == 1
    assert await catalog.get() is index  # fresh: served from memory
    clock.advance(61)
    sandbox.fail_next("500")
    assert await catalog.get() is index  # stale is served at once...
    await asyncio.sleep(0.05)  # ...while a refresh runs in the background and fails
    assert await catalog.get() is index
    await asyncio.sleep(0.05)
    assert sandbox.calls["services"] == 1  # a failed refresh waits before the next try
    sandbox.services = sandbox.services[:3]
    sandbox.__post_init__()
    clock.advance(61)
    await catalog.get()
    await asyncio.sleep(0.05)
    assert len((await catalog.get()).services) == 3

    # A restart with the panel down still has the cached list.
    restarted = Catalog(sandbox_client(sandbox, attempts=1), store.services, ttl=60, clock=clock)
    await restarted.load_cached()
    sandbox.fail_next("500", times=5)
    assert len((await restarted.get()).services) == 3


async def test_no_cache_and_the_panel_down_is_an_error(store: SqliteStore) -> None:
    sandbox = SandboxPanel()
    sandbox.fail_next("html")
    catalog = Catalog(sandbox_client(sandbox, attempts=1), store.services, ttl=60)
    with pytest.raises(PanelUnavailable):
        await catalog.get()


def test_real_catalogs_index_and_search(catalogs: list[Path]) -> None:
    for path in catalogs:
        index = CatalogIndex([Service.model_validate(s) for s in load_catalog(path)], 0)
        assert sum(len(c.services) for c in index.categories) == len(index.services)
        found, total = index.search("youtube views")
        assert found and total >= len(found)
        assert all("youtube" in (s.name + s.category).lower() for s in found)
