"""Playlists as sources through the real spotipy client: the member's list, reading one playlist's
items (what is skipped and why), Spotify's refusals, and tokens from before a scope was added."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.spotify.app import SCOPES
from bot.spotify.client import SKIPPED_EPISODE, SKIPPED_LOCAL, SKIPPED_UNAVAILABLE, track_from_api
from bot.spotify.errors import NeedsRelink, PlaylistNotFound, PlaylistNotReadable
from bot.spotify.playlist_source import fetch_playlist
from sandbox.library import synthetic_library
from sandbox.records import Episode, local_file, spotify_id
from sandbox.state import PlaylistItem
from tests.bot.spotify.conftest import SpotifyWorld

SCOPES_BEFORE_ISSUE_16 = tuple(s for s in SCOPES if s != "playlist-read-collaborative")


def test_my_playlists_reads_every_page_of_50(spotify_world: SpotifyWorld) -> None:
    """A member with 120 playlists gets all of them, in Spotify's order, in three requests."""
    made = [spotify_world.state.add_playlist("bob", f"List {n}") for n in range(120)]
    client = spotify_world.link("bob")
    listed = client.my_playlists()
    assert [p.id for p in listed] == [p.id for p in made]
    assert listed[0].owner_id == "bob" and listed[0].name == "List 0"
    assert spotify_world.state.count("GET", "/v1/me/playlists") == 3


def test_a_playlist_is_read_in_order_with_what_cannot_be_sorted_skipped_and_counted(
    spotify_world: SpotifyWorld,
) -> None:
    """Local files, episodes and songs Spotify no longer serves are skipped, each counted by reason."""
    songs = synthetic_library(130, seed=8, prefix="pl")
    episode = Episode(spotify_id("episode:pod"), "Pod 1", "A Show", "Pub", "2026-01-01", 600_000)
    garage = local_file("Garage Band", "Tapes", "Demo", 180)
    items: list[PlaylistItem] = [*songs[:60], garage, episode, *songs[60:], songs[0]]
    playlist = spotify_world.state.add_playlist("bob", "Road trip 2019", items)
    spotify_world.state.make_unavailable([songs[5].id])
    fetched = fetch_playlist(spotify_world.link("bob"), playlist.id)
    expected = [t.id for t in songs if t.id != songs[5].id]
    assert [t.id for t in fetched.tracks] == expected
    assert fetched.skipped == {SKIPPED_LOCAL: 1, SKIPPED_EPISODE: 1, SKIPPED_UNAVAILABLE: 1}
    assert fetched.duplicates == 1
    assert fetched.playlist.name == "Road trip 2019"


def test_a_playlist_the_member_collaborates_on_is_readable(spotify_world: SpotifyWorld) -> None:
    """Items of someone else's collaborative playlist are read when the member is a collaborator."""
    shared = spotify_world.state.add_playlist("alice", "Party", synthetic_library(12, seed=3), collaborative=True)
    spotify_world.state.collaborate("bob", shared.id)
    assert len(fetch_playlist(spotify_world.link("bob"), shared.id).tracks) == 12


def test_someone_elses_playlist_is_refused_naming_it_and_its_owner(spotify_world: SpotifyWorld) -> None:
    """A followed playlist of another user: Spotify answers 403, the error names the playlist and owner."""
    theirs = spotify_world.state.add_playlist("alice", "Alice's hits", synthetic_library(5, seed=4), public=True)
    spotify_world.state.follow("bob", theirs.id)
    with pytest.raises(PlaylistNotReadable) as caught:
        fetch_playlist(spotify_world.link("bob"), theirs.id)
    assert (caught.value.name, caught.value.owner) == ("Alice's hits", "Alice")


def test_an_unknown_playlist_is_not_found(spotify_world: SpotifyWorld) -> None:
    """An id Spotify does not know, or one that is not an id at all, raises PlaylistNotFound."""
    client = spotify_world.link("bob")
    with pytest.raises(PlaylistNotFound):
        fetch_playlist(client, spotify_id("no such playlist"))
    with pytest.raises(PlaylistNotFound):
        fetch_playlist(client, "not-an-id")


def test_a_playlist_edited_during_the_read_is_read_again(spotify_world: SpotifyWorld) -> None:
    """Songs inserted at the top between two pages shift the offsets: the read starts over and misses none."""
    songs = synthetic_library(120, seed=9, prefix="edit")
    playlist = spotify_world.state.add_playlist("bob", "Growing", songs)
    inserted = synthetic_library(3, seed=10, prefix="ins")
    spotify_world.state.add_tracks(inserted)
    edited = False

    def edit_once(done: int, total: int) -> None:
        nonlocal edited
        if not edited:  # after the first page: the member adds three songs at the top
            edited = True
            with spotify_world.state.lock:
                playlist.items[0:0] = [(t.uri, datetime.now(UTC)) for t in inserted]
                playlist.snapshot += 1

    fetched = fetch_playlist(spotify_world.link("bob"), playlist.id, progress=edit_once)
    assert [t.id for t in fetched.tracks] == [t.id for t in [*inserted, *songs]]
    assert spotify_world.state.count("GET", f"/v1/playlists/{playlist.id}/items") == 3 + 3


def test_a_token_from_before_the_collaborative_scope_still_works_without_a_prompt(
    spotify_world: SpotifyWorld,
) -> None:
    """A stored token lacking playlist-read-collaborative reads the member's own playlists (no console
    prompt from spotipy) and simply lists no collaborative ones."""
    own = spotify_world.state.add_playlist("bob", "Mine", synthetic_library(4, seed=5))
    shared = spotify_world.state.add_playlist("alice", "Shared", collaborative=True)
    spotify_world.state.collaborate("bob", shared.id)
    client = spotify_world.app.user_client(spotify_world.token("bob", scopes=SCOPES_BEFORE_ISSUE_16))
    assert "playlist-read-collaborative" not in client.granted_scopes
    assert [p.id for p in client.my_playlists()] == [own.id]
    assert client.profile().display_name == "Bob"
    spotify_world.state.expire_access_tokens()  # a refresh must not ask for the new scope either
    assert len(fetch_playlist(client, own.id).tracks) == 4


def test_a_token_lacking_a_scope_genrebot_needs_means_link_again(spotify_world: SpotifyWorld) -> None:
    """A token without user-library-read cannot sort at all: NeedsRelink, before any request."""
    token = spotify_world.token("bob", scopes=[s for s in SCOPES if s != "user-library-read"])
    with pytest.raises(NeedsRelink):
        spotify_world.app.user_client(token)


def test_an_episode_dressed_as_a_track_is_never_taken_for_a_song(spotify_world: SpotifyWorld) -> None:
    """What Spotify gives a client that leaves episodes out of additional_types: type "track",
    a spotify:episode: URI. It is not a song, so no genre playlist is ever given it."""
    song = synthetic_library(1, seed=9, prefix="dress")[0]
    episode = Episode(spotify_id("episode:dressed"), "Pod 2", "A Show", "Pub", "2026-01-01", 600_000)
    playlist = spotify_world.state.add_playlist("bob", "Mixed", [song, episode])
    client = spotify_world.link("bob")
    entries = client.sp.playlist_items(playlist.id, additional_types=("track",))["items"]
    assert entries[1]["item"]["type"] == "track"
    read = track_from_api(entries[0]["item"])
    assert read is not None and read.uri == song.uri
    assert track_from_api(entries[1]["item"]) is None


def test_playlists_are_read_once_spotify_stops_sending_the_deprecated_track_field(spotify_world: SpotifyWorld) -> None:
    """Entries with `item` alone (the 2026 rename, once `track` is gone) read as before: songs,
    skipped entries and the URIs genrebot's own playlists are compared by."""
    spotify_world.state.deprecated_track_fields = False
    songs = synthetic_library(60, seed=12, prefix="itemonly")
    episode = Episode(spotify_id("episode:itemonly"), "Pod 3", "A Show", "Pub", "2026-01-01", 600_000)
    playlist = spotify_world.state.add_playlist("bob", "New shape", [*songs, episode])
    client = spotify_world.link("bob")
    fetched = fetch_playlist(client, playlist.id)
    assert [t.id for t in fetched.tracks] == [t.id for t in songs]
    assert fetched.skipped == {SKIPPED_EPISODE: 1}
    assert client.playlist_item_uris(playlist.id) == [*(t.uri for t in songs), episode.uri]


def test_a_playlist_of_more_than_ten_thousand_items_is_read_whole_in_pages_of_50(spotify_world: SpotifyWorld) -> None:
    """10,030 entries with a local file and an episode among them: every song read once, in order,
    in one request per 50 entries (201)."""
    songs = synthetic_library(10_028, seed=12, prefix="big")
    episode = Episode(spotify_id("episode:bigpod"), "Pod 9", "A Show", "Pub", "2026-01-01", 600_000)
    items: list[PlaylistItem] = [*songs[:5_000], local_file("Tape Band", "Tapes", "Demo", 180), episode, *songs[5_000:]]
    playlist = spotify_world.state.add_playlist("bob", "Everything", items)
    fetched = fetch_playlist(spotify_world.link("bob"), playlist.id)
    assert [t.id for t in fetched.tracks] == [t.id for t in songs]
    assert fetched.skipped == {SKIPPED_LOCAL: 1, SKIPPED_EPISODE: 1} and fetched.duplicates == 0
    assert spotify_world.state.count("GET", f"/v1/playlists/{playlist.id}/items") == 201
