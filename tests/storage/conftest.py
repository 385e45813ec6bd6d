"""Storage fixtures: a real SQLite file with a fresh key, and small builders for rows."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from music import Track
from storage import Database

REPO = Path(__file__).resolve().parents[2]

TOKEN = {
    "access_token": "BQD-secret-access-token-XYZ",
    "refresh_token": "AQB-secret-refresh-token-ABC",
    "expires_at": 1893456000,
    "scope": "user-library-read",
    "token_type": "Bearer",
}


def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def env(clean_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The environment of a `genrebot db` run from this checkout, on a database of the test's own."""
    return {**clean_env, "DATABASE_PATH": str(tmp_path / "data" / "g.sqlite3"), "PYTHONPATH": str(REPO)}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "g.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path, encryption_keys=[new_key()])
    yield database
    await database.close()


async def link(db: Database, discord_id: int) -> None:
    await db.link_member(discord_id, f"sp{discord_id}", f"Member {discord_id}", ["user-library-read"], TOKEN)


def track(i: int, **changes: Any) -> Track:  # any of Track's fields, checked by replace()
    song = Track(id=f"t{i:021d}", name=f"Song {i}", artists=(f"Artist {i % 7}",), album="Album",
                 release_date="2020-01-01", duration_ms=200_000, explicit=False)
    return replace(song, **changes)


def killed_at(command: list[str], mark: str) -> None:
    """Run `command`, wait until it prints `mark` (the moment it is to die at), then kill -9 it:
    a process that dies mid-work, at a point the test chose, not after a sleep."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == mark
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
