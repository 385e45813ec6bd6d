"""The sandbox's responses validate against Spotify's OpenAPI description (../shared/specs)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import SPECS
from tests.spotify.conftest import SpotifyWorld

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

    return _openapi_to_json_schema(yaml.safe_load(SPEC_FILE.read_text()))


def check(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    response = spec["paths"][path][method]["responses"][str(status)]
    while "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema = response["content"]["application/json"]["schema"]
    registry = Registry().with_resource("spec", Resource(contents=spec, specification=DRAFT202012))
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


def api(world: SpotifyWorld, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{world.base_url}/v1{path}", headers={"Authorization": f"Bearer {token}"},
                            timeout=10, **kwargs)


def test_sandbox_responses_match_spotifys_openapi_description(spotify_world: SpotifyWorld, spec: dict[str, Any]) -> None:
    spotify_world.state.audio_features_enabled = True
    client = spotify_world.link("bob")
    token = client.token_info["access_token"]
    check(spec, "/me", "get", 200, api(spotify_world, token, "GET", "/me").json())
    check(spec, "/me/tracks", "get", 200, api(spotify_world, token, "GET", "/me/tracks", params={"limit": 50}).json())
    created = api(spotify_world, token, "POST", "/me/playlists", json={"name": "Rock · genrebot", "public": False})
    assert created.status_code == 201
    check(spec, "/me/playlists", "post", 201, created.json())
    playlist_id = created.json()["id"]
    uris = [t.uri for t, _ in spotify_world.state.users["bob"].liked[:5]]
    added = api(spotify_world, token, "POST", f"/playlists/{playlist_id}/items", json=uris)
    check(spec, "/playlists/{playlist_id}/items", "post", 201, added.json())
    check(spec, "/playlists/{playlist_id}", "get", 200, api(spotify_world, token, "GET", f"/playlists/{playlist_id}").json())
    items = api(spotify_world, token, "GET", f"/playlists/{playlist_id}/items").json()
    check(spec, "/playlists/{playlist_id}/items", "get", 200, items)
    assert items["items"][0]["item"] == items["items"][0]["track"]
    check(spec, "/me/playlists", "get", 200, api(spotify_world, token, "GET", "/me/playlists").json())
    error = api(spotify_world, "not-a-token", "GET", "/me")
    assert error.status_code == 401
    check(spec, "/me", "get", 401, error.json())


def test_paging_links_are_absolute_and_followable(spotify_world: SpotifyWorld) -> None:
    token = spotify_world.link("alice").token_info["access_token"]
    page = api(spotify_world, token, "GET", "/me/tracks", params={"limit": 50, "offset": 50}).json()
    assert page["next"].startswith("http://127.0.0.1:") and page["previous"].startswith("http://127.0.0.1:")
    following = requests.get(page["next"], headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert following["offset"] == 100 and following["total"] == 5000


def test_removed_2026_endpoints_and_bad_requests_answer_like_spotify(spotify_world: SpotifyWorld) -> None:
    token = spotify_world.link("bob").token_info["access_token"]
    assert api(spotify_world, token, "POST", "/users/bob/playlists", json={"name": "x"}).status_code == 410
    too_many = api(spotify_world, token, "GET", "/me/tracks", params={"limit": 51})
    assert too_many.status_code == 400 and too_many.json()["error"]["status"] == 400
    assert api(spotify_world, token, "GET", "/me/").status_code == 200  # trailing slash, as spotipy sends


def test_sandbox_command_rejects_bad_flags_with_exit_2(tmp_path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "genrebot_cli", "sandbox", "--library", "synthetic:zero"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--library" in result.stderr and "Traceback" not in result.stderr
