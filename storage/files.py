"""Private files: the data directory is 0700 and what storage creates in it is 0600.

SQLite gives the -wal and -shm files the mode of the database file, so creating the database
file 0600 before SQLite opens it makes all three private.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_directory(path: Path) -> None:
    """Create `path` (and parents) if missing; a directory created here is 0700."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)  # mkdir's mode is filtered by the umask


def private_file(path: Path) -> None:
    """Create an empty 0600 file at `path` unless one exists (an existing file is left as it is)."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE))


def new_private_file(path: Path) -> None:
    """Create an empty 0600 file; FileExistsError if something is already there."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & 0o077)


def why_unwritable(path: Path, error: OSError) -> str:
    """Why `path` (a file to make) could not be made or written, in words: a file standing where a
    folder above it should be, else the system's reason (permission denied, read-only file system)."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file"
    return error.strerror or str(error)
