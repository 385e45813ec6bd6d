"""The SQL handle: transactions that commit whole or not at all, joined transactions, concurrency."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from music import LikedSong
from storage import Database
from storage.errors import DatabaseUnwritable
from storage.records import RunOutcome, RunStatus, RunTrigger
from storage.sql import SqlHandle
from tests.storage.conftest import killed_at, link, new_key, track


@pytest.fixture
async def sql(tmp_path: Path):
    handle = await SqlHandle.connect(tmp_path / "t.sqlite3")
    async with handle.transaction() as tx:
        await tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    yield handle
    await handle.close()


def committed_notes(path: Path) -> list[str]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT text FROM notes ORDER BY id")]


async def test_rows_are_read_by_column_name(sql: SqlHandle) -> None:
    """fetchone and fetchall return rows indexed by column name."""
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO notes (text) VALUES ('hello')")
    row = await sql.fetchone("SELECT id, text FROM notes")
    assert row is not None and row["text"] == "hello" and row["id"] == 1


async def test_a_transaction_that_raises_leaves_nothing_behind(sql: SqlHandle) -> None:
    """An exception inside the block rolls back every statement of it."""
    with pytest.raises(RuntimeError):
        async with sql.transaction() as tx:
            await tx.execute("INSERT INTO notes (text) VALUES ('lost')")
            raise RuntimeError("boom")
    assert await sql.fetchall("SELECT text FROM notes") == []


async def test_a_transaction_opened_inside_another_commits_only_with_the_outer_one(sql: SqlHandle) -> None:
    """The inner block joins the outer transaction: nothing is visible to others until the outer commits."""
    async with sql.transaction():
        async with sql.transaction() as inner:
            await inner.execute("INSERT INTO notes (text) VALUES ('joined')")
        assert committed_notes(sql.path) == []
    assert committed_notes(sql.path) == ["joined"]


async def test_an_outer_transaction_that_raises_rolls_back_what_inner_blocks_wrote(sql: SqlHandle) -> None:
    """A completed inner block is undone when the transaction it joined fails."""
    with pytest.raises(RuntimeError):
        async with sql.transaction():
            async with sql.transaction() as inner:
                await inner.execute("INSERT INTO notes (text) VALUES ('undone')")
            raise RuntimeError("boom")
    assert committed_notes(sql.path) == []


async def test_another_task_waits_for_an_open_transaction_instead_of_joining_it(sql: SqlHandle) -> None:
    """Only the task that opened a transaction joins it; others get their own, after it."""
    opened, release, other_started = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with sql.transaction() as tx:
            await tx.execute("INSERT INTO notes (text) VALUES ('holder')")
            opened.set()
            await release.wait()

    async def other() -> None:
        other_started.set()
        async with sql.transaction() as tx:
            await tx.execute("INSERT INTO notes (text) VALUES ('other, rolled back')")
            raise RuntimeError("the other task's own transaction fails")

    holding = asyncio.create_task(holder())
    await opened.wait()
    waiting = asyncio.create_task(other())
    await other_started.wait()
    release.set()
    await holding
    with pytest.raises(RuntimeError):
        await waiting
    assert committed_notes(sql.path) == ["holder"]


async def test_a_writer_cancelled_while_its_transaction_begins_leaves_later_writes_working(sql: SqlHandle) -> None:
    """A task cancelled while its BEGIN waits (/unlink stopping a sort, a failed read stopping the
    classification ahead of it): its BEGIN still runs in aiosqlite's thread, and the next write must commit."""
    other = sqlite3.connect(sql.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another connection holds the write lock, so the BEGIN below waits
    writer_started = asyncio.Event()

    async def writer() -> None:
        writer_started.set()  # no await between here and the BEGIN: once the test runs again, it waits there
        async with sql.transaction() as tx:
            await tx.execute("INSERT INTO notes (text) VALUES ('cancelled')")

    writing = asyncio.create_task(writer())
    await writer_started.wait()
    writing.cancel()
    other.execute("ROLLBACK")  # the BEGIN gets its lock, after the task stopped waiting for it
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await writing
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO notes (text) VALUES ('after')")
    assert committed_notes(sql.path) == ["after"]


async def test_two_hundred_concurrent_writers_lose_nothing(db: Database) -> None:
    """200 coroutines writing at once: every liked song and every run is stored."""
    await link(db, 1)
    await db.tracks.upsert_many([track(i) for i in range(200)])

    async def writer(i: int) -> None:
        await db.liked.add_many(1, [LikedSong(track(i).id, datetime.now(UTC))])
        run_id = await db.runs.start(1, RunTrigger.COMMAND)
        await db.runs.finish(run_id, RunOutcome(RunStatus.SUCCEEDED, counts={"rock": i}, new_songs=1))

    await asyncio.gather(*(writer(i) for i in range(200)))
    assert await db.liked.count(1) == 200
    assert len(await db.runs.recent(1, limit=500)) == 200


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from storage import Database
    from music import Track

    async def main():
        db = await Database.open(Path(sys.argv[1]), encryption_keys=[sys.argv[3]])
        tracks = [Track(id=f"k{i:021d}", name="x", artists=("a",)) for i in range(20000)]
        await db.tracks.upsert_many(tracks)
        async with db.transaction() as tx:
            for i, t in enumerate(tracks):
                await tx.execute("INSERT INTO liked_songs VALUES (1, ?, ?)", (t.id, float(i)))
                if i == 5000:
                    print("IN-TRANSACTION", flush=True)
            await asyncio.sleep(3600)  # never commits: the kill lands inside, however late it comes

    asyncio.run(main())
    """
)


def test_a_writer_killed_mid_transaction_leaves_none_of_it(tmp_path: Path) -> None:
    """SIGKILL during a 20,000-row transaction: integrity_check passes and none of the rows remain."""
    path = tmp_path / "crash.sqlite3"
    key = new_key()
    setup = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(Path.cwd())!r})
        from pathlib import Path
        from storage import Database
        async def main():
            db = await Database.open(Path({str(path)!r}), encryption_keys=[{key!r}])
            await db.link_member(1, "sp", "M", [], {{"access_token": "a"}})
            await db.close()
        asyncio.run(main())
        """
    )
    subprocess.run([sys.executable, "-c", setup], check=True, timeout=60)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    killed_at([sys.executable, str(script), str(path), str(Path.cwd()), key], "IN-TRANSACTION")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM liked_songs").fetchone()[0] == 0


FILLS_UP = textwrap.dedent(
    """
    import asyncio, json, os, resource, sys
    from datetime import UTC, datetime
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from music import LikedSong
    from storage import Database
    from storage.records import RunOutcome, RunTrigger
    from tests.storage.conftest import TOKEN, track

    async def main():
        path = Path(sys.argv[1])
        db = await Database.open(path, encryption_keys=[sys.argv[3]])
        await db.link_member(1, "sp1", "M", [], TOKEN)
        await db.tracks.upsert_many([track(i) for i in range(100)])
        await db.liked.replace_all(1, [LikedSong(track(i).id, datetime.now(UTC)) for i in range(100)])
        run_id = await db.runs.start(1, RunTrigger.COMMAND)
        used = sum(os.path.getsize(f"{path}{end}") for end in ("", "-wal"))
        # From here no file may grow more than 64 KiB past what the database holds: a disk that fills up
        resource.setrlimit(resource.RLIMIT_FSIZE, (used + 65536, resource.RLIM_INFINITY))
        seen = {}
        try:
            await db.tracks.upsert_many([track(i) for i in range(20000)])
            seen["write"] = "stored"
        except Exception as exc:
            seen["write"] = type(exc).__name__
        await db.runs.finish(run_id, RunOutcome.failed("DatabaseUnwritable"))
        seen["run"] = (await db.runs.get(run_id)).status.value
        await db.link_member(2, "sp2", "Other", [], TOKEN)  # the bot keeps serving others
        seen["other member"] = (await db.users.get(2)).display_name
        seen["liked"] = await db.liked.count(1)
        await db.close()
        print(json.dumps(seen))

    asyncio.run(main())
    """
)


def test_a_disk_that_fills_up_mid_write_loses_nothing_stored_and_says_so(tmp_path: Path) -> None:
    """20,000 songs written when the disk has room for a few hundred (a real EFBIG, RLIMIT_FSIZE in a
    child): the write is storage's DatabaseUnwritable, not a bare sqlite3 error (members got 'something
    went wrong on my side'); its run is then recorded failed, another member's link is stored, the
    member's 100 liked songs are all there, and the file passes integrity_check."""
    path, key = tmp_path / "full.sqlite3", new_key()
    script = tmp_path / "fills_up.py"
    script.write_text(FILLS_UP)
    result = subprocess.run([sys.executable, str(script), str(path), str(Path.cwd()), key],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout) == {"write": "DatabaseUnwritable", "run": "failed",
                                         "other member": "Other", "liked": 100}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 100


async def test_a_database_removed_under_the_running_bot_takes_no_more_writes(tmp_path: Path) -> None:
    """The database's files deleted while the bot runs (an `rm`, a clean-up script): SQLite went on
    writing into the unlinked file, so every link, sort and schedule stored after it vanished at the
    next restart without a word. Writes are now refused (DatabaseUnwritable, which members are told
    as storage failing) and the file put back by the operator holds what was there."""
    path = tmp_path / "g.sqlite3"
    db = await Database.open(path, encryption_keys=[key := new_key()])
    try:
        await link(db, 1)
        await db.close()  # the bot's last clean stop: its WAL folded into the file
        saved = path.read_bytes()
        db = await Database.open(path, encryption_keys=[key])
        for end in ("", "-wal", "-shm"):
            Path(f"{path}{end}").unlink(missing_ok=True)
        with pytest.raises(DatabaseUnwritable, match="removed or replaced"):
            await link(db, 2)
        assert await db.users.get(1) is not None  # reads still answer from the open file
    finally:
        await db.close()
    path.write_bytes(saved)
    reopened = await Database.open(path, encryption_keys=[key])
    try:
        assert await reopened.users.get(1) is not None and await reopened.users.get(2) is None
    finally:
        await reopened.close()
