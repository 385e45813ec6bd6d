"""The `genrebot` command line: one parser, each subcommand owned by its package's `cli.py`.

Each package's `cli.register(subparsers)` adds its subcommands and keeps heavy imports (torch,
pandas, discord) inside the handlers, so `genrebot --help` stays fast. Handlers return an exit
status. Every way a command can end reaches the user as at most one line on stderr, never a
traceback: bad input or configuration (`UsageError`, argparse's own refusals) exits 2, a failure
outside the input (`CommandFailed`: the network, the disk) exits 1, a closed pipe
(`genrebot run --list-commands | head`) ends quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import NoReturn

from cli_errors import CommandFailed, UsageError
from cli_output import Terminated, end_by_sigterm

EPILOG = "Run `genrebot COMMAND --help` for a command's options, defaults and an example."


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its refusals as one line naming the command and where to find help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions keep their line breaks (for the examples); every option with a default shows it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        unset = action.default is None or action.default is False or action.default is argparse.SUPPRESS
        if "default" in help_text or unset or not action.option_strings:  # said already, or nothing to say
            return help_text
        return help_text + " (default: %(default)s)"


def version() -> str:
    try:
        return metadata.version("genrebot")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from bot import cli as bot_cli
    from sandbox import cli as sandbox_cli
    from storage import cli as storage_cli
    from training import cli as training_cli

    parser = OneLineParser(
        prog="genrebot",
        description="Sort Spotify Liked Songs into genre playlists, from Discord.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"genrebot {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (bot_cli, training_cli, storage_cli, sandbox_cli):
        module.register(subparsers)
    for subparser in subparsers.choices.values():
        _explain_defaults(subparser)
    return parser


def _explain_defaults(parser: argparse.ArgumentParser) -> None:
    """Every subcommand (and sub-subcommand) prints its defaults and keeps its example's layout."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _explain_defaults(child)


def one_blas_thread() -> None:
    """numpy's OpenBLAS, unless told otherwise, starts a thread per core, and after each product
    its threads spin, waiting for the next. genrebot's numpy products are many and small (a
    batch's family sums, pooling, the name blend): on 2 cores the second thread spun away about a
    quarter of `predict`'s CPU time (bench/RESULTS.md) and competed with the bot's event loop.
    torch keeps its own thread setting (`--threads`, the classifier's one thread). Set before
    numpy is first imported; an OPENBLAS_NUM_THREADS the user set is kept."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: Sequence[str] | None = None) -> int:
    one_blas_thread()
    try:  # Ctrl-C while the subcommands load (a slow disk, a busy machine) is one line too
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("genrebot: interrupted", file=sys.stderr)
        return 130
    command = f"genrebot {args.command}"
    try:
        status = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at interpreter exit
        return status
    except UsageError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    except CommandFailed as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    except Terminated:  # SIGTERM while output was staged: what was staged is gone; die by the signal
        end_by_sigterm()
        return 128 + 15  # not reached: the signal ends the process
    except BrokenPipeError:
        # The reader went away (`| head`): stop writing, like any Unix tool; Python's own
        # final flush would otherwise raise again at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool the pipe stopped
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
