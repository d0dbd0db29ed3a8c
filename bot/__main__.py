"""`smm-bot` / `python -m bot`: run the bot (polling)."""

from __future__ import annotations

import sys

from bot.app import build_application
from bot.config import load_settings
from bot.logs import setup_logging


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print("usage: smm-bot   (settings come from the environment or .env; see README.md)")
        return
    settings = load_settings()
    secrets = [settings.bot_token.get_secret_value()]
    if settings.panel_key is not None:
        secrets.append(settings.panel_key.get_secret_value())
    setup_logging(settings.log_level, settings.log_format == "json", secrets)
    application = build_application(settings)
    application.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
