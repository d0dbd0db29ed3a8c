"""Settings: names, defaults, validation messages, secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import DEFAULT_PANEL_URL, Settings
from tests.harness import TOKEN, make_settings

ROOT = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, bot_token=TOKEN, panel_key="k")  # type: ignore[call-arg]
    assert settings.panel_url == DEFAULT_PANEL_URL
    assert settings.database_path == Path("data/bot.db")
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.poll_interval == 60 and settings.default_language == "en"
    assert settings.conversation_timeout == 900
    assert settings.admin_ids == frozenset() and settings.allowed_ids == frozenset()


def test_ids_and_amounts_parse(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, admin_ids="1, 2,3", allowed_ids="", low_balance="5000.5")
    assert settings.admin_ids == {1, 2, 3} and settings.allowed_ids == frozenset()
    assert settings.low_balance == Decimal("5000.5")


def test_read_from_the_environment_and_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nPANEL_URL=sandbox\nADMIN_IDS=5\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADMIN_IDS", "6,7")
    settings = Settings()  # type: ignore[call-arg]
    assert settings.uses_sandbox and settings.admin_ids == {6, 7}  # the environment wins


def test_a_key_is_required_unless_the_sandbox_is_used() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, bot_token=TOKEN)  # type: ignore[call-arg]
    assert Settings(_env_file=None, bot_token=TOKEN, panel_url="sandbox").panel_key is None  # type: ignore[call-arg]


def test_secrets_never_in_reprs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, panel_url="https://p.test/api/v2", panel_key="KEY-123456")
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert TOKEN not in text and "KEY-123456" not in text


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PANEL_URL": "sandbox"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": TOKEN, "PANEL_URL": "sandbox", "ADMIN_IDS": "abc"}, "ADMIN_IDS"),
        ({"BOT_TOKEN": TOKEN, "PANEL_URL": "sandbox", "POLL_INTERVAL": "soon"}, "POLL_INTERVAL"),
        ({"BOT_TOKEN": "not-a-token", "PANEL_URL": "sandbox"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": TOKEN}, "PANEL_KEY"),
        (
            {"BOT_TOKEN": TOKEN, "PANEL_URL": "sandbox", "DEFAULT_LANGUAGE": "xx"},
            "DEFAULT_LANGUAGE",
        ),
    ],
)
def test_a_bad_setting_prints_what_is_expected_and_exits_2(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    result = run_bot(tmp_path, env)
    assert result.returncode == 2
    assert variable in result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert TOKEN not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
