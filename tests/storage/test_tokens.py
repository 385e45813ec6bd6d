"""Members' tokens: encrypted at rest, readable only with the right key, never leaked in errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import Database, TokenUnreadable
from storage.records import LinkStatus
from tests.storage.conftest import TOKEN, link, new_key


async def test_a_linked_members_token_reads_back_unchanged(db: Database) -> None:
    """The token stored by linking loads as the same token_info."""
    await link(db, 7)
    assert await db.tokens.load(7) == TOKEN


async def test_a_member_without_a_token_reads_as_none(db: Database) -> None:
    """load of an unknown member is None, not an error."""
    assert await db.tokens.load(404) is None


async def test_tokens_are_encrypted_at_rest(db: Database, db_path: Path) -> None:
    """Neither the database file nor its WAL contains the token's secrets."""
    await link(db, 7)
    await db.sql.fetchall("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))
    assert b"secret-access-token" not in raw and b"secret-refresh-token" not in raw


async def tokens_under_two_keys(db_path: Path) -> str:
    """Member 7's token under a key since dropped, member 8's under the key returned."""
    dropped, kept = new_key(), new_key()
    db = await Database.open(db_path, encryption_keys=[dropped])
    await link(db, 7)
    await db.close()
    db = await Database.open(db_path, encryption_keys=[kept, dropped])
    await link(db, 8)
    await db.close()
    return kept


async def test_a_token_under_a_dropped_key_is_unreadable_and_the_error_leaks_nothing(db_path: Path) -> None:
    """Reading with keys that miss its key raises TokenUnreadable whose text holds no token material."""
    kept = await tokens_under_two_keys(db_path)
    db = await Database.open(db_path, encryption_keys=[kept])
    try:
        with pytest.raises(TokenUnreadable) as caught:
            await db.tokens.load(7)
        assert "secret" not in str(caught.value)
    finally:
        await db.close()


async def test_reading_an_unreadable_token_leaves_the_member_status_alone(db_path: Path) -> None:
    """The token repository reports the problem; deciding what it means for the member is not its job."""
    kept = await tokens_under_two_keys(db_path)
    db = await Database.open(db_path, encryption_keys=[kept])
    try:
        with pytest.raises(TokenUnreadable):
            await db.tokens.load(7)
        user = await db.users.get(7)
        assert user is not None and user.status == LinkStatus.LINKED
    finally:
        await db.close()


async def test_a_token_saved_for_the_current_link_is_kept(db: Database) -> None:
    """save with the generation the member is linked under replaces the token."""
    user = await db.link_member(7, "sp7", "Seven", [], TOKEN)
    assert await db.tokens.save(7, {**TOKEN, "access_token": "refreshed"}, link_generation=user.link_generation)
    assert (await db.tokens.load(7) or {})["access_token"] == "refreshed"


async def test_a_token_saved_after_unlink_does_not_come_back(db: Database) -> None:
    """A sort that ends after /unlink cannot store its refreshed token: the member stays unlinked."""
    user = await db.link_member(7, "sp7", "Seven", [], TOKEN)
    await db.unlink_member(7)
    assert not await db.tokens.save(7, TOKEN, link_generation=user.link_generation)
    assert await db.tokens.load(7) is None


async def test_a_token_saved_for_an_older_link_does_not_overwrite_a_relink(db: Database) -> None:
    """A sort of the old link ending after a relink leaves the new link's token alone."""
    old = await db.link_member(7, "sp7", "Seven", [], TOKEN)
    await db.link_member(7, "sp7", "Seven", [], {**TOKEN, "access_token": "relinked"})
    assert not await db.tokens.save(7, {**TOKEN, "access_token": "stale"}, link_generation=old.link_generation)
    assert (await db.tokens.load(7) or {})["access_token"] == "relinked"


async def test_a_token_loads_with_the_generation_of_its_link(db: Database) -> None:
    """load_for_link returns the token together with the link generation it belongs to."""
    user = await db.link_member(7, "sp7", "Seven", [], TOKEN)
    stored = await db.tokens.load_for_link(7)
    assert stored is not None and (stored.token_info, stored.link_generation) == (TOKEN, user.link_generation)
