"""Subcommands owned by the bot package: `run` (the Discord bot), `demo` and `sort`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN and a Spotify app)")
    run.add_argument("--sync", action="store_true", help="sync slash commands with Discord at start-up")
    run.add_argument(
        "--list-commands",
        action="store_true",
        help="print the slash-command tree as JSON and exit (no token, no connection)",
    )
    run.set_defaults(handler=_run)

    demo = subparsers.add_parser(
        "demo", help="link a demo member and sort their library against the local Spotify sandbox"
    )
    demo.add_argument("--data-dir", type=Path, help="where the demo's database and charts go")
    demo.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    demo.set_defaults(handler=_demo)


def _settings() -> Any:
    from bot.settings import SettingsError, load_settings
    from genrebot_cli import UsageError

    try:
        return load_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def _run(args: argparse.Namespace) -> int:
    from bot.settings import SettingsError
    from genrebot_cli import UsageError

    settings = _settings()
    if args.list_commands:
        from bot.app import command_tree_json

        print(command_tree_json())
        return 0
    try:
        settings.require("discord_token", "spotify_client_id", "spotify_client_secret")
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    from bot.app import run_bot

    return run_bot(settings, sync_commands=args.sync)


def _demo(args: argparse.Namespace) -> int:
    from bot.app import configure_logging
    from bot.demo import main
    from bot.settings import default_data_dir

    configure_logging("WARNING")
    data_dir = args.data_dir or default_data_dir() / "demo"
    return main(data_dir.expanduser(), args.json)
