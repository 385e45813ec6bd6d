"""One process per database: a second start is refused in one line; a killed holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storage import Database, StorageError
from tests.storage.conftest import new_key

REPO = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from storage import Database

    async def main():
        db = await Database.open(Path(sys.argv[1]), encryption_keys=[sys.argv[3]])
        print("OPEN", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


@pytest.fixture
def holder(tmp_path: Path, db_path: Path):
    """Another process that has the database open until it is killed."""
    key = new_key()
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    proc = subprocess.Popen([sys.executable, str(script), str(db_path), str(REPO), key],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "OPEN"
    yield proc, key
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


async def test_a_second_process_on_the_same_database_is_refused_in_one_line(holder, db_path: Path) -> None:
    """While another process has it open, opening the database fails naming that process."""
    proc, key = holder
    with pytest.raises(StorageError) as refused:
        await Database.open(db_path, encryption_keys=[key])
    assert f"pid {proc.pid}" in str(refused.value) and "\n" not in str(refused.value)


async def test_a_database_held_by_a_killed_process_opens(holder, db_path: Path) -> None:
    """kill -9 of the holder releases the lock: the next start works."""
    proc, key = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    db = await Database.open(db_path, encryption_keys=[key])
    await db.close()


async def test_closing_the_database_lets_the_next_start_open_it(db_path: Path) -> None:
    """The lock lasts as long as the database is open in this process."""
    key = new_key()
    first = await Database.open(db_path, encryption_keys=[key])
    await first.close()
    second = await Database.open(db_path, encryption_keys=[key])
    await second.close()
