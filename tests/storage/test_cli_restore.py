"""`genrebot db restore BACKUP`, in a subprocess on real SQLite files: a backup goes back whole,
what it replaces is kept, and nothing is changed when it cannot be done."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from storage.migrations import SCHEMA_VERSION
from tests.storage.test_cli import db_that_may_write, genrebot
from tests.storage.test_maintenance import damaged_database
from tests.storage.test_migrations import database_at


def keys(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as conn:
        return [row[0] for row in conn.execute("SELECT key FROM app_state WHERE key LIKE 'song%' ORDER BY key")]


def a_database_with_a_backup(env: dict[str, str], tmp_path: Path) -> tuple[Path, Path]:
    """A migrated database holding 'song-a', and a `db backup` of it."""
    database, backup = Path(env["DATABASE_PATH"]), tmp_path / "before-update.sqlite3"
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.execute("INSERT INTO app_state VALUES ('song-a', '1')")
    assert genrebot("db", "backup", str(backup), env=env, cwd=tmp_path).returncode == 0
    return database, backup


def crash_after_writing(database: Path, key: str) -> None:
    """A process that writes `key` and dies without closing (kill -9, OOM): its write is only in
    the -wal file beside the database, which the next opener of the database replays."""
    code = ("import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('PRAGMA wal_autocheckpoint = 0'); "
            "c.execute('INSERT INTO app_state VALUES (?, ?)', (sys.argv[2], '1')); os._exit(0)")
    subprocess.run([sys.executable, "-c", code, str(database), key], check=True, timeout=60)
    assert Path(f"{database}-wal").stat().st_size > 0


def kept_aside(database: Path) -> list[Path]:
    return sorted(database.parent.glob(f"{database.name}.before-restore-*"))


def test_restore_puts_the_backup_back_over_a_database_a_crash_left_with_a_write_ahead_log(
        env: dict[str, str], tmp_path: Path) -> None:
    """After a crash (a -wal left beside the database), `db restore` makes the database the backup,
    exactly and whole (a file copied over it would get the stale log's pages laid on top), and keeps
    the database it replaced, crash's last write included, beside it."""
    database, backup = a_database_with_a_backup(env, tmp_path)
    crash_after_writing(database, "song-b")
    result = genrebot("db", "restore", str(backup), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert keys(database) == ["song-a"]
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    [replaced] = kept_aside(database)
    assert keys(replaced) == ["song-a", "song-b"] and replaced.stat().st_mode & 0o777 == 0o600
    assert result.stdout.splitlines() == [f"restored {backup} into {database} (schema version {SCHEMA_VERSION})",
                                          f"the database it replaced is kept at {replaced}"]


async def test_restore_of_an_older_backup_says_the_next_start_migrates_it(env: dict[str, str], tmp_path: Path) -> None:
    """A backup from an older genrebot is restored as it was, the operator is told it will be
    upgraded, and `db migrate` then upgrades it."""
    import asyncio

    backup = tmp_path / "old.sqlite3"
    await (await database_at(backup, 1)).close()
    result = await asyncio.to_thread(genrebot, "db", "restore", str(backup), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "(schema version 1)" in result.stdout and "`genrebot db migrate`" in result.stdout
    migrated = await asyncio.to_thread(genrebot, "db", "migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0 and f"schema version {SCHEMA_VERSION}" in migrated.stdout, migrated.stderr


async def test_restore_under_a_running_genrebot_is_refused_and_changes_nothing(
        env: dict[str, str], tmp_path: Path) -> None:
    """The bot has the database open: one line naming its pid, exit 2, the database as it was."""
    import asyncio

    from storage import Database

    database, backup = a_database_with_a_backup(env, tmp_path)
    running = await Database.open(database)
    try:
        async with running.transaction() as tx:
            await tx.execute("INSERT INTO app_state VALUES ('song-b', '1')")
        result = await asyncio.to_thread(genrebot, "db", "restore", str(backup), env=env, cwd=tmp_path)
    finally:
        await running.close()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"genrebot db: another genrebot process (pid {os.getpid()}) is using "
                                     f"{database}; stop it first")
    assert keys(database) == ["song-a", "song-b"] and kept_aside(database) == []


def not_a_genrebot_database(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE other (x)")


def from_a_newer_genrebot(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")


@pytest.mark.parametrize(("make", "says"), [
    (lambda path: path.write_text("Track URI,Track Name\n"), "is not a SQLite database"),
    (damaged_database, "malformed"),
    (not_a_genrebot_database, "is not a genrebot database"),
    (from_a_newer_genrebot, f"newer than this genrebot ({SCHEMA_VERSION}); upgrade genrebot"),
], ids=["not SQLite", "damaged", "not genrebot's", "newer genrebot"])
def test_a_backup_that_cannot_be_restored_is_one_line_and_changes_nothing(
        env: dict[str, str], tmp_path: Path, make: object, says: str) -> None:
    """A file that is not a whole genrebot database this genrebot can run: exit 2, one line, the
    database as it was, nothing kept aside."""
    database, _ = a_database_with_a_backup(env, tmp_path)
    before = database.read_bytes()
    bad = tmp_path / "bad.sqlite3"
    make(bad)  # type: ignore[operator]
    result = genrebot("db", "restore", str(bad), env=env, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and says in result.stderr, result.stderr
    assert result.stderr.strip().endswith("nothing was restored")
    assert database.read_bytes() == before and kept_aside(database) == []


def test_a_restore_killed_before_its_copy_commits_leaves_the_database_as_it_was(
        env: dict[str, str], tmp_path: Path) -> None:
    """kill -9 while the restore waits to write into the database (the test holds its write lock):
    the database keeps every row, and the next `db migrate` opens it (the kernel dropped the lock)."""
    database, backup = a_database_with_a_backup(env, tmp_path)
    with closing(sqlite3.connect(database, isolation_level=None)) as holder:
        holder.execute("INSERT INTO app_state VALUES ('song-b', '1')")
        holder.execute("BEGIN IMMEDIATE")
        child = subprocess.Popen([sys.executable, "-m", "genrebot_cli", "db", "restore", str(backup)],
                                 env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not kept_aside(database) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # the database is kept aside just before the copy into it
        assert kept_aside(database) and child.poll() is None, child.communicate()[1]
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
        holder.execute("ROLLBACK")
    assert keys(database) == ["song-a", "song-b"]
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("damage", [damaged_database, lambda path: path.write_bytes(b"\0garbage" * 512)],
                         ids=["malformed page", "not SQLite any more"])
def test_restore_over_a_damaged_database_puts_the_backup_back_and_keeps_the_damaged_file(
        env: dict[str, str], tmp_path: Path, damage: Callable[[Path], object]) -> None:
    """The database is damaged (a page of garbage: SQLite says 'malformed'; or its header overwritten),
    the very case a backup is for: `db restore` puts the backup back, and keeps the damaged file aside
    byte for byte (SQLite cannot copy it)."""
    database, backup = a_database_with_a_backup(env, tmp_path)
    database.unlink()
    damage(database)
    damaged = database.read_bytes()
    result = genrebot("db", "restore", str(backup), env=env, cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert keys(database) == ["song-a"]
    [replaced] = kept_aside(database)
    assert replaced.read_bytes() == damaged and replaced.stat().st_mode & 0o777 == 0o600
    assert f"the database it replaced is kept at {replaced}" in result.stdout


def test_a_restore_whose_copy_fills_the_disk_is_one_line_and_leaves_the_database_as_it_was(
        env: dict[str, str], tmp_path: Path) -> None:
    """The backup (2 MB) does not fit (no file may grow past 256 KiB): one line naming the failure and
    where the database it would have replaced is kept, exit 2, and the database keeps every row."""
    database, backup = Path(env["DATABASE_PATH"]), tmp_path / "big.sqlite3"
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.executemany("INSERT INTO app_state VALUES (?, ?)", ((f"k{i}", "v" * 4000) for i in range(500)))
    assert genrebot("db", "backup", str(backup), env=env, cwd=tmp_path).returncode == 0
    with closing(sqlite3.connect(database, isolation_level=None)) as conn:
        conn.execute("DELETE FROM app_state WHERE key LIKE 'k%'")
        conn.execute("INSERT INTO app_state VALUES ('song-b', '1')")
        conn.execute("VACUUM")
    result = db_that_may_write(256 * 1024, "restore", backup, env, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"genrebot db: the restore of {backup} failed: ")
    [replaced] = kept_aside(database)
    assert f"the database was left as it was (a copy of it is at {replaced})" in result.stderr
    assert keys(database) == keys(replaced) == ["song-b"]
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0


def test_a_restore_over_a_damaged_database_that_fills_the_disk_puts_the_damaged_file_back(
        env: dict[str, str], tmp_path: Path) -> None:
    """The damaged database is kept aside byte for byte and removed before the copy in; that copy
    fails (no file past 256 KiB): the damaged file is back where it was, byte for byte, and one line says so."""
    database, backup = Path(env["DATABASE_PATH"]), tmp_path / "big.sqlite3"
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.executemany("INSERT INTO app_state VALUES (?, ?)", ((f"k{i}", "v" * 4000) for i in range(500)))
    assert genrebot("db", "backup", str(backup), env=env, cwd=tmp_path).returncode == 0
    database.unlink()
    database.write_bytes(b"\0garbage" * 512)
    result = db_that_may_write(256 * 1024, "restore", backup, env, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith(f"genrebot db: the restore of {backup} failed: ")
    assert "the database was put back as it was" in result.stderr and len(result.stderr.splitlines()) == 1
    assert database.read_bytes() == b"\0garbage" * 512 and kept_aside(database) == []
