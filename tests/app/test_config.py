"""Settings: names, defaults, validation messages, secrets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import DEFAULT_PANEL_URL, Settings, describe_errors
from tests.harness import TOKEN, make_settings

ROOT = Path(__file__).resolve().parents[2]


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


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_an_empty_value_is_a_setting_left_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment(monkeypatch)
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"BOT_TOKEN={TOKEN}\nPANEL_URL=sandbox\nLOW_BALANCE=\nDEPOSIT_MIN=\nADMIN_IDS=\n"
        "POLL_INTERVAL=\nWEBHOOK_PORT=\nWEBHOOK_URL=\nLOG_LEVEL=\n"
    )
    monkeypatch.setenv("PANEL_TIMEOUT", "")
    settings = Settings(_env_file=dotenv)  # type: ignore[call-arg]
    assert settings.low_balance is None and settings.deposit_min == 0
    assert settings.admin_ids == frozenset() and settings.poll_interval == 60
    assert settings.webhook_port == 8443 and settings.webhook_url is None
    assert settings.log_level == "INFO" and settings.panel_timeout == 30


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("50000", Decimal(50_000)),
        ("50.000", Decimal(50_000)),  # how an Indonesian writes fifty thousand
        ("50,000", Decimal(50_000)),
        ("1.000.000", Decimal(1_000_000)),
        ("50 000", Decimal(50_000)),
        ("12.5", Decimal("12.5")),
        ("12,50", Decimal("12.50")),
        ("0.001", Decimal("0.001")),  # a leading 0 is no group of thousands
        ("50.000,50", Decimal("50000.50")),
        ("50,000.50", Decimal("50000.50")),
        (" 7 ", Decimal(7)),
    ],
)
def test_amounts_are_read_as_they_are_written(
    tmp_path: Path, written: str, amount: Decimal
) -> None:
    settings = make_settings(tmp_path, low_balance=written, deposit_min=written)
    assert settings.low_balance == amount and settings.deposit_min == amount


@pytest.mark.parametrize(
    "written", ["1.000.00", "12.345.678,9.1", "1e9", "5.0000.000", "-5", "Rp5000", "١٠٠"]
)
def test_an_amount_that_reads_two_ways_or_none_is_refused(tmp_path: Path, written: str) -> None:
    with pytest.raises(ValidationError) as refused:
        make_settings(tmp_path, low_balance=written)
    assert "LOW_BALANCE is not valid. Expected an amount" in describe_errors(refused.value)


def test_the_amount_type_serves_each_amount_setting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, deposit_max="2.500.000", markup_percent="12,5")
    assert settings.deposit_max == Decimal(2_500_000) and settings.markup_percent == Decimal("12.5")


def test_every_setting_is_in_env_example_and_each_line_works_uncommented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_environment(monkeypatch)
    example = (ROOT / ".env.example").read_text().splitlines()
    assignment = re.compile(r"^(# )?([A-Z_]+)=(.*)$")
    found = [(n, m) for n, m in enumerate(map(assignment.match, example)) if m]
    assert {m.group(2) for _, m in found} == {name.upper() for name in Settings.model_fields}
    commented = [(n, m.group(2), m.group(3)) for n, m in found if m.group(1)]
    assert len(commented) >= 20
    for number, name, value in commented:
        lines = list(example)
        lines[number] = f"{name}={value}"
        dotenv = tmp_path / ".env"
        dotenv.write_text("\n".join(lines) + "\n")
        settings = Settings(_env_file=dotenv, panel_key="k")  # type: ignore[call-arg]
        assert getattr(settings, name.lower()) is not None, name


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
        ({"BOT_TOKEN": TOKEN, "PANEL_URL": "sandbox", "DEPOSIT_MIN": "50.000.00"}, "DEPOSIT_MIN"),
        ({"BOT_TOKEN": TOKEN, "PANEL_URL": "sandbox", "HTTPS_PROXY": "socks5://p"}, "HTTPS_PROXY"),
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


def test_sentry_dsn_without_sentry_sdk_installed_is_one_line(tmp_path: Path) -> None:
    hidden = tmp_path / "without-sentry" / "sentry_sdk"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {
        "BOT_TOKEN": TOKEN,
        "PANEL_URL": "sandbox",
        "SENTRY_DSN": "https://public-key@sentry.example.com/1",
        "PYTHONPATH": f"{hidden.parent}{os.pathsep}{ROOT}",
    }
    result = run_bot(tmp_path, env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SENTRY_DSN is set but sentry-sdk is not installed: "
        "pip install 'smm-bot[sentry]' (make installs it)."
    ]


def test_every_secret_is_blanked_in_each_form_it_travels_in(tmp_path: Path) -> None:
    import base64

    from bot.commands import secrets_of
    from bot.logs import redact

    settings = make_settings(
        tmp_path,
        panel_key="panel-key-123",
        tripay_api_key="tripay-api-456",
        tripay_private_key="tripay-private-789",
        midtrans_server_key="SB-Mid-server-abc",
    )
    secrets = secrets_of(settings, "webhook-secret-xyz")
    basic = base64.b64encode(b"SB-Mid-server-abc:").decode()  # httpx's Authorization header
    values = [TOKEN, "panel-key-123", "tripay-api-456", "tripay-private-789", basic]
    values.append("webhook-secret-xyz")
    blanked = redact("Authorization: Basic " + " ".join(values), secrets)
    assert blanked.startswith("Authorization: Basic ")
    for value in values:
        assert value not in blanked


def test_settings_and_the_health_check_load_nothing_of_the_bot_itself(tmp_path: Path) -> None:
    """A bad setting is told, and `smm-bot health` (a container runs it every 30 s) answers,
    without loading Telegram, HTTP or the database: a fraction of the start-up time."""
    script = (
        "import sys; import bot.__main__; "
        "print(sorted(m for m in ('telegram', 'httpx', 'aiosqlite', 'bot.app', 'bot.commands')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
