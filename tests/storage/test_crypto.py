"""Token encryption keys: rotation, the generated key file, malformed keys."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from storage import Database, StorageError, TokenUnreadable
from tests.storage.conftest import TOKEN, link, new_key


async def test_after_rotation_the_new_key_encrypts_and_the_old_key_still_decrypts(db_path: Path) -> None:
    """With keys 'new,old' old tokens read; tokens written then need only the new key."""
    old, new = new_key(), new_key()
    db = await Database.open(db_path, encryption_keys=[old])
    await link(db, 1)
    await db.close()
    db = await Database.open(db_path, encryption_keys=[new, old])
    try:
        assert await db.tokens.load(1) == TOKEN
        await link(db, 2)
    finally:
        await db.close()
    db = await Database.open(db_path, encryption_keys=[new])
    try:
        assert await db.tokens.load(2) == TOKEN
        with pytest.raises(TokenUnreadable):
            await db.tokens.load(1)
    finally:
        await db.close()


async def test_without_a_key_a_key_file_only_its_owner_can_read_is_created_with_a_warning(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No TOKEN_ENCRYPTION_KEY: a 0600 key file appears beside the database and the log says so."""
    caplog.set_level(logging.WARNING, logger="storage.crypto")
    db = await Database.open(db_path)
    await db.close()
    key_file = db_path.with_name(db_path.name + ".key")
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "TOKEN_ENCRYPTION_KEY is not set" in caplog.text


async def test_the_generated_key_file_is_used_again_at_the_next_start(db_path: Path) -> None:
    """Tokens stored under the generated key read back after a restart."""
    db = await Database.open(db_path)
    await link(db, 1)
    await db.close()
    db = await Database.open(db_path)
    try:
        assert await db.tokens.load(1) == TOKEN
    finally:
        await db.close()


async def test_a_malformed_key_is_refused_with_a_message_naming_the_setting(db_path: Path) -> None:
    """A key that is not a Fernet key stops the open with a clear StorageError."""
    with pytest.raises(StorageError, match="TOKEN_ENCRYPTION_KEY must be Fernet keys"):
        await Database.open(db_path, encryption_keys=["not-a-key"])
