"""Private files: the data directory is 0700 and what storage creates in it is 0600.

SQLite gives the -wal and -shm files the mode of the database file, so creating the database
file 0600 before SQLite opens it makes all three private.

A file someone keeps (a backup, the key file) is written beside its name and appears under it only
once complete (`new_file_beside`): a write cut short never leaves a half file that looks whole.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def new_file_beside(target: Path) -> Iterator[Path]:
    """A private (0600) temporary file beside `target` to write; when the block ends it is synced and
    appears at `target`, complete, or never: if the block raises (a write cut short, a disk full, a
    SIGTERM that unwinds) it is removed and `target` is not created. FileExistsError, before the block
    or after it, if something is at `target`: an existing file is never replaced."""
    if target.exists() or target.is_symlink():
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    # Named before it is made, and made inside the `try`: once the file exists, its removal is sure
    # (a mkstemp before the `try` leaves it behind when a SIGTERM lands in between).
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.partial")
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        yield temporary
        _sync(temporary)
        _link_new(temporary, target)
        _sync(target.parent)  # the new name itself survives a power cut
    finally:
        temporary.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


# A file system without hard links (FAT or exFAT on a USB disk, some network shares) says so with these.
NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS)


def _link_new(temporary: Path, target: Path) -> None:
    """`temporary` at `target` too, unless something is there: a link fails rather than replace it,
    where a rename would replace it silently."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        if target.exists() or target.is_symlink():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        os.rename(temporary, target)


def readable_by_others(path: Path) -> bool:
    return bool(path.stat().st_mode & 0o077)


def why_unwritable(path: Path, error: OSError) -> str:
    """Why `path` (a file to make) could not be made or written, in words: a file standing where a
    folder above it should be, else the system's reason (permission denied, read-only file system)."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file"
    return error.strerror or str(error)
