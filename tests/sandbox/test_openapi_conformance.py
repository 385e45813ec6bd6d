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
from tests.conftest import SPECS
from tests.sandbox.conftest import Sandbox

SPEC_FILE = SPECS / "spotify-web-api.openapi.yml"
pytestmark = pytest.mark.skipif(not SPEC_FILE.exists(), reason="../shared/specs is not beside the repository")


def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` becomes JSON Schema's type union with null."""
    if isinstance(node, dict):
        out = {k: _openapi_to_json_schema(v) for k, v in node.items()}
        if out.pop("nullable", False):
            if "type" in out:
                out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
            elif "$ref" in out or "allOf" in out or "oneOf" in out:
                out = {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_openapi_to_json_schema(v) for v in node]
    return node


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    import yaml

    loaded: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text())
    return loaded


@pytest.fixture(scope="module")
def schema_spec(spec: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = _openapi_to_json_schema(spec)
    schemas = converted["components"]["schemas"]
    for name, prop in (("PlaylistTrackObject", "item"), ("PlaylistTrackObject", "track"), ("SavedTrackObject", "track")):
        schemas[name]["properties"][prop] = {"anyOf": [schemas[name]["properties"][prop], {"type": "null"}]}
    return converted


def check(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    response = spec["paths"][path][method]["responses"][str(status)]
    while "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema = response["content"]["application/json"]["schema"]
    registry = Registry().with_resource("spec", Resource(contents=spec, specification=DRAFT202012))  # type: ignore[call-arg]
    validator = jsonschema.Draft202012Validator(_rebase(schema), registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method.upper()} {path} {status}: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message}" for e in errors[:40]
    )


def _rebase(node: Any) -> Any:
    """Point local '#/components/…' references at the registered spec document."""
    if isinstance(node, dict):
        return {k: ("spec" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def _set_local_aside(page: dict[str, Any], field: str) -> dict[str, Any]:
    """The page without its local-file entries, after checking those against the documented shape."""
    kept = []
    for entry in page["items"]:
        obj = entry[field]
        if obj is not None and obj.get("is_local"):
            assert obj["uri"].startswith("spotify:local:") and obj["type"] == "track"
            assert obj["id"] is None and obj["href"] is None and obj["album"]["id"] is None
            assert all(a["id"] is None for a in obj["artists"]) and obj["available_markets"] == []
        else:
            kept.append(entry)
    return {**page, "items": kept}


def test_answers_match_spotifys_openapi_description(sandbox: Sandbox, schema_spec: dict[str, Any]) -> None:
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

    check(schema_spec, "/me", "get", 200, get("/me"))
    check(schema_spec, "/me/tracks", "get", 200, _set_local_aside(get("/me/tracks", limit=50), "track"))
    check(schema_spec, "/me/playlists", "get", 200, get("/me/playlists"))
    check(schema_spec, "/playlists/{playlist_id}", "get", 200, get(f"/playlists/{followed.id}"))
    own = get(f"/playlists/{mixed.id}")
    check(schema_spec, "/playlists/{playlist_id}", "get", 200, {**own, "items": _set_local_aside(own["items"], "item"),
                                                                 "tracks": _set_local_aside(own["tracks"], "track")})
    for episodes_as in ("track", "track,episode"):  # an episode dressed as a track, and as itself
        check(schema_spec, "/playlists/{playlist_id}/items", "get", 200,
              _set_local_aside(get(f"/playlists/{mixed.id}/items", limit=50, additional_types=episodes_as), "item"))
    created = sandbox.api(client, "POST", "/me/playlists", json={"name": "Rock · genrebot", "public": False})
    assert created.status_code == 201
    check(schema_spec, "/me/playlists", "post", 201, created.json())
    new_id = created.json()["id"]
    added = sandbox.api(client, "POST", f"/playlists/{new_id}/items", json=[t.uri for t in songs[:5]])
    check(schema_spec, "/playlists/{playlist_id}/items", "post", 201, added.json())
    replaced = sandbox.api(client, "PUT", f"/playlists/{new_id}/items", json={"uris": [songs[0].uri]})
    check(schema_spec, "/playlists/{playlist_id}/items", "put", 200, replaced.json())
    removed = sandbox.api(client, "DELETE", f"/playlists/{new_id}/items", json={"items": [{"uri": songs[0].uri}]})
    check(schema_spec, "/playlists/{playlist_id}/items", "delete", 200, removed.json())
    check(schema_spec, "/tracks/{id}", "get", 200, get(f"/tracks/{songs[0].id}"))
    check(schema_spec, "/artists/{id}", "get", 200, get(f"/artists/{songs[0].artist_ids[0]}"))


def test_error_answers_match_spotifys_openapi_description(sandbox: Sandbox, schema_spec: dict[str, Any]) -> None:
    """401, the 403s (scope, someone else's items, removed endpoint) and the 429s."""
    secret = sandbox.state.add_playlist("bob", "Secret")
    client = sandbox.link("alice", "playlist-read-private")
    unknown_token = requests.get(f"{sandbox.base_url}/v1/me", headers={"Authorization": "Bearer x"}, timeout=10)
    assert unknown_token.status_code == 401
    check(schema_spec, "/me", "get", 401, unknown_token.json())
    check(schema_spec, "/me/tracks", "get", 403, sandbox.api(client, "GET", "/me/tracks").json())
    check(schema_spec, "/playlists/{playlist_id}/items", "get", 403,
          sandbox.api(client, "GET", f"/playlists/{secret.id}/items").json())
    check(schema_spec, "/playlists/{playlist_id}/tracks", "get", 403,
          sandbox.api(client, "GET", f"/playlists/{secret.id}/tracks").json())
    sandbox.state.rate_limit = RateLimit(1)
    assert sandbox.api(client, "GET", "/me").status_code == 200
    check(schema_spec, "/me", "get", 429, sandbox.api(client, "GET", "/me").json())
    sandbox.state.rate_limit = None
    sandbox.state.exceed_quota(retry_after="inf")
    check(schema_spec, "/me/playlists", "get", 429, sandbox.api(client, "GET", "/me/playlists").json())


def test_the_removed_operations_are_those_the_description_marks_deprecated(spec: dict[str, Any]) -> None:
    """Every deprecated operation answers 403 in the sandbox, except audio features (a switch)."""
    deprecated = {
        (method.upper(), path) for path, operations in spec["paths"].items()
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
