"""Database: what it composes across repositories — linking and unlinking a member."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from music import LikedSong, SortSource
from storage import Database
from storage.records import LinkStatus, PlaylistRecord, SortPreferences
from tests.storage.conftest import TOKEN, Guess, link, track


async def test_linking_stores_the_member_and_their_token(db: Database) -> None:
    """link_member records the Spotify account, scopes and status, and the token."""
    user = await db.link_member(7, "sp7", "Seven", ["user-library-read", "playlist-modify-private"], TOKEN)
    assert (user.spotify_id, user.display_name, user.scopes, user.status) == (
        "sp7", "Seven", ("user-library-read", "playlist-modify-private"), LinkStatus.LINKED
    )
    assert await db.tokens.load(7) == TOKEN


async def test_a_link_whose_token_cannot_be_stored_stores_nothing(db: Database) -> None:
    """Member and token commit together: a token that fails to store leaves no member either."""
    with pytest.raises(TypeError):
        await db.link_member(7, "sp7", "Seven", [], {"access_token": object()})
    assert await db.users.get(7) is None


async def test_unlinking_forgets_the_members_data(db: Database) -> None:
    """Token, library, sources, playlists, schedule, memberships, counts and saved choices go; the status says unlinked."""
    await link(db, 1)
    await db.tracks.upsert_many([track(1)])
    await db.liked.add_many(1, [LikedSong(track(1).id, datetime.now(UTC))])
    await db.predictions.save_many("v1", {track(1).id: Guess("rock")})
    await db.leaderboard.refresh_member(1, "v1")
    await db.playlists.upsert(PlaylistRecord(1, "rock", "pl1", "https://x/pl1", 1, datetime.now(UTC)))
    await db.schedules.set(1, 4, 18, "UTC", datetime.now(UTC))
    await db.guilds.add_member(10, 1)
    await db.sort_preferences.save(1, SortPreferences(None, "genre", 0.0, 5, False))
    await db.sort_preferences.save_refresh_sources(1, [SortSource("road", "Road Trip")])
    await db.source_tracks.replace_all(1, "playlist:road", [track(1).id])
    await db.oauth_states.create(1)
    await db.unlink_member(1)
    assert await db.tokens.load(1) is None
    assert await db.liked.count(1) == 0
    assert await db.playlists.get_all(1) == {}
    assert await db.schedules.get(1) is None
    assert await db.sort_preferences.get(1) is None
    assert await db.sort_preferences.refresh_sources(1) == []
    assert await db.source_tracks.known_ids(1, "playlist:road") == set()
    for table in ("guild_members", "member_genre_counts", "oauth_states"):
        assert await db.sql.fetchall(f"SELECT 1 FROM {table} WHERE discord_id = 1") == []  # noqa: S608
    user = await db.users.get(1)
    assert user is not None and user.status == LinkStatus.UNLINKED and user.scopes == ()


async def test_unlinking_keeps_songs_and_predictions_other_members_share(db: Database) -> None:
    """Track metadata and predictions are not the member's: they stay."""
    await link(db, 1)
    await db.tracks.upsert_many([track(1)])
    await db.liked.add_many(1, [LikedSong(track(1).id, datetime.now(UTC))])
    await db.predictions.save_many("v1", {track(1).id: Guess("rock")})
    await db.unlink_member(1)
    assert track(1).id in await db.tracks.get_many([track(1).id])
    assert track(1).id in await db.predictions.get_many([track(1).id], "v1")


async def test_unlinking_one_member_leaves_another_untouched(db: Database) -> None:
    """Only the unlinked member's rows go."""
    await link(db, 1)
    await link(db, 2)
    await db.tracks.upsert_many([track(1)])
    await db.liked.add_many(2, [LikedSong(track(1).id, datetime.now(UTC))])
    await db.unlink_member(1)
    assert await db.tokens.load(2) == TOKEN and await db.liked.count(2) == 1
