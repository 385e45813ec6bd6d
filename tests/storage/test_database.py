"""Database: what it composes across repositories — linking and unlinking a member."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from music import LikedSong, SortSource
from storage import Database, SpotifyAccountTaken
from storage.records import LinkStatus, PlaylistRecord, RunOutcome, RunStatus, RunTrigger, SortPreferences
from tests.storage.conftest import TOKEN, link, track


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
    """Token, library, sources read, playlists, schedule, memberships and counts go; the status says unlinked."""
    await link(db, 1)
    await db.tracks.upsert_many([track(1)])
    await db.liked.add_many(1, [LikedSong(track(1).id, datetime.now(UTC))])
    await db.genre_probabilities.save_many("v1", {track(1).id: b"\x00\x3c"})
    await db.leaderboard.replace_member_counts(1, "v1", {"family": {"rock": 1}, "genre": {"rock": 1}})
    await db.playlists.upsert(PlaylistRecord(1, "rock", "pl1", "https://x/pl1", 1, datetime.now(UTC)))
    await db.schedules.set(1, 4, 18, "UTC", datetime.now(UTC))
    await db.guilds.add_member(10, 1)
    await db.source_tracks.replace_all(1, "playlist:road", [track(1).id])
    await db.oauth_states.create(1)
    await db.unlink_member(1)
    assert await db.tokens.load(1) is None
    assert await db.liked.count(1) == 0
    assert await db.playlists.get_all(1) == {}
    assert await db.schedules.get(1) is None
    assert await db.source_tracks.known_ids(1, "playlist:road") == set()
    for table in ("guild_members", "member_genre_counts", "oauth_states"):
        assert await db.sql.fetchall(f"SELECT 1 FROM {table} WHERE discord_id = 1") == []  # noqa: S608
    user = await db.users.get(1)
    assert user is not None and user.status == LinkStatus.UNLINKED and user.scopes == ()


async def test_unlinking_forgets_the_run_history_and_the_spotify_name(db: Database) -> None:
    """The member's runs (songs per playlist of their library) and their Spotify display name go with the link."""
    await db.link_member(1, "sp1", "Alice Liddell", [], TOKEN)
    run = await db.runs.start(1, RunTrigger.COMMAND)
    await db.runs.finish(run, RunOutcome(RunStatus.SUCCEEDED, counts={"rock": 12}, new_songs=12))
    await link(db, 2)
    other = await db.runs.start(2, RunTrigger.COMMAND)
    await db.unlink_member(1)
    assert await db.runs.recent(1) == [] and [r.id for r in await db.runs.recent(2)] == [other]
    user = await db.users.get(1)
    assert user is not None and "Alice" not in user.display_name


async def test_unlinking_keeps_the_members_preferences(db: Database) -> None:
    """Saved sort choices and leaderboard opt-outs are the member's, not the link's: they stay."""
    await link(db, 1)
    await db.sort_preferences.save(1, SortPreferences(("rock",), "family", 0.0, 5, False))
    await db.guilds.set_leaderboard_opt_out(10, 1, True)
    await db.unlink_member(1)
    await link(db, 1)
    assert await db.sort_preferences.get(1) == SortPreferences(("rock",), "family", 0.0, 5, False)
    assert await db.guilds.opted_out(10, 1)


async def test_unlinking_keeps_songs_and_their_probabilities_other_members_share(db: Database) -> None:
    """Track metadata and the model's probabilities for it are not the member's: they stay."""
    await link(db, 1)
    await db.tracks.upsert_many([track(1)])
    await db.liked.add_many(1, [LikedSong(track(1).id, datetime.now(UTC))])
    await db.genre_probabilities.save_many("v1", {track(1).id: b"\x00\x3c"})
    await db.unlink_member(1)
    assert track(1).id in await db.tracks.get_many([track(1).id])
    assert track(1).id in await db.genre_probabilities.get_many([track(1).id], "v1")


async def test_unlinking_one_member_leaves_another_untouched(db: Database) -> None:
    """Only the unlinked member's rows go."""
    await link(db, 1)
    await link(db, 2)
    await db.tracks.upsert_many([track(1)])
    await db.liked.add_many(2, [LikedSong(track(1).id, datetime.now(UTC))])
    await db.unlink_member(1)
    assert await db.tokens.load(2) == TOKEN and await db.liked.count(2) == 1


async def library_of(db: Database, discord_id: int) -> None:
    """Give the member a liked song, a playlist, a genre count and saved choices."""
    await db.tracks.upsert_many([track(1)])
    await db.liked.add_many(discord_id, [LikedSong(track(1).id, datetime.now(UTC))])
    await db.genre_probabilities.save_many("v1", {track(1).id: b"\x00\x3c"})
    await db.leaderboard.replace_member_counts(discord_id, "v1", {"family": {"rock": 1}, "genre": {"rock": 1}})
    await db.playlists.upsert(PlaylistRecord(discord_id, "rock", "pl1", "https://x/pl1", 1, datetime.now(UTC)))
    await db.sort_preferences.save(discord_id, SortPreferences(("rock",), "family", 0.0, 5, False))
    await db.sort_preferences.save_refresh_sources(discord_id, [SortSource("road", "Road Trip")])
    await db.source_tracks.replace_all(discord_id, "playlist:road", [track(1).id])


async def test_linking_another_spotify_account_drops_the_old_accounts_library(db: Database) -> None:
    """A relink to a different account forgets A's songs, sources, playlists, counts and choices, so B starts afresh."""
    await db.link_member(1, "account-a", "A", [], TOKEN)
    await library_of(db, 1)
    await db.link_member(1, "account-b", "B", [], TOKEN)
    assert await db.liked.count(1) == 0
    assert await db.playlists.get_all(1) == {}
    assert await db.sort_preferences.get(1) is None
    assert await db.sort_preferences.refresh_sources(1) == []
    assert await db.source_tracks.known_ids(1, "playlist:road") == set()
    assert await db.sql.fetchall("SELECT 1 FROM member_genre_counts WHERE discord_id = 1") == []


async def test_linking_the_same_spotify_account_again_keeps_the_library(db: Database) -> None:
    """A relink to the same account (new token) keeps what genrebot knows about that account."""
    await db.link_member(1, "account-a", "A", [], TOKEN)
    await library_of(db, 1)
    await db.link_member(1, "account-a", "A", [], {**TOKEN, "access_token": "fresh"})
    assert await db.liked.count(1) == 1 and set(await db.playlists.get_all(1)) == {"rock"}


async def test_relinking_another_account_after_unlink_drops_the_saved_choices(db: Database) -> None:
    """Choices kept over an unlink belong to the account: linking a different one drops them."""
    await db.link_member(1, "account-a", "A", [], TOKEN)
    await db.sort_preferences.save(1, SortPreferences(("rock",), "family", 0.0, 5, False))
    await db.unlink_member(1)
    await db.link_member(1, "account-b", "B", [], TOKEN)
    assert await db.sort_preferences.get(1) is None


async def test_a_spotify_account_linked_by_one_member_is_refused_to_another(db: Database) -> None:
    """A second Discord member linking the same Spotify account gets SpotifyAccountTaken; the first keeps it."""
    await db.link_member(1, "account-a", "A", [], TOKEN)
    with pytest.raises(SpotifyAccountTaken):
        await db.link_member(2, "account-a", "A", [], TOKEN)
    assert await db.users.get(2) is None
    first = await db.users.get(1)
    assert first is not None and first.status == LinkStatus.LINKED


async def test_a_spotify_account_is_free_again_once_its_member_unlinked(db: Database) -> None:
    """After the first member unlinks, another member may link that account."""
    await db.link_member(1, "account-a", "A", [], TOKEN)
    await db.unlink_member(1)
    user = await db.link_member(2, "account-a", "A", [], TOKEN)
    assert user.status == LinkStatus.LINKED


async def test_each_link_gets_a_new_generation(db: Database) -> None:
    """Relinking raises the link generation that token saves are checked against."""
    first = await db.link_member(1, "account-a", "A", [], TOKEN)
    second = await db.link_member(1, "account-a", "A", [], TOKEN)
    assert second.link_generation == first.link_generation + 1
