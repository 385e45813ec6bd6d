"""What `genrebot db` does besides opening: inspect, back up, restore and re-encrypt a database.

`describe` and `backup` open the file read-only: they neither migrate it nor create a key
file, so a backup taken before an upgrade is the old database as it was. `restore` takes the
database's lock (never under a running bot), keeps what it replaces as a backup beside it and
copies the backup in through SQLite, as it was (the next start migrates it). `rotate_keys`
opens it normally (locked, migrated) because it rewrites tokens.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from storage.database import Database
from storage.errors import CannotWrite, NotADatabase, SchemaTooNew, StorageError
from storage.files import new_file_beside, private_directory, private_file, why_unwritable
from storage.keys import key_file_for, read_key_file
from storage.lock import DatabaseLock
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


class NotARestorableBackup(StorageError):
    """The file to restore is not a whole genrebot database this genrebot can run on."""


@dataclass(frozen=True)
class Restored:
    schema_version: int  # the backup's; the next `db migrate` or start brings it up to date
    replaced: Path | None  # the database that was there, kept as a backup; None if there was none


async def restore(source: Path, path: Path) -> Restored:
    """Make the database at `path` a copy of the backup `source`. Refuses (StorageError, nothing
    changed) a source that is missing, not SQLite, damaged, not genrebot's or from a newer genrebot,
    and a database another process has open (DatabaseInUse). The database replaced is first backed
    up beside it (`<name>.before-restore-<time>`; byte for byte if it is too damaged for SQLite to
    copy, `_keep_aside`); the copy commits whole or not at all, and one that fails (a disk full) is
    RestoreFailed with the database as it was."""
    if not source.is_file():
        raise NoDatabase(f"no backup at {source}")
    if path.exists() and source.resolve() == path.resolve():
        raise NotARestorableBackup(f"{source} is the database itself; give a backup made by `genrebot db backup`")
    try:
        backup_sql = await _read_only(source)
    except NotADatabase:
        raise NotARestorableBackup(f"{source} is not a SQLite database; nothing was restored") from None
    try:
        version = await _restorable_version(backup_sql, source)
        try:
            private_directory(path.parent)
            lock = DatabaseLock.acquire(path)
        except OSError as exc:
            raise CannotWrite(f"cannot create or write {path}: {why_unwritable(path, exc)}") from None
        try:
            replaced, removed = None, False
            if path.is_file() and path.stat().st_size:
                replaced = _free_name(path.with_name(f"{path.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}"))
                removed = await _keep_aside(path, replaced)
            try:
                verdict = await _copy_in(backup_sql, path)
            except (OSError, sqlite3.Error) as exc:
                raise RestoreFailed(f"the restore of {source} failed: {_why(exc, path)}; "
                                    f"{_put_back(path, replaced, removed)}") from None
            if verdict != ["ok"]:  # not expected: the backup passed the same check
                raise NotARestorableBackup(f"{path} fails SQLite's quick_check after the restore "
                                           f"({'; '.join(verdict[:3])}); the database it replaced is {replaced}")
        finally:
            lock.release()
    finally:
        await backup_sql.close()
    return Restored(version, replaced)


class RestoreFailed(StorageError):
    """The copy into the database failed (a disk full, an I/O error); the message says where the
    database it would have replaced is."""


async def _copy_in(backup_sql: SqlHandle, path: Path) -> list[str]:
    """Copy the backup into the database at `path` (committed whole or rolled back); its quick_check."""
    private_file(path)
    database = await SqlHandle.connect(path)
    try:
        await backup_sql.replace_contents_of(database)
        return await database.quick_check()
    finally:
        await database.close()


def _why(exc: OSError | sqlite3.Error, path: Path) -> str:
    return why_unwritable(path, exc) if isinstance(exc, OSError) else str(exc)


def _put_back(path: Path, replaced: Path | None, removed: bool) -> str:
    """After a failed copy in: where the database that was there is. Copied aside through SQLite it
    is still at `path` (the copy rolled back); copied byte for byte (`removed`) its files were
    removed, so the kept copy is moved back (a rename: it needs no room)."""
    if replaced is not None and not removed:
        return f"the database was left as it was (a copy of it is at {replaced})"
    for suffix in ("-wal", "-shm", ""):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if replaced is None:
        return "there was no database before, and none is left"
    try:
        if Path(f"{replaced}-wal").is_file():
            Path(f"{replaced}-wal").replace(f"{path}-wal")
        replaced.replace(path)
    except OSError as exc:
        return f"the database it replaced is kept at {replaced} ({why_unwritable(path, exc)}): move it back by hand"
    return "the database was put back as it was"


async def _keep_aside(path: Path, target: Path) -> bool:
    """Copy the database about to be replaced to `target`: through SQLite (a -wal folded in), or,
    when SQLite cannot copy it (damaged: the case a restore is most often for), its files byte for
    byte, which are then removed so the backup goes into a new file; whether they were removed."""
    try:
        await backup(path, target)
        return False
    except (BackupFailed, NotADatabase):
        pass
    try:
        for suffix in ("", "-wal"):
            original = Path(f"{path}{suffix}")
            if original.is_file() and original.stat().st_size:  # (an empty -wal holds nothing)
                with new_file_beside(Path(f"{target}{suffix}")) as copy:
                    shutil.copyfile(original, copy)
    except OSError as exc:
        raise CannotWrite(f"cannot keep the database it replaces at {target}: {why_unwritable(target, exc)}; "
                          "nothing was restored") from None
    for suffix in ("-wal", "-shm", ""):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return True


def _free_name(path: Path) -> Path:
    """`path`, or `path-2`, `path-3`… if it is taken (two restores within a second)."""
    candidate, number = path, 2
    while candidate.exists():
        candidate, number = path.with_name(f"{path.name}-{number}"), number + 1
    return candidate


async def _restorable_version(sql: SqlHandle, source: Path) -> int:
    """The schema version of a backup this genrebot can restore, or NotARestorableBackup/SchemaTooNew."""
    try:
        verdict = await sql.quick_check()
        version = await sql.user_version()
    except sqlite3.DatabaseError as exc:
        raise NotARestorableBackup(f"{source} cannot be read as a database ({exc}); nothing was restored") from None
    if verdict != ["ok"]:
        raise NotARestorableBackup(f"{source} fails SQLite's quick_check ({'; '.join(verdict[:3])}); "
                                   "nothing was restored")
    if version == 0:
        raise NotARestorableBackup(f"{source} is not a genrebot database (no schema version); nothing was restored")
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(f"{source} has schema version {version}, newer than this genrebot ({SCHEMA_VERSION}); "
                           "upgrade genrebot to restore it; nothing was restored")
    return version


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
