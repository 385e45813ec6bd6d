"""Playlists as issue #16 needs them: the member's list, items of their own and shared playlists,
and Spotify's refusals for everyone else's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import spotipy

from music import Track
from sandbox.demo import DEMO_USER, GARAGE_DEMO, ROAD_TRIP_ID, seed_demo_member
from sandbox.library import demo_library
from sandbox.records import Episode, local_file, spotify_id
from sandbox.state import SandboxState
from tests.sandbox.conftest import Sandbox, error_of


def _refusal(call: Callable[[], object]) -> tuple[int | None, str]:
    with pytest.raises(spotipy.SpotifyException) as caught:
        call()
    return caught.value.http_status, caught.value.msg.rsplit("\n", 1)[-1].strip()


def _songs(sandbox: Sandbox, user: str, count: int) -> list[Track]:
    return [t for t, _ in sandbox.state.users[user].liked[:count]]


def test_my_playlists_lists_owned_followed_and_collaborative_ones_in_pages(sandbox: Sandbox) -> None:
    """Spotify's paging object over everything in the member's library of playlists."""
    state = sandbox.state
    own = state.add_playlist("alice", "Road trip 2019")
    followed = state.add_playlist("bob", "Bob's party", public=True)
    state.follow("alice", followed.id)
    shared = state.add_playlist("bob", "Shared list", collaborative=True)
    state.collaborate("alice", shared.id)
    state.add_playlist("bob", "Bob only")
    client = sandbox.link("alice")
    page = client.current_user_playlists(limit=2)
    assert page["total"] == 3 and page["next"].startswith(sandbox.base_url)
    everything = page["items"] + client.next(page)["items"]
    assert [p["id"] for p in everything] == [own.id, followed.id, shared.id]
    assert [p["owner"]["id"] for p in everything] == ["alice", "bob", "bob"]
    assert [p["collaborative"] for p in everything] == [False, False, True]


def test_my_playlists_pages_hold_at_most_50(sandbox: Sandbox) -> None:
    """limit=51 is refused like every paged endpoint's."""
    client = sandbox.link("alice")
    assert error_of(sandbox.api(client, "GET", "/me/playlists", params={"limit": 51}))[0] == 400


def test_items_of_an_own_playlist_carry_item_with_track_kept(sandbox: Sandbox) -> None:
    """Entries name the song under `item`, and under the deprecated `track` for old clients."""
    songs = _songs(sandbox, "alice", 3)
    playlist = sandbox.state.add_playlist("alice", "Mine", songs)
    page = sandbox.link("alice").playlist_items(playlist.id, limit=50)
    assert [e["item"]["id"] for e in page["items"]] == [t.id for t in songs]
    assert all(e["item"] == e["track"] and e["is_local"] is False for e in page["items"])
    assert page["items"][0]["added_by"]["id"] == "alice"


def test_once_the_deprecated_fields_are_gone_entries_carry_item_alone(sandbox: Sandbox) -> None:
    """`deprecated_track_fields = False`: no `track` in entries, no `tracks` in the playlist object."""
    sandbox.state.deprecated_track_fields = False
    playlist = sandbox.state.add_playlist("alice", "Mine", _songs(sandbox, "alice", 2))
    client = sandbox.link("alice")
    entries = client.playlist_items(playlist.id, limit=50)["items"]
    assert all("track" not in e and e["item"]["type"] == "track" for e in entries)
    whole = sandbox.api(client, "GET", f"/playlists/{playlist.id}").json()
    assert "tracks" not in whole and len(whole["items"]["items"]) == 2


def test_local_files_episodes_and_unavailable_songs_appear_as_spotify_shows_them(sandbox: Sandbox) -> None:
    """A local file (is_local, null ids), an episode (type episode) and a dead song (null)."""
    song, dead = _songs(sandbox, "alice", 2)
    local = local_file("Me", "Home", "Hum", 64)
    episode = Episode(spotify_id("episode:1"), "Episode 1", "A Show", "A Publisher", "2026-01-02", 1_800_000)
    playlist = sandbox.state.add_playlist("alice", "Mixed", [song, local, episode, dead])
    sandbox.state.make_unavailable([dead.id])
    entries = sandbox.link("alice").playlist_items(playlist.id, limit=50)["items"]
    assert entries[0]["item"]["type"] == "track" and entries[0]["is_local"] is False
    assert entries[1]["is_local"] is True and entries[1]["item"]["uri"] == local.uri and entries[1]["item"]["id"] is None
    assert entries[2]["item"]["type"] == "episode" and entries[2]["item"]["show"]["name"] == "A Show"
    assert entries[3]["item"] is None and entries[3]["track"] is None


def test_without_additional_types_an_episode_comes_dressed_as_a_track(sandbox: Sandbox) -> None:
    """Clients that do not ask for episodes (additional_types) get one as a track-shaped object:
    type "track", flags episode/track, its show as album and artist, and its spotify:episode: URI."""
    song = _songs(sandbox, "alice", 1)[0]
    episode = Episode(spotify_id("episode:2"), "Episode 2", "A Show", "A Publisher", "2026-01-02", 1_800_000)
    playlist = sandbox.state.add_playlist("alice", "Mixed", [song, episode])
    client = sandbox.link("alice")
    dressed = client.playlist_items(playlist.id, limit=50, additional_types=("track",))["items"]
    assert dressed[0]["item"]["type"] == "track" and dressed[0]["item"]["episode"] is False
    assert dressed[1]["item"]["type"] == "track" and dressed[1]["item"]["uri"] == episode.uri
    assert dressed[1]["item"]["episode"] is True and dressed[1]["item"]["track"] is False
    assert dressed[1]["item"]["album"]["name"] == "A Show" and dressed[1]["item"]["id"] == episode.id
    whole = sandbox.api(client, "GET", f"/playlists/{playlist.id}").json()
    assert whole["items"]["items"][1]["item"]["type"] == "track"
    asked = client.playlist_items(playlist.id, limit=50, additional_types=("track", "episode"))["items"]
    assert asked[1]["item"]["type"] == "episode"


def test_a_collaborator_reads_and_adds_to_a_collaborative_playlist(sandbox: Sandbox) -> None:
    """Collaborators may read the items and change them, like the owner."""
    playlist = sandbox.state.add_playlist("bob", "Party", _songs(sandbox, "bob", 2), collaborative=True)
    sandbox.state.collaborate("alice", playlist.id)
    client = sandbox.link("alice")
    assert client.playlist_items(playlist.id, limit=50)["total"] == 2
    client.playlist_add_items(playlist.id, [_songs(sandbox, "alice", 1)[0].uri])
    assert len(playlist.items) == 3


def test_items_of_a_followed_playlist_of_another_user_are_forbidden(sandbox: Sandbox) -> None:
    """Since February 2026 a development-mode app reads items only of playlists the user owns or
    collaborates on: following a public playlist is not enough (403)."""
    playlist = sandbox.state.add_playlist("bob", "Bob's party", _songs(sandbox, "bob", 2), public=True)
    sandbox.state.follow("alice", playlist.id)
    assert _refusal(lambda: sandbox.link("alice").playlist_items(playlist.id, limit=50)) == (403, "Forbidden")


def test_another_users_private_playlist_items_are_forbidden(sandbox: Sandbox) -> None:
    """Another user's private playlist: 403 for the items, metadata without items for the playlist."""
    playlist = sandbox.state.add_playlist("bob", "Secret", _songs(sandbox, "bob", 2))
    client = sandbox.link("alice")
    assert _refusal(lambda: client.playlist_items(playlist.id, limit=50)) == (403, "Forbidden")
    metadata = client.playlist(playlist.id)
    assert metadata["name"] == "Secret" and "items" not in metadata and "tracks" not in metadata
    own = client.playlist(sandbox.state.add_playlist("alice", "Mine").id)
    assert own["items"]["total"] == 0


def test_an_unknown_playlist_is_404_and_a_malformed_id_400(sandbox: Sandbox) -> None:
    """As Spotify answers: 404 Resource not found, 400 Invalid base62 id."""
    client = sandbox.link("alice")
    assert _refusal(lambda: client.playlist_items(spotify_id("nobody's"), limit=50)) == (404, "Resource not found")
    assert error_of(sandbox.api(client, "GET", "/playlists/nope/items")) == (400, "Invalid base62 id")


def test_only_the_owner_changes_a_playlists_details(sandbox: Sandbox) -> None:
    """A collaborator may change items but not the name."""
    playlist = sandbox.state.add_playlist("bob", "Party", collaborative=True)
    sandbox.state.collaborate("alice", playlist.id)
    status, _ = _refusal(lambda: sandbox.link("alice").playlist_change_details(playlist.id, name="Mine now"))
    assert status == 403 and playlist.name == "Party"


def test_a_non_editor_cannot_add_items(sandbox: Sandbox) -> None:
    """Following someone's playlist gives no right to change it."""
    playlist = sandbox.state.add_playlist("bob", "Bob's", public=True)
    sandbox.state.follow("alice", playlist.id)
    status, message = _refusal(lambda: sandbox.link("alice").playlist_add_items(playlist.id,
                                                                                 [_songs(sandbox, "alice", 1)[0].uri]))
    assert status == 403 and "don't own" in message and playlist.items == []


def test_reordering_moves_a_range_of_items(sandbox: Sandbox) -> None:
    """PUT items with range_start/insert_before reorders instead of replacing."""
    songs = _songs(sandbox, "alice", 4)
    playlist = sandbox.state.add_playlist("alice", "Mine", songs)
    sandbox.link("alice").playlist_reorder_items(playlist.id, range_start=0, insert_before=4, range_length=2)
    assert [u for u, _ in playlist.items] == [songs[2].uri, songs[3].uri, songs[0].uri, songs[1].uri]


def test_the_demo_member_has_a_road_trip_playlist_of_their_own(tmp_path: Path) -> None:
    """37 real songs (25 also liked) and a local file, made once and found again after a restart."""
    state = SandboxState()
    road_trip = seed_demo_member(state)
    uris = [u for u, _ in road_trip.items]
    liked = {t.uri for t in demo_library()}
    assert road_trip.owner_id == DEMO_USER and road_trip.id == ROAD_TRIP_ID and not road_trip.public
    assert len(uris) == 38 and GARAGE_DEMO.uri in uris
    assert sum(u in liked for u in uris) == 25 and len(set(uris)) == 38
    state.save_playlists(tmp_path / "state.json")
    again = SandboxState()
    again.load_playlists(tmp_path / "state.json")
    assert seed_demo_member(again).id == ROAD_TRIP_ID and len(again.playlists_of(DEMO_USER)) == 1
    assert all(u.split(":")[2] in again.tracks for u in uris if u.startswith("spotify:track:"))


def test_descriptions_come_back_html_escaped_as_spotify_answers_them(sandbox: Sandbox) -> None:
    """A description is stored as sent but answered HTML-escaped, in lists and look-ups alike."""
    client = sandbox.link("alice")
    created = client.current_user_playlist_create("R&B", public=False, description="R&B / Soul, it's <here>")
    assert sandbox.state.playlists[created["id"]].description == "R&B / Soul, it's <here>"
    escaped = "R&amp;B &#x2F; Soul, it&#x27;s &lt;here&gt;"
    assert created["description"] == client.playlist(created["id"])["description"] == escaped
    assert client.current_user_playlists()["items"][0]["description"] == escaped


def test_removing_items_takes_every_occurrence_and_keeps_the_other_songs_dates(sandbox: Sandbox) -> None:
    """DELETE items by URI: each occurrence goes; the songs left keep their place and date added."""
    a, b, c = _songs(sandbox, "alice", 3)
    playlist = sandbox.state.add_playlist("alice", "Mine", [a, b, c, b])
    before = dict(playlist.items)
    answer = sandbox.link("alice").playlist_remove_all_occurrences_of_items(playlist.id, [b.uri])
    assert playlist.items == [(a.uri, before[a.uri]), (c.uri, before[c.uri])]
    assert answer["snapshot_id"] == f"snap{playlist.snapshot}"


def test_removing_needs_the_modify_scope_of_the_playlists_visibility(sandbox: Sandbox) -> None:
    """A token with playlist-modify-public only cannot remove songs from a private playlist."""
    song = _songs(sandbox, "alice", 1)[0]
    playlist = sandbox.state.add_playlist("alice", "Closed", [song], public=False)
    client = sandbox.link("alice", "playlist-read-private playlist-modify-public")
    status, message = _refusal(lambda: client.playlist_remove_all_occurrences_of_items(playlist.id, [song.uri]))
    assert (status, message) == (403, "Insufficient client scope") and len(playlist.items) == 1


def test_a_non_editor_cannot_remove_items(sandbox: Sandbox) -> None:
    """Following someone's playlist gives no right to take songs out of it."""
    song = _songs(sandbox, "bob", 1)[0]
    playlist = sandbox.state.add_playlist("bob", "Bob's", [song], public=True)
    sandbox.state.follow("alice", playlist.id)
    status, _ = _refusal(lambda: sandbox.link("alice").playlist_remove_all_occurrences_of_items(playlist.id, [song.uri]))
    assert status == 403 and len(playlist.items) == 1


def test_removing_more_than_100_uris_at_once_is_refused(sandbox: Sandbox) -> None:
    """101 URIs in one DELETE: 400 and nothing removed, as Spotify allows at most 100."""
    songs = _songs(sandbox, "alice", 101)
    playlist = sandbox.state.add_playlist("alice", "Big", songs)
    client = sandbox.link("alice")
    status, _ = _refusal(lambda: client.playlist_remove_all_occurrences_of_items(playlist.id, [t.uri for t in songs]))
    assert status == 400 and len(playlist.items) == 101


def test_a_local_file_cannot_be_removed_by_its_uri(sandbox: Sandbox) -> None:
    """Spotify answers 400 to a spotify:local: URI in a removal (spotify/web-api#612); the playlist keeps it."""
    song = _songs(sandbox, "alice", 1)[0]
    demo_tape = local_file("Me", "Home", "Demo tape", 95)
    playlist = sandbox.state.add_playlist("alice", "Mixed", [song, demo_tape])
    client = sandbox.link("alice")
    response = sandbox.api(client, "DELETE", f"/playlists/{playlist.id}/items", json={"items": [{"uri": demo_tape.uri}]})
    assert error_of(response) == (400, f"Invalid track uri: {demo_tape.uri}")
    assert [u for u, _ in playlist.items] == [song.uri, demo_tape.uri]


def test_a_removal_names_its_songs_under_items(sandbox: Sandbox) -> None:
    """The 2026 endpoint's body is {"items": [...]}: the old endpoint's "tracks" key, or none, is 400."""
    song = _songs(sandbox, "alice", 1)[0]
    playlist = sandbox.state.add_playlist("alice", "Mine", [song])
    client = sandbox.link("alice")
    bodies: tuple[object, ...] = ({"tracks": [{"uri": song.uri}]}, {"items": []}, [song.uri])
    for body in bodies:
        assert error_of(sandbox.api(client, "DELETE", f"/playlists/{playlist.id}/items", json=body))[0] == 400
    assert len(playlist.items) == 1


def test_changing_a_playlists_details_gives_it_a_new_snapshot(sandbox: Sandbox) -> None:
    """A snapshot is a version of the whole playlist: a new description changes it as an added song does."""
    playlist = sandbox.state.add_playlist("alice", "Mine")
    client = sandbox.link("alice")
    first = client.playlist(playlist.id, fields="snapshot_id")["snapshot_id"]
    client.playlist_change_details(playlist.id, description="sorted today")
    assert client.playlist(playlist.id, fields="snapshot_id")["snapshot_id"] != first


def test_adding_at_a_position_past_the_end_is_refused_not_appended(sandbox: Sandbox) -> None:
    """Spotify answers 403 "Index out of bounds" to a position beyond the playlist's length; the end itself is fine."""
    songs = _songs(sandbox, "alice", 4)
    playlist = sandbox.state.add_playlist("alice", "Mine", songs[:2])
    client = sandbox.link("alice")
    assert _refusal(lambda: client.playlist_add_items(playlist.id, [songs[2].uri], position=3)) == (
        403, "Index out of bounds")
    client.playlist_add_items(playlist.id, [songs[2].uri], position=2)
    client.playlist_add_items(playlist.id, [songs[3].uri], position=0)
    assert [uri for uri, _ in playlist.items] == [songs[3].uri, songs[0].uri, songs[1].uri, songs[2].uri]


def test_adding_no_songs_is_refused_and_leaves_the_snapshot(sandbox: Sandbox) -> None:
    """An add without URIs (spotipy sends no body for an empty list; the documented object with an
    empty list) is 400, as Spotify answers it, and the playlist keeps its version (the object form
    used to be taken: 201 and a new snapshot); a replace with none still clears, as documented."""
    playlist = sandbox.state.add_playlist("alice", "Mine", _songs(sandbox, "alice", 2))
    client = sandbox.link("alice")
    before = client.playlist(playlist.id, fields="snapshot_id")["snapshot_id"]
    assert _refusal(lambda: client.playlist_add_items(playlist.id, [])) == (400, "No uris provided")
    status, _ = error_of(sandbox.api(client, "POST", f"/playlists/{playlist.id}/items", json={"uris": []}))
    assert status == 400
    assert client.playlist(playlist.id, fields="snapshot_id")["snapshot_id"] == before
    client.playlist_replace_items(playlist.id, [])
    assert playlist.items == []


def test_fields_returns_only_the_fields_named(sandbox: Sandbox) -> None:
    """`fields` keeps what it names, as the description documents: dots and parentheses go inside
    objects and apply to each entry of a list, `!` leaves a field out, a null entry stays null.
    The sandbox used to answer everything whatever was asked."""
    song, dead = _songs(sandbox, "alice", 2)
    playlist = sandbox.state.add_playlist("alice", "Mine", [song, dead])
    sandbox.state.make_unavailable([dead.id])
    client = sandbox.link("alice")
    assert client.playlist(playlist.id, fields="snapshot_id") == {"snapshot_id": f"snap{playlist.snapshot}"}
    details = client.playlist(playlist.id, fields="id,name,owner(id,display_name)")
    assert details == {"id": playlist.id, "name": "Mine", "owner": {"id": "alice", "display_name": "Alice"}}
    assert client.playlist(playlist.id, fields="owner.id") == {"owner": {"id": "alice"}}
    page = client.playlist_items(playlist.id, fields="total,items(added_by.id,item(uri))")
    assert page == {"total": 2, "items": [{"added_by": {"id": "alice"}, "item": {"uri": song.uri}},
                                          {"added_by": {"id": "alice"}, "item": None}]}
    assert client.playlist(playlist.id, fields="items.items(item.uri)") == {
        "items": {"items": [{"item": {"uri": song.uri}}, {"item": None}]}}
    everything_but = client.playlist(playlist.id, fields="!items,!tracks")
    assert "items" not in everything_but and "tracks" not in everything_but and everything_but["name"] == "Mine"
    status, _ = error_of(sandbox.api(client, "GET", f"/playlists/{playlist.id}", params={"fields": "items(item"}))
    assert status == 400


def test_a_member_editing_a_playlist_between_two_writes_is_in_it_with_a_new_snapshot(sandbox: Sandbox) -> None:
    """`after_request` runs the member's edit once a write has taken effect: the next write lands on what
    they left, and the snapshot id after both counts both changes."""
    songs = _songs(sandbox, "alice", 4)
    playlist = sandbox.state.add_playlist("alice", "Mine", songs[:2])
    sandbox.state.after_request("POST", f"/v1/playlists/{playlist.id}/items", lambda: sandbox.state.edit_by_hand(
        playlist.id, lambda p: p.items.insert(0, (songs[3].uri, p.items[0][1]))))
    client = sandbox.link("alice")
    first = client.playlist_add_items(playlist.id, [songs[2].uri], position=2)["snapshot_id"]
    last = client.playlist_add_items(playlist.id, [songs[2].uri], position=4)["snapshot_id"]
    assert [u for u, _ in playlist.items] == [songs[3].uri, songs[0].uri, songs[1].uri, songs[2].uri, songs[2].uri]
    assert (first, last) == ("snap2", "snap4") and not sandbox.state.request_hooks
