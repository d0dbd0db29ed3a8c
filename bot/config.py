"""Settings, read once from the environment and `.env` into a typed object."""

from __future__ import annotations

import os
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.amounts import parse_amount
from bot.core.payments import PaymentMethod

DEFAULT_PANEL_URL = "https://esellr.id/api/v2"
SANDBOX = "sandbox"
SUPPORTED_LANGUAGES = ("en", "id")

UserIds = Annotated[frozenset[int], NoDecode]
Names = Annotated[tuple[str, ...], NoDecode]
TRIPAY_SANDBOX_URL = "https://tripay.co.id/api-sandbox"
MIDTRANS_SANDBOX_URL = "https://api.sandbox.midtrans.com"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def _written_amount(value: Any) -> Any:
    if isinstance(value, str):
        amount = parse_amount(value)
        if amount is None:
            raise ValueError("not an amount")
        return amount
    return value


SECRET_SHAPES = {
    "webhook_secret": (r"[A-Za-z0-9_-]{1,256}", "not a valid secret"),
    "https_proxy": (r"https?://\S+", "not an http proxy URL"),
    "http_proxy": (r"https?://\S+", "not an http proxy URL"),
    "sentry_dsn": (r"https?://[^@/\s]+@[^/\s]+/\S+", "not a Sentry DSN"),
}
"""What each secret setting must look like (its value is never shown, even when wrong)."""

Amount = Annotated[Decimal, BeforeValidator(_written_amount)]
"""An amount in the settings, read as the bot reads one typed in chat (`bot.core.amounts`):
`LOW_BALANCE=50.000` is fifty thousand, not fifty; what reads two ways is refused."""


class Settings(BaseSettings):
    # An empty value (`LOW_BALANCE=`) is a setting left unset: its default applies.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        env_ignore_empty=True,
    )

    bot_token: SecretStr
    panel_url: str = DEFAULT_PANEL_URL
    panel_key: SecretStr | None = None
    database_path: Path = Path("data/bot.db")
    admin_ids: UserIds = frozenset()
    allowed_ids: UserIds = frozenset()
    telegram_api_url: str = "https://api.telegram.org/bot"
    poll_interval: float = Field(default=60.0, gt=0)
    default_language: str = "en"
    conversation_timeout: float = Field(default=900.0, gt=0)
    catalog_ttl: float = Field(default=1800.0, gt=0)
    panel_timeout: float = Field(default=30.0, gt=0)
    panel_concurrency: int = Field(default=8, ge=1, le=64)
    low_balance: Amount | None = None
    log_level: LogLevel = "INFO"
    log_level_libs: LogLevel = "WARNING"
    """The libraries' records (python-telegram-bot, httpx…): their noise stays out of DEBUG."""
    log_format: Literal["text", "json"] = "text"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, gt=0, lt=65536)
    webhook_secret: SecretStr | None = None
    wallets: bool = False
    """Shop mode: users who are not admins order from a wallet of their own."""
    markup_percent: Amount = Field(default=Decimal(0), ge=0, le=1000)
    open_signup: bool = False
    deposit_instructions: str = ""
    deposit_min: Amount = Field(default=Decimal(0), ge=0)
    deposit_max: Amount = Field(default=Decimal(100_000_000), gt=0)
    referral_percent: Amount = Field(default=Decimal(0), ge=0, le=100)
    """Shop mode: a referrer's share of what the customers they brought spend (0: off)."""
    https_proxy: SecretStr | None = None
    """The proxy of https URLs (the Bot API), read from .env as from the environment."""
    http_proxy: SecretStr | None = None
    no_proxy: str | None = None
    sentry_dsn: SecretStr | None = None
    """Errors with a traceback are reported there too (needs the sentry extra)."""
    payments: Names = (PaymentMethod.MANUAL.value,)
    """How customers top up, in the order offered (`bot.core.payments.PaymentMethod`)."""
    stars_rate: Amount | None = Field(default=None, gt=0)
    """The wallet amount one Telegram Star buys."""
    tripay_url: str = TRIPAY_SANDBOX_URL
    tripay_api_key: SecretStr | None = None
    tripay_private_key: SecretStr | None = None
    tripay_merchant_code: str | None = None
    tripay_methods: Names = ("QRIS",)
    midtrans_url: str = MIDTRANS_SANDBOX_URL
    midtrans_server_key: SecretStr | None = None
    qris_static: str | None = None
    payments_listen: str = "127.0.0.1"
    payments_port: int = Field(default=8090, ge=0, lt=65536)
    payments_public_url: str | None = None
    """The public https URL in front of PAYMENTS_LISTEN:PAYMENTS_PORT; empty: the bot asks
    the gateways instead of being told."""

    @field_validator("payments", "tripay_methods", mode="before")
    @classmethod
    def _split_names(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        names = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        if info.field_name == "tripay_methods":
            names = [name.upper() for name in names]
            if bad := [n for n in names if not re.fullmatch(r"[A-Z0-9_]{2,24}", n)]:
                raise ValueError(f"{bad[0]!r} is not a Tripay method code")
        else:
            names = [name.lower() for name in names]
            known = {method.value for method in PaymentMethod}
            if bad := [n for n in names if n not in known]:
                raise ValueError(f"{bad[0]!r} is not a payment method")
        return tuple(dict.fromkeys(names))

    @field_validator("payments_public_url")
    @classmethod
    def _https_public(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith("https://"):
            raise ValueError("not an https URL")
        return value.rstrip("/") if value else value

    @field_validator("tripay_url", "midtrans_url")
    @classmethod
    def _gateway_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("not a URL")
        return value

    @field_validator("wallets", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("deposit_instructions")
    @classmethod
    def _instructions(cls, value: str) -> str:
        return value.replace("\\n", "\n").strip()

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith("https://"):
            raise ValueError("not an https URL")
        return value

    @field_validator(*SECRET_SHAPES)
    @classmethod
    def _secret_shape(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        pattern, problem = SECRET_SHAPES[info.field_name or ""]
        if value is not None and not re.fullmatch(pattern, value.get_secret_value()):
            raise ValueError(problem)
        return value

    @field_validator("admin_ids", "allowed_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p for p in value.replace(";", ",").replace(" ", ",").split(",") if p]
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"{part!r} is not a number")
            return frozenset(int(p) for p in parts)
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language {value!r}")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        head, _, tail = token.partition(":")
        if not (head.isdigit() and len(tail) >= 10):
            raise ValueError("not a bot token")
        return SecretStr(token)

    @field_validator("panel_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        value = value.strip()
        if value != SANDBOX and not value.startswith(("http://", "https://")):
            raise ValueError("not a URL")
        return value

    @model_validator(mode="after")
    def _key_needed(self) -> Settings:
        if not self.uses_sandbox and (
            self.panel_key is None or not self.panel_key.get_secret_value().strip()
        ):
            raise ValueError("PANEL_KEY is required unless PANEL_URL=sandbox")
        if self.deposit_max < self.deposit_min:
            raise ValueError("DEPOSIT_MAX is below DEPOSIT_MIN: no top-up could be made")
        if self.open_signup and not self.wallets:
            raise ValueError(
                "OPEN_SIGNUP=true needs WALLETS=on: strangers would spend the panel balance"
            )
        self._payments_ready()
        return self

    def _payments_ready(self) -> None:
        """One clear line for the first thing an enabled payment method misses."""
        methods = set(self.payments)
        if methods - {PaymentMethod.MANUAL.value} and not self.wallets:
            raise ValueError("PAYMENTS other than manual needs WALLETS=on: top-ups go to wallets")
        needed: dict[str, dict[str, object]] = {
            PaymentMethod.STARS.value: {"STARS_RATE": self.stars_rate},
            PaymentMethod.TRIPAY.value: {
                "TRIPAY_API_KEY": self.tripay_api_key,
                "TRIPAY_PRIVATE_KEY": self.tripay_private_key,
                "TRIPAY_MERCHANT_CODE": self.tripay_merchant_code,
            },
            PaymentMethod.MIDTRANS.value: {"MIDTRANS_SERVER_KEY": self.midtrans_server_key},
            PaymentMethod.QRIS.value: {"QRIS_STATIC": self.qris_static},
        }
        for method in self.payments:
            for name, value in needed.get(method, {}).items():
                text = value.get_secret_value() if isinstance(value, SecretStr) else value
                if text is None or not str(text).strip():
                    raise ValueError(f"PAYMENTS has {method}, which needs {name}; it is missing")

    @property
    def uses_sandbox(self) -> bool:
        return self.panel_url == SANDBOX

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    def is_allowed(self, user_id: int) -> bool:
        return self.open_signup or user_id in self.admin_ids or user_id in self.allowed_ids


AMOUNT_RULE = (
    " (a dot, comma or space before each group of three digits separates thousands; one dot "
    "or comma before one to five digits starts a fraction, like 12.5 or 50.000,50)"
)
EXPECTED = {
    "bot_token": "the token @BotFather gave you, like 123456789:AAE...",
    "panel_url": "the panel's API URL, like https://esellr.id/api/v2, or the word sandbox",
    "panel_key": "your API key from the panel's account page",
    "database_path": "a file path, like data/bot.db",
    "admin_ids": "comma-separated Telegram user ids (numbers), like 12345,67890",
    "allowed_ids": "comma-separated Telegram user ids (numbers), like 12345,67890",
    "telegram_api_url": "the Bot API base URL, like https://api.telegram.org/bot",
    "poll_interval": "a number of seconds greater than 0, like 60",
    "default_language": "one of: " + ", ".join(SUPPORTED_LANGUAGES),
    "conversation_timeout": "a number of seconds greater than 0, like 900",
    "catalog_ttl": "a number of seconds greater than 0, like 1800",
    "panel_timeout": "a number of seconds greater than 0, like 30",
    "panel_concurrency": "a whole number from 1 to 64, like 8",
    "low_balance": "an amount in the panel's currency, like 50000 or 50.000" + AMOUNT_RULE,
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "log_level_libs": "one of DEBUG, INFO, WARNING, ERROR",
    "log_format": "text or json",
    "webhook_url": "the public https URL Telegram should post updates to",
    "webhook_listen": "the local address to listen on, like 127.0.0.1",
    "webhook_port": "the local port to listen on, like 8443",
    "webhook_secret": "1 to 256 characters: letters, digits, _ and -",
    "wallets": "on or off",
    "markup_percent": "a percentage from 0 to 1000, like 25 or 12.5",
    "open_signup": "true or false",
    "deposit_instructions": "the text a user reads to pay a top-up (bank account, QRIS)",
    "deposit_min": "an amount in the panel's currency, 0 or more, like 10000 or 10.000"
    + AMOUNT_RULE,
    "deposit_max": "an amount in the panel's currency above 0, like 10000000 or 10.000.000"
    + AMOUNT_RULE,
    "referral_percent": "a percentage from 0 to 100, like 5 or 2.5 (0: no referrals)",
    "https_proxy": "an http proxy's URL, like http://proxy.example:3128",
    "http_proxy": "an http proxy's URL, like http://proxy.example:3128",
    "no_proxy": "comma-separated host names that are reached without the proxy",
    "sentry_dsn": "the DSN of a Sentry project, like https://key@sentry.example.com/1",
    "payments": "comma-separated ways to top up: stars, tripay, midtrans, qris, manual",
    "stars_rate": "the wallet amount one Telegram Star buys, above 0, like 250" + AMOUNT_RULE,
    "tripay_url": "Tripay's API URL: https://tripay.co.id/api-sandbox or https://tripay.co.id/api",
    "tripay_api_key": "the API key of your Tripay merchant page",
    "tripay_private_key": "the private key of your Tripay merchant page",
    "tripay_merchant_code": "your Tripay merchant code, like T0001",
    "tripay_methods": "comma-separated Tripay method codes, like QRIS,BRIVA",
    "midtrans_url": "Midtrans's API URL: https://api.sandbox.midtrans.com or "
    "https://api.midtrans.com",
    "midtrans_server_key": "the server key of your Midtrans dashboard",
    "qris_static": "the static QRIS text your bank gave you (starting 000201)",
    "payments_listen": "the local address of the payments server, like 127.0.0.1",
    "payments_port": "the local port of the payments server, like 8090",
    "payments_public_url": "the public https URL in front of the payments server",
}


def export_proxies(settings: Settings) -> None:
    """HTTPS_PROXY, HTTP_PROXY and NO_PROXY written in .env reach the HTTP clients, which read
    them from the environment only (httpx, and the Bot API's pool in bot.telegram.runtime)."""
    for name, value in (
        ("HTTPS_PROXY", settings.https_proxy),
        ("HTTP_PROXY", settings.http_proxy),
        ("NO_PROXY", settings.no_proxy),
    ):
        if value:
            os.environ[name] = value.get_secret_value() if isinstance(value, SecretStr) else value


def describe_errors(error: ValidationError) -> str:
    """One short paragraph per problem: the variable and what it expects. Never a value."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        if not name:
            lines.append(f"Configuration error: {item['msg'].removeprefix('Value error, ')}.")
            continue
        problem = "is missing" if item["type"] == "missing" else "is not valid"
        lines.append(
            f"Configuration error: {name.upper()} {problem}. "
            f"Expected {EXPECTED.get(name, 'a valid value')}. "
            "Set it in the environment or in .env (see .env.example)."
        )
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or print what is wrong and exit with status 2."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        print(describe_errors(error), file=sys.stderr)
        raise SystemExit(2) from None
