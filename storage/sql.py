"""The one SQLite handle every repository shares: connection, write lock, reads, transactions.

One aiosqlite connection per process (WAL, foreign keys, busy timeout); rows are `sqlite3.Row`,
read by column name. Writes run in `BEGIN IMMEDIATE` transactions behind an asyncio lock, so
concurrent coroutines never interleave inside one transaction. A transaction opened while the
same task already holds one joins it: two repositories' writes then commit (or roll back)
together without either knowing about the other.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.errors import DatabaseUnwritable, NotADatabase
from storage.files import new_file_beside

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
# SQLite's (primary) result codes of a write the file system refused: ENOSPC is SQLITE_FULL, EFBIG and
# EIO are SQLITE_IOERR_*, a file made read-only under the bot SQLITE_READONLY_*, a folder that lost
# its write permission (no journal can be made) SQLITE_CANTOPEN.
_UNWRITABLE = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN})
# SQLite's default limit on host parameters is 32766; stay far below it.
CHUNK = 500


def now() -> float:
    """The current time as stored: seconds since the epoch (UTC)."""
    return time.time()


def to_datetime(value: float) -> datetime:
    """A stored time as a timezone-aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC)


def to_optional_datetime(value: float | None) -> datetime | None:
    return None if value is None else to_datetime(value)


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """`items` in slices small enough for one `IN (?, ?, …)` query."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(count: int) -> str:
    """'?, ?, ?' for an `IN (…)` list of `count` parameters."""
    return ", ".join("?" * count)


class _Reads:
    """Queries, the same inside a transaction and outside one."""

    _conn: aiosqlite.Connection

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            row: sqlite3.Row | None = await cursor.fetchone()  # type: ignore[assignment]
            return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())  # type: ignore[arg-type]


class Transaction(_Reads):
    """Statements inside one open transaction (see `SqlHandle.transaction`)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT; returns the new row's id."""
        async with self._conn.execute(sql, params) as cursor:
            row_id = cursor.lastrowid
        if row_id is None:
            raise sqlite3.DatabaseError("INSERT produced no row id")
        return int(row_id)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)


SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def refuse_what_is_not_sqlite(path: Path) -> None:
    """NotADatabase unless `path` is absent, empty (SQLite makes a new database of it) or SQLite."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise NotADatabase(f"{path} is a directory, not a SQLite database: point DATABASE_PATH (or db --database) at the database file") from None
    if head and head != SQLITE_MAGIC:
        raise NotADatabase(f"{path} is not a SQLite database: point DATABASE_PATH (or db --database) at the database file")


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file `path` names (device, inode), or None if none."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class SqlHandle(_Reads):
    """Owns the connection; repositories read and write only through it."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        self._open: Transaction | None = None
        self._owner: asyncio.Task[Any] | None = None
        self._where = path.absolute()  # (a later chdir does not move the database)
        self._file = _identity(self._where)

    @classmethod
    async def connect(cls, path: Path, *, read_only: bool = False) -> SqlHandle:
        """Open (or create) the file with the pragmas genrebot relies on.

        `read_only` opens an existing file without creating, migrating or writing anything.
        """
        refuse_what_is_not_sqlite(path)
        if read_only:
            conn = await aiosqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not read_only:
                await conn.execute("PRAGMA journal_mode = WAL")
                await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    async def user_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One `BEGIN IMMEDIATE … COMMIT`; rolled back if the block raises.

        Inside a transaction this task already holds, the block joins it instead of waiting
        for the lock it holds itself: the outer block decides commit or rollback.
        """
        task = asyncio.current_task()
        if self._open is not None and task is not None and self._owner is task:
            yield self._open
            return
        async with self._write_lock:
            self._refuse_a_file_gone()
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                await self._rollback()
                self._raise_if_unwritable(exc)
                raise
            except BaseException:
                # Cancelled while waiting, the BEGIN still runs in aiosqlite's thread: the ROLLBACK
                # queued behind it ends it, or the shared connection stays inside it and every
                # later write fails ("cannot start a transaction within a transaction").
                await self._rollback()
                raise
            self._open, self._owner = Transaction(self._conn), task
            try:
                yield self._open
                await self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                await self._rollback()
                self._raise_if_unwritable(exc)
                raise
            except BaseException:
                await self._rollback()
                raise
            finally:
                self._open, self._owner = None, None

    def _refuse_a_file_gone(self) -> None:
        """DatabaseUnwritable once the path no longer names the file this connection opened (removed,
        moved or replaced under the running bot): SQLite would go on writing into the unlinked file,
        which is gone, with everything written since, when the bot stops."""
        if self._file is not None and _identity(self._where) != self._file:
            log.error("the database %s was removed or replaced while genrebot ran: nothing more is written "
                      "until genrebot is restarted (put the file back first, or restore a backup)", self.path)
            raise DatabaseUnwritable(f"the database {self.path} was removed or replaced while genrebot ran")

    def _raise_if_unwritable(self, exc: sqlite3.OperationalError) -> None:
        """A write the file system refused, as storage's typed error (logged for the operator, who must
        make room or give the permission back); any other failure is left to its caller."""
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None or code & 0xFF not in _UNWRITABLE:
            return
        reason = f"{exc} ({getattr(exc, 'sqlite_errorname', code)})"
        log.error("cannot write the database %s: %s; the write was rolled back, what was stored before is intact. "
                  "Free space on its disk, or make the file and its folder writable by genrebot again", self.path, reason)
        raise DatabaseUnwritable(f"cannot write the database {self.path}: {reason}") from exc

    async def _rollback(self) -> None:
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass  # the failure ended the transaction already (or COMMIT got through)

    async def backup(self, target: Path) -> None:
        """SQLite's online backup into a new 0600 file (FileExistsError if `target` exists).

        The copy is made beside `target` and appears there only once complete and passing SQLite's
        `quick_check`: a copy cut short (disk full, an I/O error, a kill) is never at `target`, where
        an operator would later take it for a good backup.
        """
        with new_file_beside(target) as copy:
            try:
                dest = await aiosqlite.connect(copy)
                try:
                    await self._conn.backup(dest)
                    async with dest.execute("PRAGMA quick_check") as cursor:
                        verdict = [row[0] for row in await cursor.fetchall()]
                finally:
                    await dest.close()
            finally:
                for journal in ("-journal", "-wal", "-shm"):  # a failed copy's journal could not roll back
                    Path(f"{copy}{journal}").unlink(missing_ok=True)
            if verdict != ["ok"]:
                raise sqlite3.DatabaseError(f"the copy fails SQLite's quick_check ({'; '.join(verdict[:3])})")

    async def quick_check(self) -> list[str]:
        """SQLite's quick_check: ["ok"], or the first problems it found."""
        return [str(row[0]) for row in await self.fetchall("PRAGMA quick_check")]

    async def replace_contents_of(self, dest: SqlHandle) -> None:
        """Make `dest` a copy of this database, in one step of SQLite's backup: `dest` commits the
        whole copy or, cut short (a kill, a disk full), rolls back to what it was. Through `dest`'s
        own connection, so its write-ahead log stays its own (a file copied over a database whose
        stale -wal survives a crash gets that log's pages laid over it)."""
        await self._conn.backup(dest._conn)
