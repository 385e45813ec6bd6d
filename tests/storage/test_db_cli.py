"""`genrebot db migrate` and `genrebot db backup` from the command line."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path


def genrebot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genrebot_cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_migrate_then_backup_makes_a_consistent_copy(clean_env: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "data" / "g.sqlite3"
    env = {**clean_env, "DATABASE_PATH": str(db), "PYTHONPATH": str(Path.cwd())}
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    with sqlite3.connect(db) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("INSERT INTO app_state VALUES ('k', 'v')")
    copy = tmp_path / "backup.sqlite3"
    result = genrebot("db", "backup", str(copy), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version > 0
        assert conn.execute("SELECT value FROM app_state WHERE key = 'k'").fetchone()[0] == "v"


def test_backup_refuses_to_overwrite_and_a_missing_database(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "DATABASE_PATH": str(tmp_path / "none.sqlite3"), "PYTHONPATH": str(Path.cwd())}
    result = genrebot("db", "backup", str(tmp_path / "b.sqlite3"), env=env, cwd=tmp_path)
    assert result.returncode == 2 and "no database" in result.stderr and "Traceback" not in result.stderr
    existing = tmp_path / "exists.sqlite3"
    existing.write_text("")
    result = genrebot("db", "backup", str(existing), env=env, cwd=tmp_path)
    assert result.returncode == 2 and "already exists" in result.stderr
