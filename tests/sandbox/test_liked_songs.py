"""Liked Songs as a real library behaves while a client pages through it."""

from __future__ import annotations

from typing import Any

import requests
import spotipy

from sandbox.library import synthetic_library
from sandbox.records import local_file
from tests.sandbox.conftest import Sandbox


def _page(client: spotipy.Spotify, offset: int) -> dict[str, Any]:
    page: dict[str, Any] = client.current_user_saved_tracks(limit=50, offset=offset)
    return page


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["track"]["id"] for item in page["items"]]


def test_songs_liked_between_two_pages_shift_the_later_pages(sandbox: Sandbox) -> None:
    """Paging by offset after 5 likes mid-read repeats 5 songs and misses the 5 oldest."""
    client = sandbox.link("alice")  # 120 liked songs
    before = [t.id for t, _ in sandbox.state.users["alice"].liked]
    sandbox.state.like_during_read("alice", synthetic_library(5, seed=50, prefix="mid"), after_page=1)
    first = _page(client, 0)
    rest = [_page(client, offset) for offset in (50, 100)]
    read = _ids(first) + [i for page in rest for i in _ids(page)]
    assert first["total"] == 120 and rest[-1]["total"] == 125
    assert _ids(rest[0])[:5] == before[45:50]  # seen again on page two
    assert set(before) - set(read[:120]) == set(before[115:])  # the oldest five, missed by a 120-song read


def test_a_read_hook_fires_once_after_its_page(sandbox: Sandbox) -> None:
    """The library stays put after the hook has run."""
    client = sandbox.link("alice")
    fired: list[int] = []
    sandbox.state.during_liked_read("alice", lambda: fired.append(1), after_page=2)
    for offset in (0, 50, 100, 0):
        _page(client, offset)
    assert fired == [1]


def test_songs_spotify_no_longer_serves_are_null_in_pages(sandbox: Sandbox) -> None:
    """An unavailable liked song is an entry whose track is null, counted in the total."""
    gone = sandbox.state.users["alice"].liked[1][0].id
    sandbox.state.make_unavailable([gone])
    page = _page(sandbox.link("alice"), 0)
    assert page["items"][1]["track"] is None and page["items"][1]["added_at"]
    assert page["total"] == 120


def test_a_local_file_among_liked_songs_is_marked_local_with_null_ids(sandbox: Sandbox) -> None:
    """As Spotify lists local files: `is_local`, a spotify:local: URI, no ids."""
    local = local_file("The Garage", "Demos", "Take 3", 201)
    sandbox.state.like_local_file("alice", local)
    track = _page(sandbox.link("alice"), 0)["items"][0]["track"]
    assert track["is_local"] is True and track["uri"] == local.uri == "spotify:local:The+Garage:Demos:Take+3:201"
    assert track["id"] is None and track["album"]["id"] is None and track["name"] == "Take 3"


def test_benchmark_likes_are_the_same_songs_whatever_requests_came_before(sandbox: Sandbox) -> None:
    """/_sandbox/like seeds its songs by its own calls (or `seed`), not the request count: benchmarks compare."""
    first = requests.post(f"{sandbox.base_url}/_sandbox/like", params={"user": "alice", "count": "3"}, timeout=10)
    assert first.json() == {"liked": 3}
    sandbox.link("bob").me()  # more requests in between
    requests.post(f"{sandbox.base_url}/_sandbox/like", params={"user": "bob", "count": "3", "seed": "1"}, timeout=10)
    newest = [[t.id for t, _ in sandbox.state.users[user].liked[:3]] for user in ("alice", "bob")]
    assert newest[0] == newest[1]
    assert requests.post(f"{sandbox.base_url}/_sandbox/like", params={"user": "alice", "seed": "0"},
                         timeout=10).status_code == 400


def test_with_a_market_a_relinked_song_comes_as_the_playable_one(sandbox: Sandbox) -> None:
    """Track relinking applies only when the client names a market: then the answer is the instance
    playable there, with `is_playable` on every track, and for a development-mode app nothing says
    which song was asked for (February 2026 changelog: "Track ... [REMOVED] linked_from")."""
    liked, other = (t for t, _ in sandbox.state.users["alice"].liked[:2])
    instead = synthetic_library(1, seed=77, prefix="relinked")[0]
    sandbox.state.relink(liked.id, instead)
    sandbox.state.make_unplayable([other.id])
    client = sandbox.link("alice")
    plain = client.current_user_saved_tracks(limit=2)["items"]
    assert [e["track"]["id"] for e in plain] == [liked.id, other.id]
    assert all("is_playable" not in e["track"] and "linked_from" not in e["track"] for e in plain)
    marketed = client.current_user_saved_tracks(limit=2, market="from_token")["items"]
    assert marketed[0]["track"]["id"] == instead.id and marketed[0]["track"]["is_playable"] is True
    assert "linked_from" not in marketed[0]["track"]
    assert marketed[1]["track"]["is_playable"] is False and marketed[1]["track"]["restrictions"] == {"reason": "market"}


def test_an_extended_quota_app_is_told_which_song_a_relinked_one_stands_for(sandbox: Sandbox) -> None:
    """Extended quota mode keeps `linked_from` ("all existing endpoints, fields, and behaviors
    remain unchanged", February 2026 migration guide): it names the liked song."""
    liked = sandbox.state.users["alice"].liked[0][0]
    sandbox.state.relink(liked.id, synthetic_library(1, seed=77, prefix="relinked")[0])
    sandbox.state.extended_quota = True
    marketed = sandbox.link("alice").current_user_saved_tracks(limit=1, market="from_token")["items"]
    assert marketed[0]["track"]["linked_from"]["id"] == liked.id
    assert marketed[0]["track"]["linked_from"]["uri"] == liked.uri


def test_liking_a_song_already_liked_keeps_it_listed_once(sandbox: Sandbox) -> None:
    """Liked Songs hold a song once: saving it again changes nothing, as Spotify's library does."""
    already = sandbox.state.users["alice"].liked[3][0]
    sandbox.state.like("alice", [already])
    ids = [item["track"]["id"] for offset in (0, 50, 100) for item in _page(sandbox.link("alice"), offset)["items"]]
    assert len(ids) == len(set(ids)) == 120
    assert ids[3] == already.id


def test_songs_counted_but_not_listed_leave_pages_short(sandbox: Sandbox) -> None:
    """Spotify may count a liked song it does not list (spotify/web-api#212): a page comes shorter
    than `limit` with `next` still set, and the last page may be empty; offsets and total keep counting it."""
    liked = [t.id for t, _ in sandbox.state.users["alice"].liked]
    sandbox.state.make_unlisted([liked[10], *liked[100:]])
    client = sandbox.link("alice")
    first, second, last = (_page(client, offset) for offset in (0, 50, 100))
    assert len(first["items"]) == 49 and first["next"] and first["total"] == 120
    assert _ids(second) == liked[50:100] and second["next"]
    assert last["items"] == [] and last["total"] == 120
