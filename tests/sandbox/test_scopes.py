"""Granted scopes are enforced: a call without its scope is 403 "Insufficient client scope"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
import spotipy

from tests.sandbox.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, Sandbox, error_of

INSUFFICIENT = (403, "Insufficient client scope")


def _refused(call: Callable[[], object]) -> tuple[int | None, str]:
    with pytest.raises(spotipy.SpotifyException) as caught:
        call()
    return caught.value.http_status, caught.value.msg.rsplit("\n", 1)[-1].strip()


def test_liked_songs_need_user_library_read(sandbox: Sandbox) -> None:
    """Reading Liked Songs with a token that lacks user-library-read is refused."""
    client = sandbox.link("alice", "playlist-read-private")
    assert _refused(lambda: client.current_user_saved_tracks(limit=50)) == INSUFFICIENT
    assert error_of(sandbox.api(client, "GET", "/me/tracks")) == INSUFFICIENT


def test_a_private_playlist_needs_playlist_modify_private(sandbox: Sandbox) -> None:
    """Creating a private playlist with only playlist-modify-public is refused, and none is made."""
    client = sandbox.link("alice", "playlist-modify-public")
    assert _refused(lambda: client.current_user_playlist_create("Rock", public=False)) == INSUFFICIENT
    assert sandbox.state.playlists_of("alice") == []


def test_a_playlist_is_public_unless_asked_so_it_needs_playlist_modify_public(sandbox: Sandbox) -> None:
    """Without `"public": false` Spotify makes a public playlist, which needs playlist-modify-public."""
    client = sandbox.link("alice", "playlist-modify-private")
    assert error_of(sandbox.api(client, "POST", "/me/playlists", json={"name": "Rock"})) == INSUFFICIENT
    created = client.current_user_playlist_create("Rock", public=False)
    assert sandbox.state.playlists[created["id"]].public is False


def test_changing_items_needs_the_modify_scope_of_the_playlists_visibility(sandbox: Sandbox) -> None:
    """Adding to a public playlist needs playlist-modify-public even if -private was granted."""
    public = sandbox.state.add_playlist("alice", "Open", public=True)
    private = sandbox.state.add_playlist("alice", "Closed", public=False)
    song = sandbox.state.users["alice"].liked[0][0].uri
    client = sandbox.link("alice", "playlist-modify-private")
    assert _refused(lambda: client.playlist_add_items(public.id, [song])) == INSUFFICIENT
    client.playlist_add_items(private.id, [song])
    assert [u for u, _ in private.items] == [song]


def test_reading_a_private_playlists_items_needs_playlist_read_private(sandbox: Sandbox) -> None:
    """The owner's own private playlist is unreadable without playlist-read-private."""
    playlist = sandbox.state.add_playlist("alice", "Mine", [t for t, _ in sandbox.state.users["alice"].liked[:3]])
    client = sandbox.link("alice", "user-library-read")
    assert _refused(lambda: client.playlist_items(playlist.id, limit=50)) == INSUFFICIENT
    reader = sandbox.link("alice", "playlist-read-private")
    assert reader.playlist_items(playlist.id, limit=50)["total"] == 3


def test_listing_playlists_without_read_scopes_leaves_out_private_and_collaborative_ones(sandbox: Sandbox) -> None:
    """No 403: private ones need playlist-read-private, collaborative ones playlist-read-collaborative."""
    state = sandbox.state
    state.add_playlist("alice", "Public", public=True)
    state.add_playlist("alice", "Private", public=False)
    state.add_playlist("alice", "Shared", collaborative=True)

    def names(scope: str) -> set[str]:
        return {p["name"] for p in sandbox.link("alice", scope).current_user_playlists(limit=50)["items"]}

    assert names("user-library-read") == {"Public"}
    assert names("playlist-read-private") == {"Public", "Private"}
    assert names("playlist-read-private playlist-read-collaborative") == {"Public", "Private", "Shared"}


def test_library_contains_needs_the_scope_of_each_uri_kind(sandbox: Sandbox) -> None:
    """Tracks need user-library-read, playlists playlist-read-private."""
    playlist = sandbox.state.add_playlist("alice", "Mine")
    song = sandbox.state.users["alice"].liked[0][0].uri
    client = sandbox.link("alice", "user-library-read")
    assert sandbox.api(client, "GET", "/me/library/contains", params={"uris": song}).json() == [True]
    refused = sandbox.api(client, "GET", "/me/library/contains", params={"uris": f"spotify:playlist:{playlist.id}"})
    assert error_of(refused) == INSUFFICIENT


def test_the_profile_needs_no_scope_and_carries_the_stable_account_id(sandbox: Sandbox) -> None:
    """`GET /me` works with any token, with account_id and without the fields dev-mode apps lost."""
    me = sandbox.link("bob", "user-library-read").me()
    assert me["id"] == "bob" and me["account_id"] == sandbox.state.users["bob"].account_id
    assert not {"country", "email", "product", "explicit_content", "followers"} & set(me)


def test_a_withheld_scope_is_left_out_of_the_token_answer_and_its_calls_are_refused(sandbox: Sandbox) -> None:
    """Spotify may grant fewer scopes than asked (spotify/web-api-examples#133): the token answer's
    `scope` lists only what was granted, and a call needing the rest is 403 Insufficient client scope."""
    sandbox.state.withhold_scopes("alice", ["user-library-read"])
    answer = requests.post(f"{sandbox.base_url}/api/token", timeout=10, auth=(CLIENT_ID, CLIENT_SECRET), data={
        "grant_type": "authorization_code", "code": sandbox.code_for("alice"), "redirect_uri": REDIRECT_URI,
    }).json()
    assert "user-library-read" not in answer["scope"].split() and "playlist-read-private" in answer["scope"].split()
    response = requests.get(f"{sandbox.base_url}/v1/me/tracks", timeout=10,
                            headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert (response.status_code, response.json()["error"]["message"]) == INSUFFICIENT
