"""The `genrebot` command line: one parser, each subcommand owned by its package's `cli.py`.

Each package's `cli.register(subparsers)` adds its subcommands and keeps heavy imports (torch,
pandas, discord) inside the handlers, so `genrebot --help` stays fast. Handlers return an exit
status; `UsageError` (bad input, bad configuration) prints one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cli_errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    from bot import cli as bot_cli
    from sandbox import cli as sandbox_cli
    from storage import cli as storage_cli
    from training import cli as training_cli

    parser = argparse.ArgumentParser(
        prog="genrebot",
        description="Sort Spotify Liked Songs into genre playlists, from Discord.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (bot_cli, training_cli, storage_cli, sandbox_cli):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(f"genrebot {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"genrebot {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
