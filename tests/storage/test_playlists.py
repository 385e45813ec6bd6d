"""Playlists genrebot made: one record per member, source and key."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import Database
from storage.records import PlaylistRecord
from tests.storage.conftest import link

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_a_playlist_record_reads_back_by_its_key(db: Database) -> None:
    """upsert then get_all returns the record under its genre key."""
    await link(db, 1)
    record = PlaylistRecord(1, "rock", "pl1", "https://open.spotify.com/playlist/pl1", 12, T0)
    await db.playlists.upsert(record)
    assert await db.playlists.get_all(1) == {"rock": record}


async def test_writing_a_key_again_replaces_its_record(db: Database) -> None:
    """A second upsert for the same key updates it instead of adding another."""
    await link(db, 1)
    await db.playlists.upsert(PlaylistRecord(1, "rock", "pl1", "u1", 12, T0))
    await db.playlists.upsert(PlaylistRecord(1, "rock", "pl2", "u2", 15, T0))
    assert [(r.playlist_id, r.track_count) for r in (await db.playlists.get_all(1)).values()] == [("pl2", 15)]


async def test_playlists_of_different_sources_are_kept_apart(db: Database) -> None:
    """The same genre key from Liked Songs and from a playlist are two records; get_all reads one source."""
    await link(db, 1)
    liked = PlaylistRecord(1, "rock", "pl1", "u1", 12, T0)
    road_trip = PlaylistRecord(1, "rock", "pl2", "u2", 4, T0, source="playlist:road")
    await db.playlists.upsert(liked)
    await db.playlists.upsert(road_trip)
    assert await db.playlists.get_all(1) == {"rock": liked}
    assert await db.playlists.get_all(1, "playlist:road") == {"rock": road_trip}
    assert await db.playlists.playlist_ids(1) == {"pl1", "pl2"}


async def test_the_digest_of_a_playlists_songs_is_kept_and_replaced(db: Database) -> None:
    """tracks_digest reads back as written; a record without one (older ones) reads back as None."""
    await link(db, 1)
    await db.playlists.upsert(PlaylistRecord(1, "rock", "pl1", "u1", 3, T0))
    assert (await db.playlists.get_all(1))["rock"].tracks_digest is None
    await db.playlists.upsert(PlaylistRecord(1, "rock", "pl1", "u1", 3, T0, tracks_digest="abc123"))
    assert (await db.playlists.get_all(1))["rock"].tracks_digest == "abc123"


async def test_a_playlists_known_songs_snapshot_and_details_read_back_and_clear(db: Database) -> None:
    """The songs of the last write (none at all included), its snapshot id and details digest round-trip; a
    record written without them (a write that has not ended) reads back as unknown."""
    await link(db, 1)
    known = PlaylistRecord(1, "rock", "pl1", "u1", 2, T0, tracks_digest="d", snapshot_id="snap7",
                           track_ids=("a" * 22, "b" * 22), details_digest="x")
    await db.playlists.upsert(known)
    assert await db.playlists.get_all(1) == {"rock": known}
    emptied = PlaylistRecord(1, "rock", "pl1", "u1", 0, T0, snapshot_id="snap8", track_ids=())
    await db.playlists.upsert(emptied)
    assert (await db.playlists.get_all(1))["rock"].track_ids == ()
    await db.playlists.upsert(PlaylistRecord(1, "rock", "pl1", "u1", -1, T0))
    unknown = (await db.playlists.get_all(1))["rock"]
    assert (unknown.snapshot_id, unknown.track_ids, unknown.details_digest) == (None, None, None)


async def test_moving_a_key_keeps_the_record_whole_and_never_overwrites_one(db: Database) -> None:
    """'rap' -> 'hip-hop' moves the record, its songs and snapshot with it; a move onto a key that has a
    record, or of a key already moved (a re-run), changes nothing; other sources are left alone."""
    await link(db, 1)
    rap = PlaylistRecord(1, "rap", "pl1", "u1", 2, T0, tracks_digest="d", snapshot_id="s", track_ids=("a", "b"))
    edm, electronic = PlaylistRecord(1, "edm", "pl2", "u2", 3, T0), PlaylistRecord(1, "electronic", "pl3", "u3", 4, T0)
    road_trip = PlaylistRecord(1, "rap", "pl4", "u4", 1, T0, source="playlist:road")
    for record in (rap, edm, electronic, road_trip):
        await db.playlists.upsert(record)
    moves = {"rap": "hip-hop", "edm": "electronic"}
    assert await db.playlists.move_keys(1, "liked", moves) == {"rap": "hip-hop"}
    assert await db.playlists.move_keys(1, "liked", moves) == {}
    assert await db.playlists.get_all(1) == {
        "hip-hop": PlaylistRecord(1, "hip-hop", "pl1", "u1", 2, T0, tracks_digest="d", snapshot_id="s",
                                  track_ids=("a", "b")),
        "edm": edm, "electronic": electronic,
    }
    assert await db.playlists.get_all(1, "playlist:road") == {"rap": road_trip}
