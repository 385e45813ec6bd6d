"""Numbered migrations: fresh databases, upgrades that keep data, one transaction per version."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import sqlite3
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from storage import Database
from storage.crypto import TokenCipher
from storage.errors import SchemaTooNew
from storage.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, apply_migrations
from storage.records import LinkStatus, SortPreferences
from storage.sql import SqlHandle
from tests.storage.conftest import TOKEN, killed_at, new_key

REPO = Path(__file__).resolve().parents[2]
SORT_OPTIONS_VERSION = 3  # the version that moved sort options out of app_state
PLAYLIST_SOURCES_VERSION = 4  # the version that keyed playlists by source (issue #16)
ONE_MEMBER_PER_ACCOUNT_VERSION = 5
OPT_OUTS_VERSION = 7  # the version that moved leaderboard opt-outs out of guild_members
TWO_LEVEL_VERSION = 9  # the two-level taxonomy: probabilities per song, counts per level (issue #13)
OUTBOX_VERSION = 14  # the weekly refresh's DM outbox and schedules.unfinished
RUN_ERROR_IDS_VERSION = 15  # runs keep the error id a bug's traceback was logged under


async def database_at(path: Path, version: int) -> SqlHandle:
    sql = await SqlHandle.connect(path)
    await apply_migrations(sql, target=version)
    return sql


async def test_a_fresh_database_reaches_the_current_schema(db: Database) -> None:
    """Opening a new file applies every migration."""
    assert await db.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)


async def test_a_fresh_database_uses_wal_and_foreign_keys(db: Database) -> None:
    """The connection runs in WAL mode with foreign keys enforced."""
    assert (await db.sql.fetchall("PRAGMA journal_mode"))[0][0] == "wal"
    assert (await db.sql.fetchall("PRAGMA foreign_keys"))[0][0] == 1


@pytest.mark.parametrize("old_version", range(1, SCHEMA_VERSION))
async def test_a_database_from_an_older_version_upgrades_and_keeps_its_data(tmp_path: Path, old_version: int) -> None:
    """A file left at any older version opens at the current one with its rows intact."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, old_version)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status) VALUES (1, 'sp1', 'Old Member', 0, 'user-library-read', 'linked')")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        assert await db.schema_version() == SCHEMA_VERSION
        user = await db.users.get(1)
        assert user is not None and user.display_name == "Old Member"
    finally:
        await db.close()


async def test_saved_sort_options_move_from_app_state_json_into_columns(tmp_path: Path) -> None:
    """V3 turns each 'sort_options:<id>' JSON value into a sort_preferences row, genres in order."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, SORT_OPTIONS_VERSION - 1)
    saved = {
        "genres": ["rock/hard rock", "edm"], "level": "subgenre", "min_confidence": 0.4,
        "min_playlist_size": 3, "multi": True, "dry_run": False,
    }
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:7', ?)", (json.dumps(saved),))
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        assert await db.sort_preferences.get(7) == SortPreferences(  # "subgenre" is "genre" since V9
            genres=("rock/hard rock", "edm"), level="genre", min_confidence=0.4, min_playlist_size=3, multi=True
        )
    finally:
        await db.close()


async def test_saved_options_for_every_genre_move_as_every_genre(tmp_path: Path) -> None:
    """A JSON value with genres null becomes 'every genre', not 'no genre'."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, SORT_OPTIONS_VERSION - 1)
    saved = {"genres": None, "level": "genre", "min_confidence": 0.0, "min_playlist_size": 5, "multi": False}
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:8', ?)", (json.dumps(saved),))
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        preferences = await db.sort_preferences.get(8)
        assert preferences is not None and preferences.genres is None
    finally:
        await db.close()


async def test_the_move_leaves_no_sort_options_in_app_state_and_keeps_other_keys(tmp_path: Path) -> None:
    """After V3, app_state holds app facts only."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, SORT_OPTIONS_VERSION - 1)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:1', '{\"level\": \"genre\"}')")
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:2', 'not json')")
        await tx.execute("INSERT INTO app_state VALUES ('spotify.audio_features', 'unavailable')")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        keys = [row["key"] for row in await db.sql.fetchall("SELECT key FROM app_state ORDER BY key")]
        assert keys == ["spotify.audio_features"]
    finally:
        await db.close()


async def test_old_options_the_bot_could_not_read_are_dropped_so_defaults_apply(tmp_path: Path) -> None:
    """Unusable values (bad JSON, out of range, genres not a list) leave no row; missing fields get defaults."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, SORT_OPTIONS_VERSION - 1)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:1', '{\"level\": \"subgenre\"}')")
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:2', 'not json')")
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:3', '{\"min_confidence\": 7}')")
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:4', '{\"genres\": \"rock\"}')")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        assert await db.sort_preferences.get(1) == SortPreferences(  # "subgenre" is "genre" since V9
            genres=None, level="genre", min_confidence=0.0, min_playlist_size=5, multi=False
        )
        assert [await db.sort_preferences.get(member) for member in (2, 3, 4)] == [None, None, None]
    finally:
        await db.close()


async def test_playlists_made_before_sources_existed_become_liked_songs_playlists(tmp_path: Path) -> None:
    """V4 keeps every playlist record, now under the Liked Songs source, so re-sorts still re-use them."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, PLAYLIST_SOURCES_VERSION - 1)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO users VALUES (1, 'sp1', 'Old Member', 0, 'user-library-read', 'linked')")
        await tx.execute("INSERT INTO playlists VALUES (1, 'rock', 'pl1', 'https://x/pl1', 12, 5.0)")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        record = (await db.playlists.get_all(1, "liked"))["rock"]
        assert (record.playlist_id, record.url, record.track_count, record.source) == ("pl1", "https://x/pl1", 12, "liked")
    finally:
        await db.close()


async def test_members_sharing_a_spotify_account_keep_only_the_latest_link(tmp_path: Path) -> None:
    """Before V5 one account could be linked twice; the upgrade keeps the newest link and asks the others to relink."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, ONE_MEMBER_PER_ACCOUNT_VERSION - 1)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status) VALUES (1, 'shared', 'M', 100, '', 'linked')")
        await tx.execute("INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status) VALUES (2, 'shared', 'M', 200, '', 'linked')")
        await tx.execute("INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status) VALUES (3, 'own', 'M', 50, '', 'linked')")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        statuses = {m: (await db.users.get(m)).status for m in (1, 2, 3)}  # type: ignore[union-attr]
        assert statuses == {1: LinkStatus.NEEDS_RELINK, 2: LinkStatus.LINKED, 3: LinkStatus.LINKED}
    finally:
        await db.close()


async def test_leaderboard_opt_outs_move_out_of_the_memberships(tmp_path: Path) -> None:
    """V7 keeps each opt-out in its own table, which unlinking does not touch."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, OPT_OUTS_VERSION - 1)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO guild_members VALUES (10, 1, 1)")
        await tx.execute("INSERT INTO guild_members VALUES (10, 2, 0)")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        assert [await db.guilds.opted_out(10, m) for m in (1, 2)] == [True, False]
        assert await db.guilds.members(10) == [1, 2]
    finally:
        await db.close()


async def test_saved_levels_of_the_six_genre_model_become_family_and_genre(tmp_path: Path) -> None:
    """V9: the old top level 'genre' is now 'family', the old 'subgenre' is now 'genre'; genres stay."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, TWO_LEVEL_VERSION - 1)
    async with sql.transaction() as tx:
        for member, level in ((1, "genre"), (2, "subgenre")):
            await tx.execute("INSERT INTO sort_preferences VALUES (?, ?, 0.2, 3, 0, 0, 0)", (member, level))
            await tx.execute("INSERT INTO sort_preference_genres VALUES (?, 0, 'rap')", (member,))
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        assert [await db.sort_preferences.get(m) for m in (1, 2)] == [
            SortPreferences(("rap",), "family", 0.2, 3, False), SortPreferences(("rap",), "genre", 0.2, 3, False)]
    finally:
        await db.close()


async def test_member_counts_of_the_six_genre_model_are_kept_as_its_top_level(tmp_path: Path) -> None:
    """V9 keeps the old counts as family-level rows of their (old) model version."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, TWO_LEVEL_VERSION - 1)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO member_genre_counts VALUES (1, 'six-genre', 'rock', 12)")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        assert await db.leaderboard.member_counts(1, "six-genre", "family") == {"rock": 12}
        assert await db.leaderboard.member_counts(1, "six-genre", "genre") == {}
    finally:
        await db.close()


async def test_schedules_of_a_bot_upgraded_mid_refresh_keep_their_time_and_the_cut_off_one_runs_again(
    tmp_path: Path,
) -> None:
    """V14 on a database the old bot left with a weekly refresh cut off (its run 'running') and
    another refresh done: the cut-off one is due again at the start, the done one keeps next
    week's time, and the outbox starts empty."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, OUTBOX_VERSION - 1)
    async with sql.transaction() as tx:
        for member in (1, 2):
            await tx.execute("INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status) "
                             "VALUES (?, ?, 'Old Member', 0, 'user-library-read', 'linked')", (member, f"sp{member}"))
            await tx.execute("INSERT INTO schedules VALUES (?, 1, 0, 9, 'UTC', 1000.0, 605800.0)", (member,))
        await tx.execute("INSERT INTO runs (discord_id, trigger, started_at, status) VALUES (1, 'schedule', 1000.0, 'running')")
        await tx.execute("INSERT INTO runs (discord_id, trigger, started_at, status, dm_status) "
                         "VALUES (2, 'schedule', 1000.0, 'succeeded', 'sent')")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        assert await db.refresh_dms.pending() == []
        assert await db.recover_interrupted_runs() == (1, 1)
        next_runs = [(await db.schedules.get(m)) for m in (1, 2)]
        assert [s.next_run.timestamp() if s and s.next_run else None for s in next_runs] == [1000.0, 605800.0]
        assert await db.recover_interrupted_runs() == (0, 0), "due again once"
    finally:
        await db.close()


async def test_runs_from_before_error_ids_open_with_none(tmp_path: Path) -> None:
    """V15: runs recorded before runs kept an error id open with none, their error kept."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, RUN_ERROR_IDS_VERSION - 1)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO runs (discord_id, trigger, started_at, status, error) "
                         "VALUES (1, 'command', 0, 'failed', 'KeyError')")
    await sql.close()
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        [run] = await db.runs.recent(1)
        assert (run.error, run.error_id) == ("KeyError", None)
    finally:
        await db.close()


async def test_a_failing_migration_leaves_the_previous_version_and_its_data(tmp_path: Path) -> None:
    """A version that fails halfway rolls back whole: user_version and the old rows stay."""
    path = tmp_path / "old.sqlite3"
    sql = await database_at(path, SORT_OPTIONS_VERSION - 1)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO app_state VALUES ('sort_options:1', '{\"level\": \"genre\"}')")
        await tx.execute("CREATE TABLE sort_preference_genres (clash INTEGER)")  # V3's second table
    with pytest.raises(sqlite3.OperationalError):
        await apply_migrations(sql)
    assert await sql.user_version() == SORT_OPTIONS_VERSION - 1
    assert await sql.fetchall("SELECT name FROM sqlite_master WHERE name = 'sort_preferences'") == []
    assert len(await sql.fetchall("SELECT key FROM app_state")) == 1
    await sql.close()


async def test_a_database_newer_than_this_genrebot_is_refused(tmp_path: Path) -> None:
    """Opening a file from a later release fails with a message saying to upgrade."""
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="upgrade genrebot"):
        await Database.open(path, encryption_keys=[new_key()])


def test_a_semicolon_in_a_comment_or_a_string_does_not_end_a_statement() -> None:
    """Statements split where SQLite sees them end."""
    migration = Migration(9, "example", "-- first; still a comment\nCREATE TABLE a (x TEXT DEFAULT ';');\nDROP TABLE a;\n")
    assert migration.statements == [
        "-- first; still a comment\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "DROP TABLE a;",
    ]


def test_every_migration_file_is_shipped_as_package_data() -> None:
    """pyproject's package-data globs for storage match every V<n>__*.sql file, and only real files."""
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    storage_dir = REPO / "storage"
    shipped = {
        path.relative_to(storage_dir).as_posix()
        for pattern in package_data["storage"]
        for path in storage_dir.glob(pattern)
    }
    on_disk = {path.relative_to(storage_dir).as_posix() for path in (storage_dir / "schema").glob("*.sql")}
    assert on_disk and shipped == on_disk
    assert all(fnmatch.fnmatch(name, "schema/V*__*.sql") for name in on_disk)
    assert len(on_disk) == SCHEMA_VERSION


HELD_MID_MIGRATION = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from storage.migrations import apply_migrations
    from storage.sql import SqlHandle

    async def main():
        sql = await SqlHandle.connect(Path(sys.argv[1]))
        conn = sql._conn

        def hold_inside_the_migration():  # SQLite calls it every 1000 steps, in the connection's thread
            if conn.in_transaction:
                print("IN-MIGRATION", flush=True)
                time.sleep(3600)  # the kill lands inside the migration's transaction
            return 0

        await conn.set_progress_handler(hold_inside_the_migration, 1000)
        await apply_migrations(sql)

    asyncio.run(main())
    """
)


def test_a_migration_killed_part_way_leaves_the_old_version_and_the_next_start_finishes_it(tmp_path: Path) -> None:
    """kill -9 inside V9 (which rebuilds the member counts table) on a database with 30,000 counts: the
    file is V8 as it was, whole (integrity_check), and the next open migrates it to the newest with every
    count kept (as the family level, V9's rule) and the member still there."""
    path = tmp_path / "old.sqlite3"
    asyncio.run(_at_version_with_counts(path, TWO_LEVEL_VERSION - 1, 30_000))
    script = tmp_path / "migrate.py"
    script.write_text(HELD_MID_MIGRATION)
    killed_at([sys.executable, str(script), str(path), str(REPO)], "IN-MIGRATION")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == TWO_LEVEL_VERSION - 1
        assert conn.execute("SELECT COUNT(*) FROM member_genre_counts").fetchone()[0] == 30_000
    asyncio.run(_opens_with_every_count(path, 30_000))


async def _at_version_with_counts(path: Path, version: int, counts: int) -> None:
    sql = await database_at(path, version)
    async with sql.transaction() as tx:
        await tx.execute("INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status) "
                         "VALUES (1, 'sp1', 'Old Member', 0, 'user-library-read', 'linked')")
        await tx.executemany("INSERT INTO member_genre_counts VALUES (?, 'm1', ?, ?)",
                             ((i % 300, f"genre {i // 300}", i) for i in range(counts)))
    await sql.close()


async def _opens_with_every_count(path: Path, counts: int) -> None:
    db = await Database.open(path, encryption_keys=[new_key()])
    try:
        assert await db.schema_version() == SCHEMA_VERSION
        rows = await db.sql.fetchall("SELECT level, COUNT(*) AS n, SUM(count) AS total FROM member_genre_counts GROUP BY level")
        assert [(row["level"], row["n"], row["total"]) for row in rows] == [("family", counts, sum(range(counts)))]
        user = await db.users.get(1)
        assert user is not None and user.display_name == "Old Member"
    finally:
        await db.close()


# A value each column of any version takes: its CHECK's, or one of its declared type.
COLUMN_VALUES: dict[str, object] = {"status": "linked", "level": "genre", "weekday": 2, "hour": 9, "min_confidence": 0.5,
                                    "min_playlist_size": 5, "multi": 0, "all_genres": 1, "trigger": "command"}
DROPPED_ON_PURPOSE = {"predictions"}  # V9: the six-genre model's decisions, made by a model no longer loadable


def _a_value(table: str, column: sqlite3.Row, cipher: TokenCipher) -> object:
    name, kind = column["name"], column["type"].upper()
    if name == "ciphertext":
        return cipher.encrypt(TOKEN)
    if table == "runs" and name == "status":
        return "succeeded"
    if name in COLUMN_VALUES:
        return COLUMN_VALUES[name]
    if "INT" in kind:
        return 1
    if "REAL" in kind:
        return 1.0
    return b"\x00\x01" if "BLOB" in kind else "t0000000000000000000001"


@pytest.mark.parametrize("old_version", range(1, SCHEMA_VERSION))
async def test_a_row_in_every_table_of_an_older_version_is_still_there_at_the_newest(tmp_path: Path,
                                                                                     old_version: int) -> None:
    """Every table the older version had holds one row (foreign keys on, so each row's parents exist):
    after the upgrade each table still has its row, but the one a version dropped on purpose."""
    path, key = tmp_path / "old.sqlite3", new_key()
    sql = await database_at(path, old_version)
    tables = [row["name"] for row in await sql.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
    async with sql.transaction() as tx:
        for table in tables:  # in the order they were made: parents first
            columns = await tx.fetchall(f"PRAGMA table_info({table})")
            names = ", ".join(column["name"] for column in columns)
            await tx.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608
                             [_a_value(table, column, TokenCipher([key])) for column in columns])
    await sql.close()
    db = await Database.open(path, encryption_keys=[key])
    try:
        assert await db.schema_version() == SCHEMA_VERSION
        now_there = {row["name"] for row in await db.sql.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert set(tables) - now_there <= DROPPED_ON_PURPOSE
        for table in set(tables) & now_there:
            row = await db.sql.fetchone(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608
            assert row is not None and row["n"] == 1, table
    finally:
        await db.close()
