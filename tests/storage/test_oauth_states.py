"""OAuth states: unguessable, stored hashed, bound to one member, single use, short-lived."""

from __future__ import annotations

import asyncio

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


async def test_a_forged_state_is_refused_while_a_long_write_holds_the_lock(db: Database) -> None:
    """Checking a state takes no write lock: forged callbacks cannot queue behind (or ahead of) writers."""
    opened, release = asyncio.Event(), asyncio.Event()

    async def long_write() -> None:
        async with db.transaction():
            opened.set()
            await release.wait()

    writer = asyncio.create_task(long_write())
    await opened.wait()
    check = asyncio.create_task(db.oauth_states.consume("forged-state"))
    done, _ = await asyncio.wait({check}, timeout=60)  # only reached when the check waits for the lock
    release.set()
    await writer
    assert check in done and isinstance(check.exception(), InvalidOAuthState)


async def test_two_callbacks_with_one_state_link_once(db: Database) -> None:
    """Single use holds under concurrency: of two simultaneous consumes one wins, one is told 'used'."""
    state = await db.oauth_states.create(42)
    results = await asyncio.gather(
        db.oauth_states.consume(state), db.oauth_states.consume(state), return_exceptions=True
    )
    assert sorted(map(repr, results)) == sorted([repr(42), repr(InvalidOAuthState("used"))])


async def test_a_state_bound_to_a_browser_is_refused_in_another(db: Database) -> None:
    """Once bound (the confirmation page), the state works only with that browser's secret."""
    state = await db.oauth_states.create(42)
    assert await db.oauth_states.bind_browser(state, "browser-secret") == 42
    with pytest.raises(InvalidOAuthState) as elsewhere:
        await db.oauth_states.consume(state, browser="another-secret")
    assert elsewhere.value.reason == "other_browser"
    assert await db.oauth_states.consume(state, browser="browser-secret") == 42


async def test_a_state_binds_to_one_browser_only(db: Database) -> None:
    """A second browser cannot re-bind a state already bound."""
    state = await db.oauth_states.create(42)
    await db.oauth_states.bind_browser(state, "first")
    with pytest.raises(InvalidOAuthState) as rebound:
        await db.oauth_states.bind_browser(state, "second")
    assert rebound.value.reason == "other_browser"


async def test_looking_a_state_up_names_its_member_without_using_it(db: Database) -> None:
    """member_for tells the confirmation page whose link it is; the state still works afterwards."""
    state = await db.oauth_states.create(42)
    assert await db.oauth_states.member_for(state) == 42
    assert await db.oauth_states.consume(state) == 42


async def test_a_state_keeps_the_names_link_saw(db: Database) -> None:
    """pending() names the member as /link saw them, for the confirmation page, and uses nothing up."""
    state = await db.oauth_states.create(42, member_display_name="Alex Rivera", member_username="alexrivera")
    pending = await db.oauth_states.pending(state)
    assert (pending.discord_id, pending.member_display_name, pending.member_username) == (42, "Alex Rivera", "alexrivera")
    assert await db.oauth_states.consume(state) == 42


async def test_a_browser_must_have_confirmed_the_state(db: Database) -> None:
    """With a browser, a state never bound is 'unconfirmed' (the confirmation page was skipped)."""
    state = await db.oauth_states.create(42)
    for check in (db.oauth_states.pending(state, browser="b"), db.oauth_states.consume(state, browser="b")):
        with pytest.raises(InvalidOAuthState) as skipped:
            await check
        assert skipped.value.reason == "unconfirmed"
    await db.oauth_states.bind_browser(state, "b")
    assert (await db.oauth_states.pending(state, browser="b")).discord_id == 42


async def test_a_state_needing_the_discord_check_is_refused_without_it(db: Database) -> None:
    """identity_verified=True refuses a state whose browser never proved the member's Discord account."""
    state = await db.oauth_states.create(42)
    await db.oauth_states.bind_browser(state, "b")
    with pytest.raises(InvalidOAuthState) as unchecked:
        await db.oauth_states.consume(state, browser="b", identity_verified=True)
    assert unchecked.value.reason == "unverified"
    await db.oauth_states.mark_identity_verified(state, "b")
    assert await db.oauth_states.consume(state, browser="b", identity_verified=True) == 42


async def test_only_the_bound_browser_can_mark_the_discord_check(db: Database) -> None:
    """Another browser cannot mark a state checked."""
    state = await db.oauth_states.create(42)
    await db.oauth_states.bind_browser(state, "b")
    with pytest.raises(InvalidOAuthState) as elsewhere:
        await db.oauth_states.mark_identity_verified(state, "other")
    assert elsewhere.value.reason == "other_browser"


async def test_a_used_state_is_found_again_only_by_the_browser_that_used_it(db: Database) -> None:
    """used_in names the member of a used state for its own browser; None before use, for another
    browser, or for a state nobody issued."""
    state = await db.oauth_states.create(42, member_display_name="Ann", member_username="ann")
    await db.oauth_states.bind_browser(state, "mine")
    assert await db.oauth_states.used_in(state, "mine") is None
    await db.oauth_states.consume(state, browser="mine")
    found = await db.oauth_states.used_in(state, "mine")
    assert found is not None and found[0].discord_id == 42 and found[0].member_display_name == "Ann"
    assert await db.oauth_states.used_in(state, "theirs") is None
    assert await db.oauth_states.used_in("forged-" + state, "mine") is None
