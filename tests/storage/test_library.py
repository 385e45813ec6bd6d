"""Songs and liked songs: metadata round trips, incremental and full reads of a library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from music import LikedSong
from storage import Database
from tests.storage.conftest import link, track

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def liked(i: int, days: int = 0) -> LikedSong:
    return LikedSong(track(i).id, T0 + timedelta(days=days))


async def test_a_song_reads_back_with_all_its_metadata(db: Database) -> None:
    """Every Track field survives storage, including audio features and explicit=None."""
    song = track(1, artist_ids=("a1", "a2"), explicit=None, audio_features={"energy": 0.5})
    await db.tracks.upsert_many([song])
    assert await db.tracks.get_many([song.id]) == {song.id: song}


async def test_known_audio_features_survive_an_update_without_them(db: Database) -> None:
    """Re-reading a song when Spotify withholds features keeps the features stored earlier."""
    await db.tracks.upsert_many([track(1, audio_features={"energy": 0.5})])
    await db.tracks.upsert_many([track(1, name="Renamed")])
    stored = (await db.tracks.get_many([track(1).id]))[track(1).id]
    assert stored.name == "Renamed" and stored.audio_features == {"energy": 0.5}


async def test_stored_audio_features_are_found_only_for_songs_that_have_them(db: Database) -> None:
    """Across several query chunks: the songs with features, by id; songs without or unknown are absent."""
    await db.tracks.upsert_many([track(i, audio_features={"energy": i / 1000} if i % 2 else None) for i in range(1200)])
    found = await db.tracks.stored_audio_features([track(i).id for i in range(1300)])
    assert found == {track(i).id: {"energy": i / 1000} for i in range(1, 1200, 2)}


async def test_looking_up_more_songs_than_one_query_takes_finds_them_all(db: Database) -> None:
    """get_many with 1,200 ids (several chunks) returns all 1,200, and unknown ids are absent."""
    await db.tracks.upsert_many([track(i) for i in range(1200)])
    found = await db.tracks.get_many([track(i).id for i in range(1300)])
    assert set(found) == {track(i).id for i in range(1200)}


async def test_an_incremental_read_adds_songs_and_keeps_the_others(db: Database) -> None:
    """add_many adds new liked songs next to the ones already known."""
    await link(db, 1)
    await db.tracks.upsert_many([track(i) for i in range(3)])
    await db.liked.add_many(1, [liked(0), liked(1)])
    await db.liked.add_many(1, [liked(2)])
    assert await db.liked.known_ids(1) == {track(0).id, track(1).id, track(2).id}


async def test_a_full_read_replaces_the_library_so_unliked_songs_disappear(db: Database) -> None:
    """replace_all leaves exactly the songs of the latest full read."""
    await link(db, 1)
    await db.tracks.upsert_many([track(i) for i in range(3)])
    await db.liked.add_many(1, [liked(0), liked(1)])
    await db.liked.replace_all(1, [liked(1), liked(2)])
    assert await db.liked.known_ids(1) == {track(1).id, track(2).id}


async def test_liked_songs_list_newest_first(db: Database) -> None:
    """list() orders by the time each song was liked, newest first, as Spotify shows them."""
    await link(db, 1)
    await db.tracks.upsert_many([track(i) for i in range(3)])
    await db.liked.add_many(1, [liked(0, days=5), liked(1, days=9), liked(2, days=1)])
    assert [s.track_id for s in await db.liked.list(1)] == [track(1).id, track(0).id, track(2).id]
    assert (await db.liked.list(1))[0].added_at == T0 + timedelta(days=9)


async def test_counting_liked_songs_counts_only_that_members(db: Database) -> None:
    """count() is per member."""
    await link(db, 1)
    await link(db, 2)
    await db.tracks.upsert_many([track(i) for i in range(3)])
    await db.liked.add_many(1, [liked(0), liked(1)])
    await db.liked.add_many(2, [liked(2)])
    assert (await db.liked.count(1), await db.liked.count(2)) == (2, 1)


async def test_a_sources_songs_are_replaced_by_each_read_and_kept_per_source(db: Database) -> None:
    """replace_all keeps what the last read of that source found; other sources are untouched."""
    await link(db, 1)
    await db.tracks.upsert_many([track(i) for i in range(4)])
    await db.source_tracks.replace_all(1, "playlist:a", [track(0).id, track(1).id])
    await db.source_tracks.replace_all(1, "playlist:b", [track(2).id])
    await db.source_tracks.replace_all(1, "playlist:a", [track(1).id, track(3).id])
    assert await db.source_tracks.known_ids(1, "playlist:a") == {track(1).id, track(3).id}
    assert await db.source_tracks.known_ids(1, "playlist:b") == {track(2).id}
