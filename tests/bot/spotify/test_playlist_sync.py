"""Writing playlists through spotipy against the sandbox when answers get lost: never a second
playlist, never a chunk twice; genrebot's own playlists adopted by their tag; limits respected."""

from __future__ import annotations

import pytest

from bot.spotify.errors import PlaylistWriteFailed
from bot.spotify.own_playlists import PlaylistSlot
from bot.spotify.playlist_sync import write_playlist
from sandbox.records import local_file
from tests.bot.spotify.conftest import SpotifyWorld

ROCK = PlaylistSlot("rock")


def bob_uris(world: SpotifyWorld) -> list[str]:
    return [t.uri for t, _ in world.state.users["bob"].liked]


def items(world: SpotifyWorld, playlist_id: str) -> list[str]:
    return [uri for uri, _ in world.state.playlists[playlist_id].items]


def test_a_lost_answer_to_creating_a_playlist_does_not_make_a_second(spotify_world: SpotifyWorld) -> None:
    """POST /me/playlists answered 502 twice after Spotify made it: one playlist, found by its tag, filled."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(502, 2, method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    written = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d",
                             uris=bob_uris(spotify_world))
    assert [p.id for p in spotify_world.state.playlists_of("bob")] == [written.id]
    assert items(spotify_world, written.id) == bob_uris(spotify_world)


def test_a_dropped_connection_after_creating_a_playlist_does_not_make_a_second(spotify_world: SpotifyWorld) -> None:
    """The connection closes after Spotify made the playlist: still one playlist."""
    client = spotify_world.link("bob")
    spotify_world.state.inject("drop", method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d", uris=[])
    assert len(spotify_world.state.playlists_of("bob")) == 1


def test_a_lost_answer_to_adding_songs_does_not_add_them_twice(spotify_world: SpotifyWorld) -> None:
    """POST .../items answered 502 after the songs went in: the chunk is there once."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(502, 2, method="POST", path_prefix="/v1/playlists/", after_processing=True)
    written = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d",
                             uris=bob_uris(spotify_world))
    assert items(spotify_world, written.id) == bob_uris(spotify_world)


def test_a_dropped_connection_after_adding_songs_does_not_add_them_twice(spotify_world: SpotifyWorld) -> None:
    """The connection closes after the songs went in: the chunk is there once."""
    client = spotify_world.link("bob")
    spotify_world.state.inject("drop", method="POST", path_prefix="/v1/playlists/", after_processing=True)
    written = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d",
                             uris=bob_uris(spotify_world))
    assert items(spotify_world, written.id) == bob_uris(spotify_world)


def test_an_add_that_failed_before_it_happened_is_sent_again(spotify_world: SpotifyWorld) -> None:
    """A 502 before the songs went in: after looking, the chunk is added."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(502, 1, method="POST", path_prefix="/v1/playlists/")
    written = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d",
                             uris=bob_uris(spotify_world))
    assert items(spotify_world, written.id) == bob_uris(spotify_world)


def test_the_members_tagged_playlist_is_adopted_when_the_caller_does_not_know_it(spotify_world: SpotifyWorld) -> None:
    """With no remembered id, the playlist genrebot tagged for this genre is reused, not made again."""
    client = spotify_world.link("bob")
    first = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d",
                           uris=bob_uris(spotify_world)[:10])
    again = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d",
                           uris=bob_uris(spotify_world)[:20])
    assert again.id == first.id and not again.created
    assert items(spotify_world, first.id) == bob_uris(spotify_world)[:20]
    assert len(spotify_world.state.playlists_of("bob")) == 1


def test_a_tagged_playlist_of_another_user_is_never_adopted(spotify_world: SpotifyWorld) -> None:
    """Alice's genrebot playlist that Bob follows is hers: Bob gets his own."""
    alice = spotify_world.link("alice")
    hers = write_playlist(alice, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d", uris=[])
    spotify_world.state.follow("bob", hers.id)
    mine = write_playlist(spotify_world.link("bob"), slot=ROCK, existing_id=None, name="Rock · genrebot",
                          description="d", uris=[])
    assert mine.created and mine.id != hers.id


def test_a_playlist_with_the_same_name_but_no_tag_is_left_alone(spotify_world: SpotifyWorld) -> None:
    """The member's own "Rock · genrebot" without genrebot's tag is not genrebot's to rewrite."""
    theirs = spotify_world.state.add_playlist("bob", "Rock · genrebot", spotify_world.state.users["bob"].liked[0][:1])
    written = write_playlist(spotify_world.link("bob"), slot=ROCK, existing_id=None, name="Rock · genrebot",
                             description="d", uris=[])
    assert written.created and written.id != theirs.id and len(theirs.items) == 1


def test_a_key_with_characters_spotify_escapes_is_still_recognised(spotify_world: SpotifyWorld) -> None:
    """"r&b/neo soul" survives Spotify's HTML-escaped descriptions: the playlist is adopted."""
    client = spotify_world.link("bob")
    slot = PlaylistSlot("r&b/neo soul's")
    first = write_playlist(client, slot=slot, existing_id=None, name="Neo Soul's · genrebot", description="R&B's",
                           uris=[])
    again = write_playlist(client, slot=slot, existing_id=None, name="Neo Soul's · genrebot", description="R&B's",
                           uris=[])
    assert again.id == first.id


def test_a_description_too_long_for_spotify_is_shortened_onto_one_line(spotify_world: SpotifyWorld) -> None:
    """400 characters with line breaks become one line of at most 300, ending in the tag."""
    client = spotify_world.link("bob")
    written = write_playlist(client, slot=ROCK, existing_id=None, name="Rock\n· genrebot",
                             description="Rock songs\n" + "x" * 400, uris=[])
    playlist = spotify_world.state.playlists[written.id]
    assert len(playlist.description) <= 300 and "\n" not in playlist.description
    assert playlist.description.endswith(ROCK.tag) and playlist.name == "Rock · genrebot"
    assert spotify_world.state.count("POST", "/v1/me/playlists") == 1


def test_a_rewrite_that_fails_midway_puts_the_old_songs_back_without_local_files(
    spotify_world: SpotifyWorld,
) -> None:
    """A playlist that held a local file: Spotify refuses spotify:local: in a write, so the songs come back without it."""
    client = spotify_world.link("bob")
    uris = bob_uris(spotify_world)
    first = write_playlist(client, slot=ROCK, existing_id=None, name="R · genrebot", description="d", uris=uris[:60])
    demo_tape = local_file("Me", "Home", "Demo tape", 95)  # the member added it in Spotify's app
    with spotify_world.state.lock:
        spotify_world.state.local_files[demo_tape.uri] = demo_tape
        playlist = spotify_world.state.playlists[first.id]
        playlist.items.insert(5, (demo_tape.uri, playlist.items[0][1]))
    spotify_world.state.inject(500, 50, method="POST", path_prefix=f"/v1/playlists/{first.id}/items")
    with pytest.raises(PlaylistWriteFailed) as caught:
        write_playlist(client, slot=ROCK, existing_id=first.id, name="R · genrebot", description="d",
                       uris=uris[::-1][:115])
    assert caught.value.restored
    assert items(spotify_world, first.id) == uris[:60]
