"""Storage against real SQLite files: migrations, encryption, states, concurrency, crashes."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
from cryptography.fernet import Fernet

from music import LikedSong, Track
from storage import Database, InvalidOAuthState, TokenUnreadable
from storage.database import apply_migrations
from storage.migrations import SCHEMA_VERSION
from storage.records import LinkStatus, PlaylistRecord, RunStatus, RunTrigger

TOKEN = {"access_token": "BQD-secret-access-token-XYZ", "refresh_token": "AQB-secret-refresh-token-ABC",
         "expires_at": 1893456000, "scope": "user-library-read", "token_type": "Bearer"}


@dataclass
class P:
    genre: str
    genre_confidence: float = 0.9
    subgenre: str | None = None
    subgenre_confidence: float | None = None
    genre_probabilities: dict[str, float] = field(default_factory=dict)


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "g.sqlite3", encryption_keys=[Fernet.generate_key().decode()])
    yield database
    await database.close()


async def link(db: Database, discord_id: int) -> None:
    await db.users.link(discord_id, f"sp{discord_id}", f"Member {discord_id}", ["user-library-read"], TOKEN)


def track(i: int) -> Track:
    return Track(id=f"t{i:021d}", name=f"Song {i}", artists=(f"Artist {i % 7}",), album="Album",
                 release_date="2020-01-01", duration_ms=200_000, explicit=False)


async def test_fresh_database_reaches_the_current_schema_with_wal_and_foreign_keys(db: Database) -> None:
    assert await db.schema_version() == SCHEMA_VERSION
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1


@pytest.mark.parametrize("old_version", range(1, SCHEMA_VERSION))
async def test_database_from_an_older_version_upgrades_and_keeps_its_data(tmp_path: Path, old_version: int) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, target=old_version)
        await conn.execute(
            "INSERT INTO users VALUES (1, 'sp1', 'Old Member', 0, 'user-library-read', 'linked')"
        )
    db = await Database.open(path, encryption_keys=[Fernet.generate_key().decode()])
    try:
        assert await db.schema_version() == SCHEMA_VERSION
        user = await db.users.get(1)
        assert user is not None and user.display_name == "Old Member"
        await db.runs.start(1, RunTrigger.COMMAND)  # a table from the newer version works
    finally:
        await db.close()


async def test_tokens_are_encrypted_at_rest_and_round_trip(db: Database, tmp_path: Path) -> None:
    await link(db, 7)
    assert await db.tokens.load(7) == TOKEN
    await db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("g.sqlite3"))
    assert b"secret-access-token" not in raw and b"secret-refresh-token" not in raw


async def test_wrong_key_marks_the_member_needs_relink_without_leaking_the_token(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    db = await Database.open(path, encryption_keys=[Fernet.generate_key().decode()])
    await link(db, 7)
    await db.close()
    db = await Database.open(path, encryption_keys=[Fernet.generate_key().decode()])
    try:
        with pytest.raises(TokenUnreadable) as caught:
            await db.tokens.load(7)
        assert "secret" not in str(caught.value)
        user = await db.users.get(7)
        assert user is not None and user.status == LinkStatus.NEEDS_RELINK
    finally:
        await db.close()


async def test_key_rotation_new_key_encrypts_old_key_still_decrypts(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    path = tmp_path / "g.sqlite3"
    db = await Database.open(path, encryption_keys=[old])
    await link(db, 1)
    await db.close()
    db = await Database.open(path, encryption_keys=[new, old])
    try:
        assert await db.tokens.load(1) == TOKEN
        await link(db, 2)
    finally:
        await db.close()
    db = await Database.open(path, encryption_keys=[new])
    try:
        assert await db.tokens.load(2) == TOKEN  # written with the new key
        with pytest.raises(TokenUnreadable):
            await db.tokens.load(1)  # only the old key could read this one
    finally:
        await db.close()


async def test_without_a_key_a_0600_key_file_is_created_and_reused(tmp_path: Path, caplog) -> None:
    path = tmp_path / "g.sqlite3"
    db = await Database.open(path)
    await link(db, 1)
    await db.close()
    key_file = tmp_path / "g.sqlite3.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "TOKEN_ENCRYPTION_KEY is not set" in caplog.text
    db = await Database.open(path)
    try:
        assert await db.tokens.load(1) == TOKEN
    finally:
        await db.close()


async def test_oauth_state_is_single_use_hashed_and_bound_to_its_member(db: Database) -> None:
    state = await db.oauth_states.create(42)
    assert len(state) >= 22  # >= 128 bits of url-safe base64
    stored = await db.fetchall("SELECT state_hash FROM oauth_states")
    assert state not in {row[0] for row in stored}
    assert await db.oauth_states.consume(state) == 42
    with pytest.raises(InvalidOAuthState) as reused:
        await db.oauth_states.consume(state)
    assert reused.value.reason == "used"
    with pytest.raises(InvalidOAuthState) as forged:
        await db.oauth_states.consume("forged-" + state)
    assert forged.value.reason == "unknown"


async def test_oauth_state_expires(db: Database) -> None:
    state = await db.oauth_states.create(42, ttl_seconds=-1)
    with pytest.raises(InvalidOAuthState) as caught:
        await db.oauth_states.consume(state)
    assert caught.value.reason == "expired"


async def test_two_hundred_concurrent_writers_lose_nothing(db: Database) -> None:
    await link(db, 1)
    await db.tracks.upsert_many([track(i) for i in range(200)])

    async def writer(i: int) -> None:
        await db.liked.add_many(1, [LikedSong(track(i).id, datetime.now(UTC))])
        run_id = await db.runs.start(1, RunTrigger.COMMAND)
        await db.runs.finish(run_id, RunStatus.SUCCEEDED, {"rock": i}, 1, {}, 0)

    await asyncio.gather(*(writer(i) for i in range(200)))
    assert await db.liked.count(1) == 200
    assert len(await db.runs.recent(1, limit=500)) == 200


async def test_unlink_deletes_the_members_data_in_one_go_but_keeps_shared_tracks(db: Database) -> None:
    await link(db, 1)
    await db.tracks.upsert_many([track(1)])
    await db.liked.add_many(1, [LikedSong(track(1).id, datetime.now(UTC))])
    await db.predictions.save_many("v1", {track(1).id: P("rock")})
    await db.playlists.upsert(PlaylistRecord(1, "rock", "pl1", "https://x/pl1", 1, datetime.now(UTC)))
    await db.schedules.set(1, 4, 18, "UTC", datetime.now(UTC))
    await db.guilds.add_member(10, 1)
    await db.users.unlink(1)
    assert await db.tokens.load(1) is None
    assert await db.liked.count(1) == 0
    assert await db.playlists.get_all(1) == {}
    assert await db.schedules.get(1) is None
    assert await db.fetchone("SELECT 1 FROM guild_members WHERE discord_id = 1") is None
    user = await db.users.get(1)
    assert user is not None and user.status == LinkStatus.UNLINKED
    assert track(1).id in await db.tracks.get_many([track(1).id])
    assert track(1).id in await db.predictions.get_many([track(1).id], "v1")


async def test_leaderboards_count_opted_in_linked_members_only(db: Database) -> None:
    genres = {1: ["rock"] * 6 + ["pop"] * 2, 2: ["rock"] * 2 + ["pop"] * 2, 3: ["rock"] * 50}
    n = 0
    for member, labels in genres.items():
        await link(db, member)
        await db.guilds.add_member(10, member)
        tracks = [track(n + i) for i in range(len(labels))]
        n += len(labels)
        await db.tracks.upsert_many(tracks)
        await db.liked.add_many(member, [LikedSong(t.id, datetime.now(UTC)) for t in tracks])
        await db.predictions.save_many("v1", {t.id: P(g) for t, g in zip(tracks, labels, strict=True)})
        await db.leaderboard.refresh_member(member, "v1")
    await db.guilds.set_leaderboard_opt_out(10, 3, True)
    mix = await db.leaderboard.genre_mix(10, "v1")
    assert [(g.genre, g.count) for g in mix] == [("rock", 8), ("pop", 4)]
    top = await db.leaderboard.top_members(10, "rock", "v1")
    assert [(m.discord_id, m.count) for m in top] == [(1, 6), (2, 2)]
    assert top[0].share == pytest.approx(0.75) and top[1].share == pytest.approx(0.5)
    assert await db.leaderboard.genre_mix(99, "v1") == []


async def test_interrupted_runs_are_marked_failed_at_start_up(db: Database) -> None:
    run_id = await db.runs.start(1, RunTrigger.SCHEDULE)
    assert await db.runs.fail_interrupted() == 1
    run = await db.runs.get(run_id)
    assert run is not None and run.status == RunStatus.FAILED and run.error


async def test_due_schedules_and_marking_them_run(db: Database) -> None:
    await link(db, 1)
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    await db.schedules.set(1, 1, 9, "UTC", now - timedelta(days=21))
    assert [s.discord_id for s in await db.schedules.due(now)] == [1]
    await db.schedules.mark_ran(1, now, now + timedelta(days=7))
    assert await db.schedules.due(now) == []
    await db.schedules.disable(1)
    assert await db.schedules.due(now + timedelta(days=30)) == []


WRITER = textwrap.dedent(
    """
    import asyncio, os, sys
    from datetime import UTC, datetime
    sys.path.insert(0, sys.argv[2])
    from storage import Database
    from music import LikedSong, Track

    async def main():
        db = await Database.open(__import__("pathlib").Path(sys.argv[1]), encryption_keys=[sys.argv[3]])
        tracks = [Track(id=f"k{i:021d}", name="x", artists=("a",)) for i in range(20000)]
        await db.tracks.upsert_many(tracks)
        async with db.transaction() as conn:
            for i, t in enumerate(tracks):
                await conn.execute("INSERT INTO liked_songs VALUES (1, ?, ?)", (t.id, float(i)))
                if i == 5000:
                    print("IN-TRANSACTION", flush=True)
        print("COMMITTED", flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


def test_writer_killed_mid_transaction_leaves_all_or_nothing(tmp_path: Path) -> None:
    """SIGKILL during a 20,000-row transaction: integrity_check passes; 0 or 20,000 rows remain."""
    path = tmp_path / "crash.sqlite3"
    key = Fernet.generate_key().decode()
    setup = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(Path.cwd())!r})
        from pathlib import Path
        from storage import Database
        async def main():
            db = await Database.open(Path({str(path)!r}), encryption_keys=[{key!r}])
            await db.users.link(1, "sp", "M", [], {{"access_token": "a"}})
            await db.close()
        asyncio.run(main())
        """
    )
    subprocess.run([sys.executable, "-c", setup], check=True, timeout=60)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(Path.cwd()), key], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "IN-TRANSACTION"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        liked = conn.execute("SELECT COUNT(*) FROM liked_songs").fetchone()[0]
    assert liked in (0, 20000)
    assert liked == 0  # killed before COMMIT: none of it
