"""Catalog: load and index a 20,000-service catalog; search latency."""

from __future__ import annotations

import json
import random
import statistics
import time

from pydantic import TypeAdapter

from bench.data import big_catalog
from bot.catalog import CatalogIndex
from bot.panel.models import Service

QUERIES = ["instagram followers", "youtube views", "tiktok likes", "real", "spotify plays",
           "telegram members", "twitter", "facebook page likes", "hq", "views 1"]


def run() -> list[tuple[str, str, str, bool]]:
    payload = json.dumps(big_catalog(20_000))
    adapter = TypeAdapter(list[Service])
    loads = []
    for _ in range(5):
        started = time.perf_counter()
        index = CatalogIndex(adapter.validate_json(payload), time.time())
        loads.append(time.perf_counter() - started)
    load_ms = statistics.median(loads) * 1000
    rng = random.Random(1)
    timings = []
    for _ in range(2000):
        query = rng.choice(QUERIES)
        started = time.perf_counter()
        index.search(query)
        timings.append(time.perf_counter() - started)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99)] * 1000
    return [
        ("catalog: load and index 20,000 services", "< 300 ms", f"{load_ms:.0f} ms",
         load_ms < 300),
        ("catalog: search, p99", "< 5 ms", f"{p99:.2f} ms", p99 < 5),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
