"""storage.maintenance: a backup is at its target whole and checked, or not at all."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from storage.maintenance import BackupFailed, backup


def damaged_database(path: Path) -> None:
    """A SQLite file whose table's root page is garbage: it opens, and SQLite's backup copies its
    pages as they are, but reading the table says the image is malformed."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE songs (name TEXT)")
        conn.executemany("INSERT INTO songs VALUES (?)", ((f"song {i}" * 100,) for i in range(50)))
        conn.commit()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    with open(path, "r+b") as handle:
        handle.seek(page_size)  # page 2, the table's root: its first byte is the page type
        handle.write(b"\xff")


async def test_a_copy_that_fails_the_check_is_not_left_as_a_backup(tmp_path: Path) -> None:
    """A backup of a damaged database is refused with SQLite's reason, and no file is left behind
    that an operator would later restore as a good backup."""
    damaged_database(tmp_path / "g.sqlite3")
    backups = tmp_path / "backups"
    with pytest.raises(BackupFailed, match="database disk image is malformed; no backup was written"):
        await backup(tmp_path / "g.sqlite3", backups / "before-update.sqlite3")
    assert list(backups.iterdir()) == []
