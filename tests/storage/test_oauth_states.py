"""OAuth states: unguessable, stored hashed, bound to one member, single use, short-lived."""

from __future__ import annotations

import pytest

from storage import Database, InvalidOAuthState


async def test_a_state_is_long_and_stored_only_as_its_hash(db: Database) -> None:
    """At least 128 bits of url-safe text, and the raw value is nowhere in the table."""
    state = await db.oauth_states.create(42)
    assert len(state) >= 22
    stored = [row["state_hash"] for row in await db.sql.fetchall("SELECT state_hash FROM oauth_states")]
    assert len(stored) == 1 and state not in stored[0]


async def test_a_state_names_the_member_who_asked_for_it(db: Database) -> None:
    """consume returns the Discord id the state was created for."""
    state = await db.oauth_states.create(42)
    assert await db.oauth_states.consume(state) == 42


async def test_a_state_works_only_once(db: Database) -> None:
    """A second consume of the same state is refused as used."""
    state = await db.oauth_states.create(42)
    await db.oauth_states.consume(state)
    with pytest.raises(InvalidOAuthState) as reused:
        await db.oauth_states.consume(state)
    assert reused.value.reason == "used"


async def test_an_unknown_state_is_refused(db: Database) -> None:
    """A state nobody issued is refused as unknown."""
    state = await db.oauth_states.create(42)
    with pytest.raises(InvalidOAuthState) as forged:
        await db.oauth_states.consume("forged-" + state)
    assert forged.value.reason == "unknown"


async def test_an_expired_state_is_refused(db: Database) -> None:
    """A state past its time to live is refused as expired."""
    state = await db.oauth_states.create(42, ttl_seconds=-1)
    with pytest.raises(InvalidOAuthState) as late:
        await db.oauth_states.consume(state)
    assert late.value.reason == "expired"
