from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CATALOGS = Path(__file__).resolve().parent.parent.parent / "shared" / "catalogs"


def catalog_files() -> list[Path]:
    return sorted(CATALOGS.glob("*.json"))


@pytest.fixture
def catalogs() -> list[Path]:
    files = catalog_files()
    if not files:
        pytest.skip("shared/catalogs is not beside the repository")
    return files


def load_catalog(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))
