"""`genrebot db migrate|backup|info` from the command line, in a subprocess."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from tests.storage.conftest import REPO


def genrebot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genrebot_cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_migrate_creates_the_database_at_the_current_schema(env: dict[str, str], tmp_path: Path) -> None:
    """`db migrate` on a missing file creates it and prints the version reached."""
    from storage.migrations import SCHEMA_VERSION

    result = genrebot("db", "migrate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"schema version {SCHEMA_VERSION}" in result.stdout
    with sqlite3.connect(env["DATABASE_PATH"]) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_backup_makes_a_consistent_copy(env: dict[str, str], tmp_path: Path) -> None:
    """`db backup PATH` copies schema and rows."""
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    with sqlite3.connect(env["DATABASE_PATH"]) as conn:
        conn.execute("INSERT INTO app_state VALUES ('k', 'v')")
    copy = tmp_path / "backup.sqlite3"
    result = genrebot("db", "backup", str(copy), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT value FROM app_state WHERE key = 'k'").fetchone()[0] == "v"


def test_backup_refuses_to_overwrite_a_file(env: dict[str, str], tmp_path: Path) -> None:
    """An existing target is refused with one line and exit status 2."""
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    existing = tmp_path / "exists.sqlite3"
    existing.write_text("keep me")
    result = genrebot("db", "backup", str(existing), env=env, cwd=tmp_path)
    assert result.returncode == 2 and "already exists" in result.stderr
    assert existing.read_text() == "keep me"


def a_database_of_about(size: int, env: dict[str, str], tmp_path: Path) -> None:
    """A migrated database holding `size` bytes of rows, so copying it takes many pages."""
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    with sqlite3.connect(env["DATABASE_PATH"]) as conn:
        conn.executemany("INSERT INTO app_state VALUES (?, ?)", ((f"k{i}", "v" * 4000) for i in range(size // 4000)))


def db_that_may_write(limit: int, action: str, path: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`db ACTION PATH` (backup, restore) in a process that may write no file past `limit` bytes
    (RLIMIT_FSIZE): its write fails part-way with EFBIG, for real, as on a disk that fills up
    (Python ignores SIGXFSZ)."""
    import resource

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "genrebot_cli", "db", action, str(path)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, preexec_fn=limit_file_size)


def test_a_backup_that_fails_part_way_leaves_no_file_at_the_target(env: dict[str, str], tmp_path: Path) -> None:
    """A copy cut short (here: no file may grow past 256 KiB) is one line, exit 2, and leaves nothing
    at the target an operator could later restore as a backup, nor a temporary file beside it."""
    a_database_of_about(2_000_000, env, tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    target = backups / "nightly.sqlite3"
    result = db_that_may_write(256 * 1024, "backup", target, env, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith(f"genrebot db: the backup to {target} failed: ")
    assert "no backup was written" in result.stderr
    assert list(backups.iterdir()) == []


def test_a_backup_that_fails_part_way_keeps_the_backups_beside_it(env: dict[str, str], tmp_path: Path) -> None:
    """Yesterday's backup in the same folder is untouched by today's failed one; with room, today's
    is then written whole and reads back."""
    a_database_of_about(2_000_000, env, tmp_path)
    yesterday, today = tmp_path / "yesterday.sqlite3", tmp_path / "today.sqlite3"
    assert genrebot("db", "backup", str(yesterday), env=env, cwd=tmp_path).returncode == 0
    kept = yesterday.read_bytes()
    assert db_that_may_write(256 * 1024, "backup", today, env, tmp_path).returncode == 2
    assert yesterday.read_bytes() == kept and not today.exists()
    assert db_that_may_write(64 * 1024 * 1024, "backup", today, env, tmp_path).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "today.sqlite3", "yesterday.sqlite3"]
    with closing(sqlite3.connect(today)) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM app_state").fetchone()[0] == 2_000_000 // 4000


def test_a_backup_killed_mid_copy_leaves_nothing_and_ends_by_the_signal(env: dict[str, str], tmp_path: Path) -> None:
    """`kill` (SIGTERM) while the copy is being made: nothing at the target, no temporary file beside
    it, and the process is reported killed by SIGTERM. The copy is held mid-way for real: the test
    holds the database's lock, so the backup waits on it once its temporary file exists."""
    import signal
    import time

    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    backups = tmp_path / "backups"
    backups.mkdir()
    with closing(sqlite3.connect(env["DATABASE_PATH"], isolation_level=None)) as holder:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        child = subprocess.Popen([sys.executable, "-m", "genrebot_cli", "db", "backup", str(backups / "b.sqlite3")],
                                 env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not list(backups.iterdir()) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)  # until the copy has begun: its temporary file exists
        assert [p.name.endswith(".partial") for p in backups.iterdir()] == [True], child.stderr
        child.send_signal(signal.SIGTERM)
        holder.execute("ROLLBACK")
    assert child.wait(timeout=60) == -signal.SIGTERM, child.communicate()[1]
    assert list(backups.iterdir()) == []


def test_backup_of_a_missing_database_says_so(env: dict[str, str], tmp_path: Path) -> None:
    """No database: one line, exit status 2, no traceback."""
    result = genrebot("db", "backup", str(tmp_path / "b.sqlite3"), env=env, cwd=tmp_path)
    assert result.returncode == 2 and "no database" in result.stderr and "Traceback" not in result.stderr


def test_info_prints_the_schema_version_and_row_counts(env: dict[str, str], tmp_path: Path) -> None:
    """`db info` names the version and counts rows per table."""
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    with sqlite3.connect(env["DATABASE_PATH"]) as conn:
        conn.execute("INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status) VALUES (1, 'sp', 'M', 0, '', 'linked')")
    result = genrebot("db", "info", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema version" in result.stdout and "users: 1" in result.stdout


def test_database_flag_is_accepted_after_the_action(env: dict[str, str], tmp_path: Path) -> None:
    """`db info --database X` works like `db --database X info`."""
    other = tmp_path / "other.sqlite3"
    assert genrebot("db", "--database", str(other), "migrate", env=env, cwd=tmp_path).returncode == 0
    result = genrebot("db", "info", "--database", str(other), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(other) in result.stdout and "schema version" in result.stdout


@pytest.mark.parametrize("action", ["info", "migrate"])
def test_a_file_that_is_not_sqlite_is_refused_without_leaving_a_key_file(
        env: dict[str, str], tmp_path: Path, action: str) -> None:
    """`db --database fake.csv info|migrate`: one line, exit 2, the file untouched and no fake.csv.key."""
    fake = tmp_path / "fake.csv"
    fake.write_text("Track URI,Track Name\nspotify:track:1,Song\n")
    result = genrebot("db", "--database", str(fake), action, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "not a SQLite database" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake.csv"]
    assert fake.read_text().startswith("Track URI")


@pytest.mark.parametrize("variable", ["DATABASE_PATH", "DATA_DIR"])
def test_a_database_setting_of_the_wrong_kind_is_one_line(env: dict[str, str], tmp_path: Path, variable: str) -> None:
    """DATABASE_PATH naming a directory, or DATA_DIR naming a file, is named in one line, exit 2."""
    wrong = tmp_path / "wrong"
    if variable == "DATABASE_PATH":
        wrong.mkdir()
    else:
        wrong.write_text("a file")
    env = {k: v for k, v in env.items() if k != "DATABASE_PATH"}
    result = genrebot("db", "migrate", env={**env, variable: str(wrong)}, cwd=tmp_path)
    assert result.returncode == 2 and variable in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_data_dir_genrebot_cannot_create_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    """DATA_DIR where no folder can be made (here under a file; as often a folder of another user's):
    one line naming the path and the settings, exit 2, no traceback."""
    (tmp_path / "taken").write_text("a file")
    data_dir = tmp_path / "taken" / "genrebot"
    env = {k: v for k, v in env.items() if k != "DATABASE_PATH"}
    result = genrebot("db", "migrate", env={**env, "DATA_DIR": str(data_dir)}, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"genrebot db: cannot create or write {data_dir / 'genrebot.sqlite3'}: ")
    assert "DATA_DIR" in result.stderr


def test_a_backup_into_a_folder_that_cannot_be_made_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    """`db backup` to a place it cannot write: one line naming it, exit 2; never "already exists"."""
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    (tmp_path / "taken").write_text("a file")
    target = tmp_path / "taken" / "backup.sqlite3"
    result = genrebot("db", "backup", str(target), env=env, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.strip() == f"genrebot db: cannot write the backup at {target}: {tmp_path / 'taken'} is a file"


def old_database(path: Path, version: int) -> None:
    """A database left at an older schema version by an earlier genrebot."""
    import asyncio

    from storage.migrations import apply_migrations
    from storage.sql import SqlHandle

    async def build() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        sql = await SqlHandle.connect(path)
        await apply_migrations(sql, target=version)
        await sql.close()

    asyncio.run(build())


def test_info_neither_migrates_nor_creates_a_key_file(env: dict[str, str], tmp_path: Path) -> None:
    """`db info` on an old database reports its version and leaves it, and its folder, as they were."""
    path = Path(env["DATABASE_PATH"])
    old_database(path, 1)
    result = genrebot("db", "info", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema version 1 (this genrebot uses" in result.stdout
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert not path.with_name(path.name + ".key").exists()


def test_backup_neither_migrates_nor_creates_a_key_file(env: dict[str, str], tmp_path: Path) -> None:
    """`db backup` before an upgrade copies the old database as it is, without touching it."""
    path = Path(env["DATABASE_PATH"])
    old_database(path, 1)
    copy = tmp_path / "before-upgrade.sqlite3"
    result = genrebot("db", "backup", str(copy), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as original, sqlite3.connect(copy) as backup:
        versions = (original.execute("PRAGMA user_version").fetchone()[0],
                    backup.execute("PRAGMA user_version").fetchone()[0])
    assert versions == (1, 1)
    assert not path.with_name(path.name + ".key").exists()


def test_a_backup_is_readable_only_by_its_owner(env: dict[str, str], tmp_path: Path) -> None:
    """The copy holds encrypted tokens and everything else: it is created 0600."""
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    copy = tmp_path / "backup.sqlite3"
    assert genrebot("db", "backup", str(copy), env=env, cwd=tmp_path).returncode == 0
    assert copy.stat().st_mode & 0o777 == 0o600


def test_rotate_keys_reencrypts_every_token_with_the_first_key(env: dict[str, str], tmp_path: Path) -> None:
    """With TOKEN_ENCRYPTION_KEY=NEW,OLD every token is rewritten so NEW alone reads it."""
    import asyncio

    from storage import Database
    from tests.storage.conftest import TOKEN, new_key

    path = Path(env["DATABASE_PATH"])
    old, new = new_key(), new_key()

    async def store(discord_ids: range) -> None:
        db = await Database.open(path, encryption_keys=[old])
        for discord_id in discord_ids:
            await db.link_member(discord_id, f"sp{discord_id}", "M", [], TOKEN)
        await db.close()

    asyncio.run(store(range(1, 4)))
    result = genrebot("db", "rotate-keys", env={**env, "TOKEN_ENCRYPTION_KEY": f"{new},{old}"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "re-encrypted 3 token(s)" in result.stdout

    async def read_with_new_key_only() -> list[dict[str, object] | None]:
        db = await Database.open(path, encryption_keys=[new])
        try:
            return [await db.tokens.load(discord_id) for discord_id in range(1, 4)]
        finally:
            await db.close()

    assert asyncio.run(read_with_new_key_only()) == [TOKEN] * 3


def test_rotate_keys_without_a_configured_key_says_what_to_set(env: dict[str, str], tmp_path: Path) -> None:
    """No TOKEN_ENCRYPTION_KEY: one line naming the variable, exit status 2."""
    assert genrebot("db", "migrate", env=env, cwd=tmp_path).returncode == 0
    result = genrebot("db", "rotate-keys", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "TOKEN_ENCRYPTION_KEY" in result.stderr and "Traceback" not in result.stderr


BUSY_BOT = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from music import LikedSong
    from storage import Database
    from tests.storage.conftest import TOKEN, new_key, track

    async def main():
        db = await Database.open(Path(sys.argv[1]), encryption_keys=[new_key()])
        await db.link_member(1, "sp1", "M", [], TOKEN)
        stop, rounds = Path(sys.argv[3]), 0
        while not stop.exists():  # a bot storing a 20,000-song library, again and again
            await db.tracks.upsert_many([track(i, name=f"Song {i} take {rounds}") for i in range(20_000)])
            await db.liked.replace_all(1, [LikedSong(track(i).id, datetime.now(UTC)) for i in range(20_000)])
            rounds += 1
            if rounds == 1:
                print("WRITING", flush=True)
        await db.close()
        print(rounds, flush=True)

    asyncio.run(main())
    """
)


def test_info_and_backup_while_the_bot_writes_a_large_library_wait_for_nothing(env: dict[str, str],
                                                                               tmp_path: Path) -> None:
    """`db info` and `db backup` run while a bot process rewrites a 20,000-song library in
    transactions of 20,000 rows: neither they nor the bot's writes meet 'database is locked', and
    each backup holds a whole library (one transaction's worth, never half of one)."""
    script, stop = tmp_path / "busy_writer.py", tmp_path / "stop"
    script.write_text(BUSY_BOT)
    bot = subprocess.Popen([sys.executable, str(script), env["DATABASE_PATH"], str(REPO), str(stop)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert bot.stdout is not None and bot.stdout.readline().strip() == "WRITING"
        for attempt in range(3):
            info = genrebot("db", "info", env=env, cwd=tmp_path)
            assert info.returncode == 0 and "liked_songs: 20000" in info.stdout, info.stderr
            copy = tmp_path / f"backup-{attempt}.sqlite3"
            backup = genrebot("db", "backup", str(copy), env=env, cwd=tmp_path)
            assert backup.returncode == 0, backup.stderr
            with closing(sqlite3.connect(copy)) as conn:
                assert conn.execute("SELECT COUNT(*) FROM liked_songs").fetchone()[0] == 20_000
    finally:
        stop.touch()
        out, err = bot.communicate(timeout=120)
    assert bot.returncode == 0 and int(out) > 1, err[-2000:]
