"""`smm-bot` (or `python -m bot`): run the bot; `smm-bot check`, `smm-bot health`,
`smm-bot backup PATH`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.adapters.payments.qris import InvalidQris, parse_static
from bot.config import load_settings
from bot.heartbeat import health


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="smm-bot",
        description="Telegram front end for SMM panels. Settings come from the environment "
        "or .env (see README.md).",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser("check", help="check the configuration, the bot token and the panel key")
    commands.add_parser("health", help="whether the running bot is alive (its heartbeat)")
    backup_parser = commands.add_parser("backup", help="copy the live database to PATH")
    backup_parser.add_argument("path", type=Path)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    settings = load_settings()
    if "qris" in settings.payments and settings.qris_static:
        try:
            parse_static(settings.qris_static)
        except InvalidQris as exc:
            print(f"Configuration error: QRIS_STATIC is {exc}.", file=sys.stderr)
            sys.exit(2)
    if args.command == "health":
        sys.exit(0 if health(settings) else 1)
    # The bot itself is loaded only now: a bad setting is told, and the health check (run
    # every 30 s by a container) answers, in a fraction of the bot's start-up time.
    from bot.commands import execute

    execute(args, settings)


if __name__ == "__main__":
    main()
