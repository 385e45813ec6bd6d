"""What `genrebot db` does besides opening: inspect, back up and re-encrypt a database.

`describe` and `backup` open the file read-only: they neither migrate it nor create a key
file, so a backup taken before an upgrade is the old database as it was. `rotate_keys`
opens it normally (locked, migrated) because it rewrites tokens.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storage.database import Database
from storage.errors import CannotWrite, StorageError
from storage.files import private_directory, why_unwritable
from storage.keys import key_file_for, read_key_file
from storage.migrations import SCHEMA_VERSION
from storage.sql import SqlHandle

COUNTED_TABLES = ("users", "tokens", "tracks", "liked_songs", "genre_probabilities", "playlists", "schedules", "runs")


class NoDatabase(StorageError):
    """There is no database file at the given path."""


@dataclass(frozen=True)
class DatabaseSummary:
    path: Path
    schema_version: int
    current_version: int  # the version this genrebot migrates to
    rows: dict[str, int]  # table -> rows, for the tables that exist at this version


async def _read_only(path: Path) -> SqlHandle:
    if not path.is_file():
        raise NoDatabase(f"no database at {path}")
    return await SqlHandle.connect(path, read_only=True)


async def describe(path: Path) -> DatabaseSummary:
    """Schema version and row counts, read-only."""
    sql = await _read_only(path)
    try:
        tables = {row["name"] for row in await sql.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        rows = {}
        for table in COUNTED_TABLES:
            if table in tables:
                row = await sql.fetchone(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 - fixed names
                rows[table] = int(row["n"]) if row else 0
        return DatabaseSummary(path, await sql.user_version(), SCHEMA_VERSION, rows)
    finally:
        await sql.close()


class BackupFailed(StorageError):
    """The copy could not be completed (a disk full, an I/O error, a damaged database); nothing was
    left at the target."""


async def backup(path: Path, target: Path) -> None:
    """A consistent 0600 copy of the database as it is (FileExistsError if `target` exists); a copy
    that fails part-way leaves nothing at `target` (see `SqlHandle.backup`)."""
    sql = await _read_only(path)
    try:
        try:
            private_directory(target.parent)
        except OSError as exc:
            raise CannotWrite(f"cannot write the backup at {target}: {why_unwritable(target, exc)}") from None
        try:
            await sql.backup(target)
        except FileExistsError:
            raise
        except (OSError, sqlite3.Error) as exc:
            reason = why_unwritable(target, exc) if isinstance(exc, OSError) else str(exc)
            raise BackupFailed(f"the backup to {target} failed: {reason}; no backup was written") from None
    finally:
        await sql.close()


@dataclass(frozen=True)
class Rotation:
    reencrypted: int
    unreadable: int  # tokens no given key decrypts; left as they were
    key_file: Path | None  # the key file that also decrypted, now unneeded if nothing is unreadable


async def rotate_keys(path: Path, keys: Sequence[str]) -> Rotation:
    """Re-encrypt every token with the first of `keys`; the others (and the key file) decrypt."""
    if not keys:
        raise StorageError("set TOKEN_ENCRYPTION_KEY to the new key first, then the old ones: NEW,OLD")
    if not path.is_file():
        raise NoDatabase(f"no database at {path}")
    key_file = key_file_for(path)
    decrypting = list(keys)
    if key_file.exists():
        decrypting.append(read_key_file(key_file))
    db = await Database.open(path, encryption_keys=decrypting)
    try:
        done, unreadable = await db.tokens.reencrypt_all()
    finally:
        await db.close()
    return Rotation(done, unreadable, key_file if key_file.exists() else None)
