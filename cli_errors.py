"""How a `genrebot` subcommand refuses or fails: a leaf module every package's `cli.py` imports.

`UsageError` (bad input or configuration: exit 2) and `CommandFailed` (something outside the
input failed, such as the network: exit 1) both reach the user as one line on stderr, never a
traceback. The checks below refuse unusable paths given on the command line before any work
starts, in the flag's own name. This module lives apart from the entry point (`genrebot_cli`)
so each package's `cli.py` can use it without importing the module that imports them.
"""

from __future__ import annotations

import argparse
import errno
import os
from pathlib import Path


class UsageError(Exception):
    """Bad input or configuration: shown as one line, exit status 2, never a traceback."""


class CommandFailed(Exception):
    """The input was fine but the work could not be done (e.g. Discord unreachable): one line, exit 1."""


def readable_file(path: Path, flag: str) -> Path:
    """`path` if it is a file that can be read; otherwise a UsageError naming `flag`."""
    if not path.exists():
        raise UsageError(f"{flag} {path}: no such file")
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a directory; give a file")
    if not path.is_file():
        raise UsageError(f"{flag} {path} is not a regular file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot read it ({exc.strerror})") from None
    return path


def directory_or_absent(path: Path, flag: str) -> Path:
    """`path` if it is a directory or nothing yet (it will be created); otherwise a UsageError."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file, not a directory")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{flag} {path}: {parent} is a file, not a directory")
    return path


def writable_directory(path: Path, flag: str) -> Path:
    """`path`, created if absent, if this user can write in it; otherwise a UsageError naming
    `flag` as the way to choose another (a default folder under a read-only home is not the user's fault)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    except OSError as exc:
        raise UsageError(f"cannot create {path} or write in it ({exc.strerror or exc}); "
                         f"choose a folder you can write with {flag}") from None
    return path


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (a count: songs, seeds, epochs, threads)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value
