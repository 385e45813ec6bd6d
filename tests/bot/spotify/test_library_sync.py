"""Reading Liked Songs through spotipy against the sandbox while the member keeps liking and
un-liking: no song is silently missed."""

from __future__ import annotations

import pytest

from bot.spotify.client import track_from_api
from bot.spotify.errors import LibraryChangedDuringRead
from bot.spotify.library_sync import MAX_FULL_READS, fetch_liked_songs
from sandbox.library import synthetic_library
from tests.bot.spotify.conftest import SpotifyWorld


def liked_ids(world: SpotifyWorld, user: str = "alice") -> list[str]:
    return [t.id for t, _ in world.state.users[user].liked]


def test_songs_liked_during_a_full_read_do_not_push_the_oldest_out_unseen(spotify_world: SpotifyWorld) -> None:
    """30 songs liked after the first page: the read notices the shift and reads again; nothing is missed."""
    client = spotify_world.link("alice")
    spotify_world.state.like_during_read("alice", synthetic_library(30, seed=90, prefix="mid"), after_page=1)
    fetched = fetch_liked_songs(client, set(), concurrency=16)
    assert [t.id for t, _ in fetched.new] == liked_ids(spotify_world)  # all 5,030, in order
    assert len(fetched.new) == 5_030 and fetched.reads == 2


def test_songs_unliked_during_a_full_read_do_not_hide_their_neighbours(spotify_world: SpotifyWorld) -> None:
    """40 recent songs un-liked after three pages move every later page up; the re-read finds every song still liked."""
    client = spotify_world.link("alice")
    gone = liked_ids(spotify_world)[60:100]
    spotify_world.state.during_liked_read("alice", lambda: spotify_world.state.unlike("alice", gone), after_page=3)
    fetched = fetch_liked_songs(client, set(), concurrency=1)  # one reader: pages in order, the shift is certain
    assert [t.id for t, _ in fetched.new] == liked_ids(spotify_world)
    assert len(fetched.new) == 4_960 and fetched.reads == 2


def test_a_library_that_never_stops_changing_is_reported_not_half_read(spotify_world: SpotifyWorld) -> None:
    """A like during every read: after a few tries the read says so instead of returning a partial library."""
    client = spotify_world.link("bob")
    for attempt in range(MAX_FULL_READS):  # bob's 120 songs are 3 pages: a like after the first page of each read
        spotify_world.state.like_during_read("bob", synthetic_library(1, seed=200 + attempt, prefix=f"r{attempt}"),
                                             after_page=1 + 3 * attempt)
    with pytest.raises(LibraryChangedDuringRead):
        fetch_liked_songs(client, set())


def test_an_incremental_read_reports_spotifys_total(spotify_world: SpotifyWorld) -> None:
    """The total lets the caller notice un-liked songs the incremental walk cannot see."""
    client = spotify_world.link("bob")
    known = set(liked_ids(spotify_world, "bob"))
    spotify_world.state.unlike("bob", list(known)[:3])
    fetched = fetch_liked_songs(client, known)
    assert fetched.new == [] and fetched.total == 117 and not fetched.complete


def test_a_relinked_song_is_read_under_the_id_the_member_liked(spotify_world: SpotifyWorld) -> None:
    """Spotify serves another instance of a song where it is not licensed; genrebot reads Liked
    Songs without a market, so it gets the liked id, which a genre playlist must hold for the
    member's app to show it as the liked song; unplayable songs are read too (they are liked)."""
    liked, unplayable = (t for t, _ in spotify_world.state.users["bob"].liked[:2])
    spotify_world.state.relink(liked.id, synthetic_library(1, seed=78, prefix="instead")[0])
    spotify_world.state.make_unplayable([unplayable.id])
    read = [t.id for t, _ in fetch_liked_songs(spotify_world.link("bob"), set()).new]
    assert read == liked_ids(spotify_world, "bob")


def test_a_relinked_track_object_is_taken_under_its_linked_from_id(spotify_world: SpotifyWorld) -> None:
    """Where an answer is relinked (the request named a market), the song is the one `linked_from`
    names: for an app in extended quota mode; development-mode apps get no `linked_from` since
    February 2026, so genrebot names no market (test_client_against_spec)."""
    spotify_world.state.extended_quota = True
    liked = spotify_world.state.users["bob"].liked[0][0]
    spotify_world.state.relink(liked.id, synthetic_library(1, seed=79, prefix="instead")[0])
    entry = spotify_world.link("bob").sp.current_user_saved_tracks(limit=1, market="from_token")["items"][0]
    assert entry["track"]["linked_from"]["id"] == liked.id
    track = track_from_api(entry["track"])
    assert track is not None and track.uri == liked.uri
