"""The sandbox's answers validate against Spotify's 2026 OpenAPI description (../shared/specs).

Two things the description says only in prose, and the sandbox does as Spotify does: an entry's
track "may be `null`" when Spotify no longer serves it (SimplifiedPlaylistObject's note), and a
local file's track object has `null` ids ("Local Files in Spotify Playlists"). The schemas are
widened for the first, and local entries are checked against the documented local shape.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox.api.removed import REMOVED_OPERATIONS
from sandbox.faults import RateLimit
from sandbox.records import Episode, local_file, spotify_id
from tests.sandbox.conftest import Sandbox
from tests.sandbox.openapi import SPEC_FILE, check, spec

pytestmark = pytest.mark.skipif(not SPEC_FILE.exists(), reason="../shared/specs is not beside the repository")


def _set_local_aside(page: dict[str, Any], field: str) -> dict[str, Any]:
    """The page without its local-file entries, after checking those against the documented shape."""
    kept = []
    for entry in page["items"]:
        obj = entry[field]
        if obj is not None and obj.get("is_local"):
            assert obj["uri"].startswith("spotify:local:") and obj["type"] == "track"
            assert obj["id"] is None and obj["href"] is None and obj["album"]["id"] is None
            assert all(a["id"] is None for a in obj["artists"])
        else:
            kept.append(entry)
    return {**page, "items": kept}


def test_answers_match_spotifys_openapi_description(sandbox: Sandbox) -> None:
    """Profile, Liked Songs, the playlist list, one playlist, its items, writes and look-ups."""
    state = sandbox.state
    songs = [t for t, _ in state.users["alice"].liked[:6]]
    state.make_unavailable([songs[5].id])
    state.like_local_file("alice", local_file("Me", "Home", "Hum", 64))
    episode = Episode(spotify_id("episode:9"), "Episode 9", "Show", "Publisher", "2026-02-03", 1_200_000)
    mixed = state.add_playlist("alice", "Mixed", [*songs, local_file("A", "B", "C", 1), episode])
    followed = state.add_playlist("bob", "Bob's", public=True)
    state.follow("alice", followed.id)
    shared = state.add_playlist("bob", "Shared", collaborative=True)
    state.collaborate("alice", shared.id)
    client = sandbox.link("alice")

    def get(path: str, **params: Any) -> Any:
        response = sandbox.api(client, "GET", path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    check("/me", "get", 200, get("/me"))
    check("/me/tracks", "get", 200, _set_local_aside(get("/me/tracks", limit=50), "track"))
    check("/me/playlists", "get", 200, get("/me/playlists"))
    check("/playlists/{playlist_id}", "get", 200, get(f"/playlists/{followed.id}"))
    own = get(f"/playlists/{mixed.id}")
    check("/playlists/{playlist_id}", "get", 200, {**own, "items": _set_local_aside(own["items"], "item"),
                                                "tracks": _set_local_aside(own["tracks"], "track")})
    for episodes_as in ("track", "track,episode"):  # an episode dressed as a track, and as itself
        check("/playlists/{playlist_id}/items", "get", 200,
              _set_local_aside(get(f"/playlists/{mixed.id}/items", limit=50, additional_types=episodes_as), "item"))
    created = sandbox.api(client, "POST", "/me/playlists", json={"name": "Rock · genrebot", "public": False})
    assert created.status_code == 201
    check("/me/playlists", "post", 201, created.json())
    new_id = created.json()["id"]
    added = sandbox.api(client, "POST", f"/playlists/{new_id}/items", json=[t.uri for t in songs[:5]])
    check("/playlists/{playlist_id}/items", "post", 201, added.json())
    replaced = sandbox.api(client, "PUT", f"/playlists/{new_id}/items", json={"uris": [songs[0].uri]})
    check("/playlists/{playlist_id}/items", "put", 200, replaced.json())
    removed = sandbox.api(client, "DELETE", f"/playlists/{new_id}/items", json={"items": [{"uri": songs[0].uri}]})
    check("/playlists/{playlist_id}/items", "delete", 200, removed.json())
    check("/tracks/{id}", "get", 200, get(f"/tracks/{songs[0].id}"))
    check("/artists/{id}", "get", 200, get(f"/artists/{songs[0].artist_ids[0]}"))


def test_error_answers_match_spotifys_openapi_description(sandbox: Sandbox) -> None:
    """401, the 403s (scope, someone else's items, removed endpoint) and the 429s."""
    secret = sandbox.state.add_playlist("bob", "Secret")
    client = sandbox.link("alice", "playlist-read-private")
    unknown_token = requests.get(f"{sandbox.base_url}/v1/me", headers={"Authorization": "Bearer x"}, timeout=10)
    assert unknown_token.status_code == 401
    check("/me", "get", 401, unknown_token.json())
    check("/me/tracks", "get", 403, sandbox.api(client, "GET", "/me/tracks").json())
    check("/playlists/{playlist_id}/items", "get", 403,
          sandbox.api(client, "GET", f"/playlists/{secret.id}/items").json())
    check("/playlists/{playlist_id}/tracks", "get", 403,
          sandbox.api(client, "GET", f"/playlists/{secret.id}/tracks").json())
    sandbox.state.rate_limit = RateLimit(1)
    assert sandbox.api(client, "GET", "/me").status_code == 200
    check("/me", "get", 429, sandbox.api(client, "GET", "/me").json())
    sandbox.state.rate_limit = None
    sandbox.state.exceed_quota(retry_after="inf")
    check("/me/playlists", "get", 429, sandbox.api(client, "GET", "/me/playlists").json())


def test_the_removed_operations_are_those_the_description_marks_deprecated() -> None:
    """Every deprecated operation answers 403 in the sandbox, except audio features (a switch)."""
    deprecated = {
        (method.upper(), path) for path, operations in spec()["paths"].items()
        for method, operation in operations.items() if isinstance(operation, dict) and operation.get("deprecated")
    }
    assert deprecated - {("GET", "/audio-features")} == set(REMOVED_OPERATIONS)


def test_paging_links_are_absolute_and_followable(sandbox: Sandbox) -> None:
    """spotipy follows `next` as given, so it must be an absolute URL to the sandbox."""
    client = sandbox.link("alice")
    page = client.current_user_saved_tracks(limit=50, offset=50)
    assert page["next"].startswith(sandbox.base_url) and page["previous"].startswith(sandbox.base_url)
    following = client.next(page)
    assert following["offset"] == 100 and following["total"] == 120


def test_a_trailing_slash_is_accepted_as_spotipy_sends_it(sandbox: Sandbox) -> None:
    """`sp.me()` requests /v1/me/."""
    assert sandbox.api(sandbox.link("bob"), "GET", "/me/").json()["id"] == "bob"
