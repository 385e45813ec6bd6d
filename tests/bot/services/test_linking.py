"""Linking a member's Spotify account, the tokens kept for it, and forgetting it again."""

from __future__ import annotations

import pytest

from bot.services.errors import NotLinked
from bot.services.playlist_plan import SortOptions
from bot.spotify.errors import NeedsRelink
from storage.records import LinkStatus, RunStatus
from tests.bot.conftest import ALICE_SONGS, World

ALICE = 111


async def test_linking_through_the_consent_page_stores_an_encrypted_token(world: World) -> None:
    """The consent page's redirect links the member with their stable Spotify account id."""
    response = await world.link(ALICE, "alice")
    assert response.status == 200 and "Linked as Alice" in await response.text()
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED
    assert user.spotify_id == world.sandbox.users["alice"].account_id
    assert (await world.services.db.tokens.load(ALICE) or {}).get("refresh_token")
    stored = await world.services.db.sql.fetchone("SELECT ciphertext FROM tokens WHERE discord_id = ?", (ALICE,))
    assert stored is not None and b"refresh_token" not in bytes(stored["ciphertext"])


async def test_expired_access_token_is_refreshed_and_saved(world: World) -> None:
    """spotipy refreshes an expired token during a sort; the new token is stored afterwards."""
    await world.link(ALICE, "alice")
    old = (await world.services.db.tokens.load(ALICE) or {})["access_token"]
    world.sandbox.expire_access_tokens()
    await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))
    assert (await world.services.db.tokens.load(ALICE) or {})["access_token"] != old


async def test_revoked_authorisation_marks_the_member_needs_relink(world: World) -> None:
    """A refresh answered invalid_grant fails the run and marks the member; linking again heals it."""
    await world.link(ALICE, "alice")
    world.sandbox.revoke_refresh_tokens("alice")
    with pytest.raises(NeedsRelink):
        await world.services.sorting.sort(ALICE, SortOptions())
    user = await world.services.linking.member(ALICE)
    assert user is not None and user.status == LinkStatus.NEEDS_RELINK
    assert (await world.services.sorting.recent_runs(ALICE))[0].status == RunStatus.FAILED
    await world.link(ALICE, "alice")
    assert (await world.services.sorting.sort(ALICE, SortOptions())).total_songs == ALICE_SONGS


async def test_unlink_forgets_the_member(world: World) -> None:
    """Unlinking deletes the tokens and the playlist list; a later sort is told to link."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions())
    assert await world.services.linking.unlink(ALICE)
    assert await world.services.db.tokens.load(ALICE) is None
    assert await world.services.db.playlists.get_all(ALICE) == {}
    with pytest.raises(NotLinked):
        await world.services.sorting.sort(ALICE, SortOptions())
