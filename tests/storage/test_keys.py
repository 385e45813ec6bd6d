"""Which key encrypts tokens: configured keys, the generated key file, and refusing to guess."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storage import Database, StorageError
from storage.tokens import TokenRepository
from tests.storage.conftest import TOKEN, link, new_key

REPO = Path(__file__).resolve().parents[2]


def key_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".key")


async def database_with_a_token(db_path: Path, key: str) -> None:
    db = await Database.open(db_path, encryption_keys=[key])
    await link(db, 1)
    await db.close()


async def test_a_database_holding_tokens_is_not_given_a_new_key_file(db_path: Path) -> None:
    """Started without any key beside stored tokens: refused in one line, and no key file appears."""
    await database_with_a_token(db_path, new_key())
    with pytest.raises(StorageError) as refused:
        await Database.open(db_path)
    assert "TOKEN_ENCRYPTION_KEY" in str(refused.value) and "\n" not in str(refused.value)
    assert not key_file(db_path).exists()


async def test_keys_that_decrypt_none_of_the_stored_tokens_are_refused(db_path: Path) -> None:
    """A wrong TOKEN_ENCRYPTION_KEY stops the start instead of failing each member later."""
    await database_with_a_token(db_path, new_key())
    with pytest.raises(StorageError, match="decrypts none of the 1 stored"):
        await Database.open(db_path, encryption_keys=[new_key()])


async def test_keys_that_decrypt_some_stored_tokens_start(db_path: Path) -> None:
    """A key that reads at least one token is accepted (the others may predate a rotation)."""
    old, new = new_key(), new_key()
    await database_with_a_token(db_path, old)
    db = await Database.open(db_path, encryption_keys=[new, old])
    await db.link_member(2, "sp2", "Two", [], TOKEN)
    await db.close()
    db = await Database.open(db_path, encryption_keys=[new])
    try:
        assert await db.tokens.load(2) == TOKEN
    finally:
        await db.close()


async def test_starting_with_keys_that_miss_some_tokens_tells_the_operator_how_many(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An old key dropped from TOKEN_ENCRYPTION_KEY before every token was re-encrypted: the start says
    at once how many tokens the keys cannot read and how to get them back, and keeps those tokens."""
    old, new = new_key(), new_key()
    await database_with_a_token(db_path, old)
    db = await Database.open(db_path, encryption_keys=[new, old])
    await db.link_member(2, "sp2", "Two", [], TOKEN)
    await db.close()
    with caplog.at_level(logging.WARNING, logger="storage"):
        db = await Database.open(db_path, encryption_keys=[new])
    try:
        [warning] = [r.getMessage() for r in caplog.records if "cannot be decrypted" in r.getMessage()]
        assert "1 of the 2 stored Spotify token(s)" in warning and "TOKEN_ENCRYPTION_KEY" in warning
        assert await TokenRepository.count_stored(db.sql) == 2
    finally:
        await db.close()


async def test_a_key_file_others_can_read_gets_a_warning(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A key file with group or world permissions is used, with a warning naming it."""
    db = await Database.open(db_path)
    await db.close()
    os.chmod(key_file(db_path), 0o644)
    caplog.set_level(logging.WARNING)
    db = await Database.open(db_path)
    await db.close()
    assert f"{key_file(db_path)} is readable by other users" in caplog.text


async def test_the_database_its_wal_and_the_key_file_are_private(tmp_path: Path) -> None:
    """A new data directory is 0700; the database, -wal, -shm and key file are 0600."""
    db_path = tmp_path / "data" / "g.sqlite3"
    db = await Database.open(db_path)
    await link(db, 1)
    files = [db_path, db_path.with_name("g.sqlite3-wal"), db_path.with_name("g.sqlite3-shm"), key_file(db_path)]
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in files}
    await db.close()
    assert oct(db_path.parent.stat().st_mode & 0o777) == "0o700"
    assert modes == {p.name: "0o600" for p in files}


CREATE_KEY = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from storage.keys import load_or_create_key_file
    key, _ = load_or_create_key_file(Path(sys.argv[1]))
    print(key)
    """
)


def test_120_processes_creating_the_key_file_at_once_all_get_the_same_key(tmp_path: Path) -> None:
    """Race-free creation: no process fails and every one reads the one key that was written."""
    path = tmp_path / "g.sqlite3.key"
    script = tmp_path / "create_key.py"
    script.write_text(CREATE_KEY)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(path), str(REPO)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(120)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    failures = [err for (_, err), proc in zip(results, procs, strict=True) if proc.returncode != 0]
    assert failures == []
    assert {out.strip() for out, _ in results} == {path.read_text().strip()}


START = textwrap.dedent(
    """
    import asyncio, hashlib, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from storage import Database, StorageError

    async def main():
        try:
            db = await Database.open(Path(sys.argv[1]))
        except StorageError as exc:
            print("REFUSED", exc)
            return
        key_file = Path(sys.argv[1] + ".key")
        print("STARTED", hashlib.sha256(key_file.read_bytes()).hexdigest())
        await db.close()

    asyncio.run(main())
    """
)


def test_120_concurrent_first_starts_each_start_or_are_refused_in_one_line(tmp_path: Path) -> None:
    """No start dies with a traceback; every start that ran used the same key file."""
    path = tmp_path / "g.sqlite3"
    script = tmp_path / "start.py"
    script.write_text(START)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(path), str(REPO)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(120)
    ]
    results = [(proc.communicate(timeout=180), proc.returncode) for proc in procs]
    crashed = [err for (_, err), code in results if code != 0 or "Traceback" in err]
    assert crashed == []
    outcomes = [out.strip() for (out, _), _ in results]
    started = {line.split()[1] for line in outcomes if line.startswith("STARTED ")}
    refused = [line for line in outcomes if line.startswith("REFUSED ")]
    assert started == {hashlib.sha256(key_file(path).read_bytes()).hexdigest()}
    assert len(started) + len(refused) >= 1 and all(len(line.splitlines()) == 1 for line in refused)
    assert sum(line.startswith(("STARTED ", "REFUSED ")) for line in outcomes) == 120
