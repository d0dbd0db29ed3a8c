"""Catalog: load and index a 20,000-service catalog the way the bot starts (from the JSON text
of its cache); search latency."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time

from bench.data import big_catalog
from bot.core.catalog import Catalog, CatalogIndex, words
from bot.telegram.runtime import gc_paused

SEARCHES = 3000


def queries(services: list[dict[str, object]], count: int, seed: int = 1) -> list[str]:
    """What users type: one to three words of real service names, sometimes cut short."""
    rng = random.Random(seed)
    vocabulary = sorted({w for s in services for w in words(str(s["name"])) if len(w) > 2})
    typed = []
    for _ in range(count):
        picked = [rng.choice(vocabulary) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
        typed.append(" ".join(w[: rng.randint(3, len(w))] for w in picked))
    return typed


class _Cache:
    """The service cache table, holding one list as JSON text."""

    def __init__(self, payload: str) -> None:
        self._payload = payload

    async def load(self) -> tuple[float, str]:
        return time.time(), self._payload


async def _started(payload: str) -> CatalogIndex:
    """The catalog as the bot starts it: from its cache's JSON text."""
    catalog = Catalog(None, _Cache(payload), ttl=3600, pause=gc_paused)  # type: ignore[arg-type]
    await catalog.load_cached()
    return await catalog.get()


def run() -> list[tuple[str, str, str, bool]]:
    catalog = big_catalog(20_000)
    payload = json.dumps(catalog)
    loads = []
    for _ in range(5):
        started = time.perf_counter()
        index = asyncio.run(_started(payload))
        loads.append(time.perf_counter() - started)
    load_ms = statistics.median(loads) * 1000
    timings = []
    for query in queries(catalog, SEARCHES):
        started = time.perf_counter()
        index.search(query)
        timings.append(time.perf_counter() - started)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99)] * 1000
    return [
        ("catalog: load and index 20,000 services", "< 300 ms", f"{load_ms:.0f} ms", load_ms < 300),
        ("catalog: search, p99", "< 5 ms", f"{p99:.2f} ms", p99 < 5),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
