"""Writing playlists through spotipy against the sandbox when answers get lost: never a second
playlist, never a chunk twice; genrebot's own playlists adopted by their tag; limits respected;
a playlist whose songs changed a little edited in place, the other songs' dates kept."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.spotify.errors import PlaylistWriteFailed
from bot.spotify.own_playlists import PlaylistSlot
from bot.spotify.playlist_sync import KnownItems, fill, held_items, write_playlist
from music import Track
from sandbox.records import SandboxPlaylist, local_file
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


def test_an_answer_cut_off_after_creating_a_playlist_does_not_make_a_second(spotify_world: SpotifyWorld) -> None:
    """The connection breaks halfway through Spotify's answer to the create: one playlist, found by its tag, filled."""
    client = spotify_world.link("bob")
    spotify_world.state.inject("cut", method="POST", path_prefix="/v1/me/playlists")
    written = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d",
                             uris=bob_uris(spotify_world))
    assert [p.id for p in spotify_world.state.playlists_of("bob")] == [written.id]
    assert items(spotify_world, written.id) == bob_uris(spotify_world)


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


@pytest.mark.parametrize("path_prefix", ["/v1/me/playlists", "/v1/playlists/"])
def test_a_burst_of_429s_on_a_create_or_an_add_makes_one_playlist_each_song_once(
    spotify_world: SpotifyWorld, path_prefix: str
) -> None:
    """Three 429s with Retry-After in a row: Spotify did nothing of them, so each is waited out and sent again."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(429, 3, retry_after=2, method="POST", path_prefix=path_prefix)
    written = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d",
                             uris=bob_uris(spotify_world))
    assert [p.id for p in spotify_world.state.playlists_of("bob")] == [written.id]
    assert items(spotify_world, written.id) == bob_uris(spotify_world)
    assert len(spotify_world.gate_clock.slept) == 3 and min(spotify_world.gate_clock.slept) >= 2


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


# --- editing in place instead of rewriting ----------------------------------------------------


def alice_songs(world: SpotifyWorld, count: int) -> list[Track]:
    return [t for t, _ in world.state.users["alice"].liked[:count]]


def dates(playlist: SandboxPlaylist) -> dict[str, datetime]:
    return dict(playlist.items)


def writes_since(world: SpotifyWorld, since: int) -> list[str]:
    """The requests that changed or read playlist items since `since`, as "METHOD kind"."""
    return [f"{r.method} items" for r in world.state.requests[since:] if r.path.endswith("/items")]


def moved(songs: list[Track]) -> tuple[list[str], list[str]]:
    """A 300-song playlist's songs, and its target after songs 40, 41 and 200 left and two new songs
    came: one at the top and one in the middle (as when pooling moves a few songs between genres)."""
    uris = [t.uri for t in songs[:300]]
    newcomers = [t.uri for t in songs[300:302]]
    target = [newcomers[0], *uris[:40], *uris[42:150], newcomers[1], *uris[150:200], *uris[201:]]
    return uris, target


def test_a_playlist_whose_songs_moved_is_edited_keeping_the_other_songs_dates(spotify_world: SpotifyWorld) -> None:
    """Three songs out, two in: read back (as a rewrite would, to undo a failure), one removal, two inserts, no PUT;
    the 297 songs that stay keep the date they were added."""
    songs = alice_songs(spotify_world, 302)
    playlist = spotify_world.state.add_playlist("alice", "Rock · genrebot", songs[:300])
    uris, target = moved(songs)
    before = dates(playlist)
    client = spotify_world.link("alice")
    since = len(spotify_world.state.requests)
    fill(client, playlist.id, target, name="Rock · genrebot", url="u")
    assert [u for u, _ in playlist.items] == target
    assert all(dates(playlist)[u] == before[u] for u in target if u in before)
    assert writes_since(spotify_world, since) == ["GET items"] * 6 + ["DELETE items", "POST items", "POST items"]


def test_a_playlist_known_unchanged_since_genrebot_wrote_it_is_edited_without_reading_it(
    spotify_world: SpotifyWorld,
) -> None:
    """Its snapshot id is the one genrebot's write left: one look-up, then the edit alone."""
    songs = alice_songs(spotify_world, 302)
    client = spotify_world.link("alice")
    uris, target = moved(songs)
    written = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d", uris=uris)
    known = KnownItems(client.playlist_snapshot_id(written.id), tuple(uris))
    since = len(spotify_world.state.requests)
    fill(client, written.id, target, name="Rock · genrebot", url="u", held=held_items(client, written.id, known))
    assert items(spotify_world, written.id) == target
    assert [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in spotify_world.state.requests[since:]] == [
        f"GET {written.id}", "DELETE items", "POST items", "POST items"]


def test_a_playlist_changed_since_genrebot_wrote_it_is_not_taken_as_known(spotify_world: SpotifyWorld) -> None:
    """The member added a song by hand: the snapshot id moved on, so the recorded songs are not trusted."""
    songs = alice_songs(spotify_world, 11)
    client = spotify_world.link("alice")
    written = write_playlist(client, slot=ROCK, existing_id=None, name="R", description="d",
                             uris=[t.uri for t in songs[:10]])
    known = KnownItems(client.playlist_snapshot_id(written.id), tuple(t.uri for t in songs[:10]))
    spotify_world.link("alice").sp.playlist_add_items(written.id, [songs[10].uri])
    assert held_items(client, written.id, known) is None


def test_a_lost_answer_to_a_removal_during_an_edit_still_ends_exactly_right(spotify_world: SpotifyWorld) -> None:
    """DELETE answered 502 twice after Spotify removed the songs: repeated (it removes nothing more), the edit goes on."""
    songs = alice_songs(spotify_world, 302)
    playlist = spotify_world.state.add_playlist("alice", "Rock · genrebot", songs[:300])
    _, target = moved(songs)
    spotify_world.state.inject(502, 2, method="DELETE", path_prefix=f"/v1/playlists/{playlist.id}/items",
                               after_processing=True)
    fill(spotify_world.link("alice"), playlist.id, target, name="Rock · genrebot", url="u")
    assert [u for u, _ in playlist.items] == target
    assert spotify_world.state.count("DELETE") == 3


def test_a_lost_answer_to_an_insert_during_an_edit_adds_the_song_once(spotify_world: SpotifyWorld) -> None:
    """Each insert answered 502 after it landed: looked for at its position, found, not sent again."""
    songs = alice_songs(spotify_world, 302)
    playlist = spotify_world.state.add_playlist("alice", "Rock · genrebot", songs[:300])
    _, target = moved(songs)
    spotify_world.state.inject(502, 2, method="POST", path_prefix=f"/v1/playlists/{playlist.id}/items",
                               after_processing=True)
    fill(spotify_world.link("alice"), playlist.id, target, name="Rock · genrebot", url="u")
    assert [u for u, _ in playlist.items] == target
    assert spotify_world.state.count("POST", f"/v1/playlists/{playlist.id}/items") == 2


def test_a_playlist_the_member_edited_by_hand_ends_exactly_as_the_target(spotify_world: SpotifyWorld) -> None:
    """Their own songs added, one dragged to the top, one listed twice: read back and edited to the target exactly."""
    songs = alice_songs(spotify_world, 210)
    target = [t.uri for t in songs[:200]]
    by_hand = [songs[150], *songs[:150], *songs[151:200]]
    by_hand.insert(20, songs[5])
    by_hand[60:60] = songs[200:210]
    playlist = spotify_world.state.add_playlist("alice", "Rock · genrebot", by_hand)
    before = dates(playlist)
    fill(spotify_world.link("alice"), playlist.id, target, name="Rock · genrebot", url="u")
    assert [u for u, _ in playlist.items] == target
    assert dates(playlist)[songs[0].uri] == before[songs[0].uri]


def test_a_playlist_holding_a_local_file_is_rewritten_without_it(spotify_world: SpotifyWorld) -> None:
    """Spotify cannot remove a local file by URI, so no edit is tried: the playlist is rewritten to the target."""
    songs = alice_songs(spotify_world, 150)
    playlist = spotify_world.state.add_playlist("alice", "Rock · genrebot",
                                                [*songs[:70], local_file("Me", "Home", "Demo tape", 95), *songs[70:150]])
    target = [t.uri for t in songs[1:150]]
    since = len(spotify_world.state.requests)
    fill(spotify_world.link("alice"), playlist.id, target, name="Rock · genrebot", url="u")
    assert [u for u, _ in playlist.items] == target
    assert writes_since(spotify_world, since) == ["GET items"] * 4 + ["PUT items", "POST items"]


def test_an_edit_failing_midway_is_reported_and_finished_by_the_next_write(spotify_world: SpotifyWorld) -> None:
    """Every insert refused with 500: PlaylistWriteFailed, not restored, no song twice; written again, the playlist
    ends exactly as the target from what Spotify holds."""
    songs = alice_songs(spotify_world, 302)
    playlist = spotify_world.state.add_playlist("alice", "Rock · genrebot", songs[:300])
    _, target = moved(songs)
    client = spotify_world.link("alice")
    spotify_world.state.inject(500, 5, method="POST", path_prefix=f"/v1/playlists/{playlist.id}/items")
    with pytest.raises(PlaylistWriteFailed) as caught:
        fill(client, playlist.id, target, name="Rock · genrebot", url="u")
    assert not caught.value.restored and "may be incomplete" in str(caught.value)
    held = [u for u, _ in playlist.items]
    assert len(held) == len(set(held)) == 297 and set(held) < set(target)
    fill(client, playlist.id, target, name="Rock · genrebot", url="u")
    assert [u for u, _ in playlist.items] == target


def test_a_rewrite_past_1000_songs_failing_midway_says_the_playlist_may_be_incomplete(
    spotify_world: SpotifyWorld,
) -> None:
    """Too big to read back first: the PUT lands, the POSTs fail; PlaylistWriteFailed says so (not "nothing changed")."""
    songs = alice_songs(spotify_world, 1_200)
    playlist = spotify_world.state.add_playlist("alice", "Rock · genrebot", songs[:1_100])
    spotify_world.state.inject(500, 5, method="POST", path_prefix=f"/v1/playlists/{playlist.id}/items")
    with pytest.raises(PlaylistWriteFailed) as caught:
        fill(spotify_world.link("alice"), playlist.id, [t.uri for t in songs[100:1_200]], name="Rock · genrebot",
             url="u")
    assert not caught.value.restored and caught.value.playlist_id == playlist.id
