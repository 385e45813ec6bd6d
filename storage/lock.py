"""One process per database: an exclusive lock on `<database>.lock`, held while it is open.

Two bots on one database would both run the weekly refreshes and each mark the other's live
runs failed at start-up. The lock is an `flock`, so the kernel releases it when its process
ends, even on `kill -9`; the file holds the owner's pid for the refusal message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.errors import StorageError
from storage.files import PRIVATE_FILE


class DatabaseInUse(StorageError):
    """Another process has the database open."""


class DatabaseLock:
    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database: Path) -> DatabaseLock:
        """Take the lock or raise DatabaseInUse naming the holder's pid."""
        path = database.with_name(database.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DatabaseInUse(
                f"another genrebot process (pid {holder}) is using {database}; stop it first"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
