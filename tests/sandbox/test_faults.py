"""Trouble on purpose: answers lost after the write happened, emergent rate limits, quota 429s."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
import spotipy

from sandbox.faults import RateLimit
from tests.sandbox.conftest import Sandbox, error_of


def _status(call: Callable[[], object]) -> tuple[int | None, dict[str, str], str | None]:
    with pytest.raises(spotipy.SpotifyException) as caught:
        call()
    return caught.value.http_status, dict(caught.value.headers or {}), caught.value.reason


def test_a_5xx_after_processing_loses_the_answer_but_the_playlist_exists(sandbox: Sandbox) -> None:
    """The client sees 502 for POST /me/playlists, yet Spotify made the playlist."""
    client = sandbox.link("alice")
    sandbox.state.inject(502, method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    status, _, _ = _status(lambda: client.current_user_playlist_create("Rock · genrebot", public=False))
    assert status == 502
    assert [p.name for p in sandbox.state.playlists_of("alice")] == ["Rock · genrebot"]


def test_a_fault_before_processing_changes_nothing(sandbox: Sandbox) -> None:
    """The same 502 injected before processing: no playlist."""
    client = sandbox.link("alice")
    sandbox.state.inject(502, method="POST", path_prefix="/v1/me/playlists")
    assert _status(lambda: client.current_user_playlist_create("Rock · genrebot", public=False))[0] == 502
    assert sandbox.state.playlists_of("alice") == []


def test_a_dropped_connection_after_adding_items_leaves_them_added(sandbox: Sandbox) -> None:
    """The connection closes without an answer; the songs are in the playlist all the same."""
    playlist = sandbox.state.add_playlist("alice", "Mine")
    songs = [t.uri for t, _ in sandbox.state.users["alice"].liked[:5]]
    client = sandbox.link("alice")
    sandbox.state.inject("drop", method="POST", path_prefix=f"/v1/playlists/{playlist.id}/items", after_processing=True)
    with pytest.raises(requests.ConnectionError):
        client.playlist_add_items(playlist.id, songs)
    assert [u for u, _ in playlist.items] == songs


def test_a_hang_after_processing_times_the_client_out_after_the_write(sandbox: Sandbox) -> None:
    """No answer at all: the client's own timeout fires, and the playlist exists."""
    # The client gives up after its timeout whether or not the sandbox has read the request yet; one
    # that left before its body was read changed nothing. 2 s leaves a starved sandbox thread time to
    # read it; the write itself may still land just after the client gave up, so wait for it.
    client = sandbox.link("alice", timeout_s=2)
    sandbox.state.inject("hang", method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    with pytest.raises(requests.Timeout):
        client.current_user_playlist_create("Pop · genrebot", public=False)
    deadline = time.monotonic() + 60  # a safety net, not a threshold
    while not sandbox.state.playlists_of("alice") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [p.name for p in sandbox.state.playlists_of("alice")] == ["Pop · genrebot"]


def test_faults_match_their_method_and_path_only(sandbox: Sandbox) -> None:
    """A fault for POST on one playlist's items leaves reads and other paths alone."""
    playlist = sandbox.state.add_playlist("alice", "Mine")
    client = sandbox.link("alice")
    sandbox.state.inject(500, 3, method="POST", path_prefix=f"/v1/playlists/{playlist.id}/items", after_processing=True)
    assert client.playlist_items(playlist.id, limit=50)["total"] == 0
    assert client.me()["id"] == "alice"
    assert len(sandbox.state.faults) == 3


def test_a_429_emerges_once_an_app_spends_its_budget_in_the_rolling_window(sandbox: Sandbox) -> None:
    """Five calls per 30 s: the sixth gets 429 with the seconds until the oldest call leaves the window."""
    sandbox.state.rate_limit = RateLimit(5, window_s=30)
    client = sandbox.link("alice")
    for _ in range(5):
        client.me()
        sandbox.clock.advance(2)  # calls at t = 0, 2, 4, 6, 8
    status, headers, _ = _status(client.me)  # t = 10
    assert status == 429 and headers["Retry-After"] == "20"
    sandbox.clock.advance(20)  # t = 30: the call at t = 0 has left the window
    assert client.me()["id"] == "alice"
    assert _status(client.me)[0] == 429


def test_the_rolling_window_counts_each_app_on_its_own(sandbox: Sandbox) -> None:
    """One app's burst does not rate-limit another app."""
    sandbox.state.rate_limit = RateLimit(2)
    busy = sandbox.link("alice")
    busy.me(), busy.me()
    assert _status(busy.me)[0] == 429
    other = sandbox.link("bob", client_id="other-app", client_secret="other-secret")
    assert other.me()["id"] == "bob"


def test_a_rate_limit_penalty_blocks_the_app_for_the_penalty(sandbox: Sandbox) -> None:
    """With a penalty, going over the budget costs the whole penalty, as developers report."""
    sandbox.state.rate_limit = RateLimit(1, penalty_s=3600)
    client = sandbox.link("alice")
    client.me()
    assert _status(client.me)[1]["Retry-After"] == "3600"
    sandbox.clock.advance(1800)
    assert _status(client.me)[1]["Retry-After"] == "1800"


def test_a_quota_429_says_quota_exceeded_with_its_retry_after(sandbox: Sandbox) -> None:
    """Every call of the app answers 429, reason QUOTA_EXCEEDED, until the Retry-After has passed."""
    client = sandbox.link("alice")
    sandbox.state.exceed_quota(retry_after=1800)
    for call in (client.me, lambda: client.current_user_saved_tracks(limit=50)):
        status, headers, reason = _status(call)
        assert (status, headers["Retry-After"], reason) == (429, "1800", "QUOTA_EXCEEDED")
    error = sandbox.api(client, "GET", "/me")
    assert error_of(error)[0] == 429 and error.json()["error"]["reason"] == "QUOTA_EXCEEDED"
    sandbox.clock.advance(1800)
    assert client.me()["id"] == "alice"


@pytest.mark.parametrize("retry_after, header", [
    (None, None), ("inf", "inf"), ("1e12", "1e12"), ("soon", "soon"), (0, "0"), (36_000, "36000"),
])
def test_quota_429s_send_odd_retry_after_values_verbatim(sandbox: Sandbox, retry_after: object, header: str | None) -> None:
    """Missing, infinite, absurd, non-numeric and zero Retry-After values reach the client as sent."""
    client = sandbox.link("alice")
    sandbox.state.exceed_quota(retry_after=retry_after)  # type: ignore[arg-type]
    status, headers, reason = _status(client.me)
    assert (status, reason) == (429, "QUOTA_EXCEEDED")
    assert headers.get("Retry-After") == header


def test_a_quota_block_for_one_app_leaves_the_others_alone_until_lifted(sandbox: Sandbox) -> None:
    """`client_id` limits the block to one app; `lift_quota` ends it."""
    client = sandbox.link("alice")
    other = sandbox.link("bob", client_id="other-app", client_secret="other-secret")
    sandbox.state.exceed_quota(retry_after="inf", client_id="other-app")
    assert client.me()["id"] == "alice"
    assert _status(other.me)[0] == 429
    sandbox.state.lift_quota()
    assert other.me()["id"] == "bob"


def test_a_removal_whose_answer_is_lost_has_removed_the_songs(sandbox: Sandbox) -> None:
    """DELETE items answered 503 after processing: the client sees the 503, the songs are gone."""
    songs = [t for t, _ in sandbox.state.users["alice"].liked[:3]]
    playlist = sandbox.state.add_playlist("alice", "Mine", songs)
    client = sandbox.link("alice")
    sandbox.state.inject(503, method="DELETE", path_prefix=f"/v1/playlists/{playlist.id}/items", after_processing=True)
    assert _status(lambda: client.playlist_remove_all_occurrences_of_items(playlist.id, [songs[1].uri]))[0] == 503
    assert [u for u, _ in playlist.items] == [songs[0].uri, songs[2].uri]


def test_an_answer_cut_off_mid_body_breaks_the_read_and_the_songs_are_added(sandbox: Sandbox) -> None:
    """A cut: the answer's headers and part of its body arrive, then the connection breaks (requests
    raises ChunkedEncodingError reading it); the request took effect all the same."""
    playlist = sandbox.state.add_playlist("alice", "Mine")
    song = sandbox.state.users["alice"].liked[0][0]
    client = sandbox.link("alice")
    sandbox.state.inject("cut", method="POST", path_prefix=f"/v1/playlists/{playlist.id}/items")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        client.playlist_add_items(playlist.id, [song.uri])
    assert [uri for uri, _ in playlist.items] == [song.uri]
    assert client.playlist_items(playlist.id)["total"] == 1  # the next request is answered whole


def test_a_fault_at_the_token_endpoint_answers_in_the_accounts_services_error_form(sandbox: Sandbox) -> None:
    """A 429 injected at /api/token carries its Retry-After and an OAuth error body, as spotipy reads them."""
    manager, tokens = sandbox.linked_oauth("alice")
    sandbox.state.inject(429, retry_after=7, path_prefix="/api/token", reason="rate_limited", message="slow down")
    with pytest.raises(spotipy.SpotifyOauthError) as caught:
        manager.refresh_access_token(tokens["refresh_token"])
    assert (caught.value.error, caught.value.error_description) == ("rate_limited", "slow down")
    http_error = caught.value.__context__  # the HTTPError spotipy turned into this
    assert isinstance(http_error, requests.HTTPError) and http_error.response is not None
    assert http_error.response.status_code == 429 and http_error.response.headers["Retry-After"] == "7"
    assert sandbox.state.tokens.refreshes == 0


def test_a_garbled_token_answer_is_200_that_spotipy_cannot_read_as_json(sandbox: Sandbox) -> None:
    """A proxy's error page served as 200 at /api/token: spotipy's refresh raises requests'
    JSONDecodeError, not an OAuth error, and nothing was refreshed."""
    manager, tokens = sandbox.linked_oauth("alice")
    sandbox.state.inject("garbled", method="POST", path_prefix="/api/token")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        manager.refresh_access_token(tokens["refresh_token"])
    assert sandbox.state.tokens.refreshes == 0
    assert manager.refresh_access_token(tokens["refresh_token"])["access_token"]  # the next is answered


def test_a_garbled_token_answer_after_processing_is_the_real_one_cut_short_under_its_length(
    sandbox: Sandbox,
) -> None:
    """After processing, the refresh happened but its answer is half a JSON object whose
    Content-Length says it is whole: the connection stays sound and only the parse fails."""
    manager, tokens = sandbox.linked_oauth("alice")
    sandbox.state.inject("garbled", method="POST", path_prefix="/api/token", after_processing=True)
    with pytest.raises(requests.exceptions.JSONDecodeError) as caught:
        manager.refresh_access_token(tokens["refresh_token"])
    assert caught.value.doc.startswith('{"access_token"')
    assert sandbox.state.tokens.refreshes == 1


def test_a_garbled_web_api_answer_is_none_to_spotipy_and_the_write_happened(sandbox: Sandbox) -> None:
    """200 with half its JSON at POST /me/playlists after processing: spotipy swallows the
    decode error and returns None, yet the playlist exists."""
    client = sandbox.link("alice")
    sandbox.state.inject("garbled", method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    assert client.current_user_playlist_create("Rock · genrebot", public=False) is None
    assert [p.name for p in sandbox.state.playlists_of("alice")] == ["Rock · genrebot"]
