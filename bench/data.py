"""Synthetic catalogs and orders built from the real catalogs in tests/catalogs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATALOGS = Path(__file__).resolve().parent.parent / "tests" / "catalogs"


def real_services() -> list[dict[str, Any]]:
    services: list[dict[str, Any]] = []
    for path in sorted(CATALOGS.glob("*.json")):
        services += json.loads(path.read_text(encoding="utf-8"))
    return services


def big_catalog(size: int = 20_000) -> list[dict[str, Any]]:
    """`size` services: the real ones repeated with new ids, names and categories."""
    real = real_services()
    services = []
    for number in range(size):
        base = real[number % len(real)]
        copy = number // len(real)
        services.append(
            {
                **base,
                "service": number + 1,
                "name": f"{base['name']} v{copy}" if copy else base["name"],
                "category": f"{base['category']} {copy}" if copy else base["category"],
            }
        )
    return services
