"""What Spotify refuses in a request: too many items, long or multi-line descriptions, unknown
or local URIs, malformed numbers, and the endpoints and fields development-mode apps lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import spotipy

from sandbox.api.removed import REMOVED_OPERATIONS
from sandbox.library import synthetic_library
from sandbox.records import Episode, local_file, spotify_id
from tests.sandbox.conftest import Sandbox, error_of


def _refusal(call: Callable[[], object]) -> tuple[int | None, str]:
    with pytest.raises(spotipy.SpotifyException) as caught:
        call()
    return caught.value.http_status, caught.value.msg.rsplit("\n", 1)[-1].strip()


def test_a_playlist_holds_at_most_10000_items(sandbox: Sandbox) -> None:
    """Adding past 10,000 is refused whole with 400 "Playlist size limit reached" (what clients of the
    real service check for); up to 10,000 is fine."""
    songs = synthetic_library(10_000, seed=9, prefix="big")
    sandbox.state.add_tracks(songs)
    playlist = sandbox.state.add_playlist("alice", "Everything", songs[:9_950])
    client = sandbox.link("alice")
    status, message = _refusal(lambda: client.playlist_add_items(playlist.id, [t.uri for t in songs[9_900:]]))
    assert status == 400 and message.startswith("Playlist size limit reached") and len(playlist.items) == 9_950
    client.playlist_add_items(playlist.id, [t.uri for t in songs[9_950:]])
    assert len(playlist.items) == 10_000


@pytest.mark.parametrize("description", ["x" * 301, "first line\nsecond line", "carriage\rreturn"])
def test_a_long_or_multi_line_description_gets_spotifys_500(sandbox: Sandbox, description: str) -> None:
    """Over 300 characters or with a line break, Spotify answers 500; nothing changes."""
    client = sandbox.link("alice")
    assert _refusal(lambda: client.current_user_playlist_create("Rock", public=False, description=description)) \
        == (500, "Server error.")
    assert sandbox.state.playlists_of("alice") == []
    playlist = sandbox.state.add_playlist("alice", "Rock", description="old")
    assert _refusal(lambda: client.playlist_change_details(playlist.id, description=description))[0] == 500
    assert playlist.description == "old"


def test_a_description_cannot_be_changed_to_nothing(sandbox: Sandbox) -> None:
    """Change Details with `"description": ""` is 400 "Attribute description is empty."
    (spotify/web-api#1011); creating a playlist without one is fine."""
    client = sandbox.link("alice")
    created = client.current_user_playlist_create("Rock", public=False, description="")
    playlist = sandbox.state.playlists[created["id"]]
    client.playlist_change_details(playlist.id, description="songs")
    assert _refusal(lambda: client.playlist_change_details(playlist.id, description="")) \
        == (400, "Attribute description is empty.")
    assert playlist.description == "songs"


def test_a_300_character_description_is_fine(sandbox: Sandbox) -> None:
    """The limit is inclusive."""
    created = sandbox.link("alice").current_user_playlist_create("Rock", public=False, description="y" * 300)
    assert sandbox.state.playlists[created["id"]].description == "y" * 300


def test_a_name_over_100_characters_is_refused(sandbox: Sandbox) -> None:
    """Playlist names are capped at 100 characters."""
    client = sandbox.link("alice")
    assert _refusal(lambda: client.current_user_playlist_create("n" * 101, public=False))[0] == 400
    assert client.current_user_playlist_create("n" * 100, public=False)["name"] == "n" * 100


def test_a_well_formed_but_unknown_track_uri_is_refused(sandbox: Sandbox) -> None:
    """Only songs in Spotify's catalogue can be added; the whole request is refused."""
    playlist = sandbox.state.add_playlist("alice", "Mine")
    known = sandbox.state.users["alice"].liked[0][0].uri
    unknown = f"spotify:track:{spotify_id('no such song')}"
    client = sandbox.link("alice")
    assert _refusal(lambda: client.playlist_add_items(playlist.id, [known, unknown])) \
        == (400, "Payload contains a non-existing ID")
    assert _refusal(lambda: client.playlist_replace_items(playlist.id, [unknown]))[0] == 400
    assert playlist.items == []


def test_a_malformed_track_id_is_invalid_base62(sandbox: Sandbox) -> None:
    """An id that is not 22 base62 characters gets Spotify's message (raw HTTP: spotipy refuses it first)."""
    playlist = sandbox.state.add_playlist("alice", "Mine")
    client = sandbox.link("alice")
    response = sandbox.api(client, "POST", f"/playlists/{playlist.id}/items", json={"uris": ["spotify:track:not-an-id"]})
    assert error_of(response) == (400, "Invalid base62 id")


def test_local_files_cannot_be_put_into_a_playlist(sandbox: Sandbox) -> None:
    """A replace (or add) with a spotify:local: URI is refused: only Spotify's app adds local files.
    Raw HTTP: spotipy refuses such a URI before sending it."""
    local = local_file("Band", "Tape", "Song", 200)
    playlist = sandbox.state.add_playlist("alice", "Mine", [local])
    client = sandbox.link("alice")
    replace = sandbox.api(client, "PUT", f"/playlists/{playlist.id}/items", json={"uris": [local.uri]})
    assert error_of(replace) == (400, f"Invalid track uri: {local.uri}")
    add = sandbox.api(client, "POST", f"/playlists/{playlist.id}/items", json={"uris": [local.uri]})
    assert error_of(add)[0] == 400
    assert [u for u, _ in playlist.items] == [local.uri]


@pytest.mark.parametrize("method, path, kwargs", [
    ("GET", "/me/tracks", {"params": {"limit": "abc"}}),
    ("GET", "/me/tracks", {"params": {"limit": "0"}}),
    ("GET", "/me/tracks", {"params": {"limit": "51"}}),
    ("GET", "/me/tracks", {"params": {"offset": "-1"}}),
    ("GET", "/me/tracks", {"params": {"offset": "1e3"}}),
    ("GET", "/me/tracks", {"params": {"limit": "99999999999999999999999"}}),
    ("GET", "/me/playlists", {"params": {"offset": "100001"}}),
    ("GET", "/me/playlists", {"params": {"limit": "1.5"}}),
    ("POST", "/playlists/{id}/items", {"params": {"position": "abc"}, "json": []}),
    ("POST", "/playlists/{id}/items", {"json": {"uris": [], "position": "3"}}),
    ("POST", "/playlists/{id}/items", {"json": {"uris": [], "position": -1}}),
    ("POST", "/playlists/{id}/items", {"json": {"uris": [], "position": True}}),
    ("PUT", "/playlists/{id}/items", {"json": {"range_start": "a", "insert_before": 0}}),
    ("PUT", "/playlists/{id}", {"json": {"public": "yes"}}),
    ("POST", "/me/playlists", {"data": "{not json"}),
])
def test_malformed_numbers_and_bodies_get_400_not_500(sandbox: Sandbox, method: str, path: str,
                                                      kwargs: dict[str, object]) -> None:
    """Bad input is a 400 in Spotify's error shape, never a crash."""
    playlist = sandbox.state.add_playlist("alice", "Mine")
    client = sandbox.link("alice")
    response = sandbox.api(client, method, path.replace("{id}", playlist.id), **kwargs)  # type: ignore[arg-type]
    assert error_of(response)[0] == 400


@pytest.mark.parametrize("method, path", REMOVED_OPERATIONS)
def test_endpoints_removed_for_development_mode_apps_answer_403_forbidden(sandbox: Sandbox, method: str,
                                                                         path: str) -> None:
    """As Spotify answers a development-mode app since 2026: 403 Forbidden, not 410."""
    client = sandbox.link("alice")
    concrete = path.replace("{id}", spotify_id("x")).replace("{playlist_id}", spotify_id("p"))
    concrete = concrete.replace("{user_id}", "bob").replace("{category_id}", "pop")
    assert error_of(sandbox.api(client, method, concrete, json={})) == (403, "Forbidden")


def test_audio_features_are_403_unless_the_app_is_an_old_extended_quota_app(sandbox: Sandbox) -> None:
    """New apps get 403 from /audio-features (since Nov 2024); the switch plays an old app."""
    client = sandbox.link("alice")
    song = sandbox.state.users["alice"].liked[0][0].id
    assert error_of(sandbox.api(client, "GET", "/audio-features", params={"ids": song})) == (403, "Forbidden")
    sandbox.state.audio_features_enabled = True
    assert sandbox.api(client, "GET", "/audio-features", params={"ids": song}).json() == {"audio_features": [None]}


def test_an_artist_comes_without_genres_popularity_or_followers(sandbox: Sandbox) -> None:
    """What development-mode apps get from GET /artists/{id} since February 2026."""
    track = sandbox.state.users["alice"].liked[0][0]
    artist = sandbox.link("alice").artist(track.artist_ids[0])
    assert artist["name"] == track.artists[0]
    assert not {"genres", "popularity", "followers"} & set(artist)


def test_tracks_albums_and_shows_come_without_what_development_mode_lost(sandbox: Sandbox) -> None:
    """February 2026 changelog, for development-mode apps: "Track [REMOVED] available_markets ...
    linked_from", "Album [REMOVED] available_markets", "Show [REMOVED] available_markets ...
    publisher"; an extended-quota app keeps them."""
    state = sandbox.state
    songs = [t for t, _ in state.users["alice"].liked[:2]]
    episode = Episode(spotify_id("episode:1"), "Episode 1", "Show", "Publisher", "2026-02-03", 1_200_000)
    playlist = state.add_playlist("alice", "Mixed", [songs[0], episode])
    client = sandbox.link("alice")

    def answers() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        track = client.track(songs[1].id)
        song, show_episode = (e["item"] for e in client.playlist_items(playlist.id)["items"])
        return track, song, show_episode

    for track in answers()[:2]:
        assert "available_markets" not in track and "available_markets" not in track["album"]
    assert not {"available_markets", "publisher"} & set(answers()[2]["show"])
    state.extended_quota = True
    track, song, show_episode = answers()
    assert track["available_markets"] and song["album"]["available_markets"]
    assert show_episode["show"]["publisher"] == "Publisher" and show_episode["show"]["available_markets"]
