"""The fault policy through the real spotipy client against the sandbox: typed errors decided by
status codes, Retry-After values Spotify gets wrong, and writes that are never repeated blindly."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from bot.spotify.client import SpotifyUserClient
from bot.spotify.errors import (
    AudioFeaturesUnavailable,
    NeedsRelink,
    OwnerPremiumRequired,
    SpotifyError,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
    WriteOutcomeUnknown,
)
from bot.spotify.retry import MAX_QUOTA_PAUSE_S, MAX_RATE_LIMIT_WAIT_S
from sandbox.faults import FaultAction
from sandbox.library import synthetic_library
from sandbox.state import RefreshRotation
from tests.bot.spotify.conftest import SpotifyWorld

# --- 403s and 404s are told apart by status and type, never by searching text (issue #14, item 12)


def test_a_lapsed_owner_premium_is_its_own_error(spotify_world: SpotifyWorld) -> None:
    """Spotify's 403 for an app whose owner lost Premium is OwnerPremiumRequired, asked once."""
    client = spotify_world.link("bob")
    spotify_world.state.owner_premium = False
    before = spotify_world.state.count()
    with pytest.raises(OwnerPremiumRequired):
        client.profile()
    assert spotify_world.state.count() - before == 1


def test_a_lapsed_owner_premium_is_not_mistaken_for_an_app_without_audio_features(
    spotify_world: SpotifyWorld,
) -> None:
    """The Premium 403 on /audio-features stays OwnerPremiumRequired, so nothing learns "no features"."""
    client = spotify_world.link("bob")
    spotify_world.state.audio_features_enabled = True
    spotify_world.state.owner_premium = False
    with pytest.raises(OwnerPremiumRequired):
        client.audio_features([t.id for t, _ in spotify_world.state.users["bob"].liked])


def test_a_404_from_audio_features_is_not_read_as_unavailable(spotify_world: SpotifyWorld) -> None:
    """Only the endpoint's 403 means "this app gets no audio features"; a 404 is an ordinary failure."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(404, method="GET", path_prefix="/v1/audio-features", message="Not found")
    with pytest.raises(SpotifyError) as caught:
        client.audio_features([t.id for t, _ in spotify_world.state.users["bob"].liked])
    assert not isinstance(caught.value, AudioFeaturesUnavailable)


def test_a_rate_limit_whose_text_says_403_and_404_keeps_audio_features(spotify_world: SpotifyWorld) -> None:
    """A transient 429 whose message mentions 403 and 404 is waited out; the features arrive."""
    songs = [replace(t, audio_features={"energy": 0.5}) for t in synthetic_library(3, seed=8)]
    spotify_world.state.like("bob", songs)
    spotify_world.state.audio_features_enabled = True
    spotify_world.state.inject(429, 2, retry_after=1, path_prefix="/v1/audio-features",
                               message="403 Forbidden, 404 Not Found: slow down")
    features = spotify_world.link("bob").audio_features([t.id for t in songs])
    assert set(features) == {t.id for t in songs}


def test_a_quota_429_whose_text_says_403_is_a_quota_pause_not_a_refusal(spotify_world: SpotifyWorld) -> None:
    """QUOTA_EXCEEDED is read from the body's reason, whatever its message says."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(429, retry_after=600, reason="QUOTA_EXCEEDED", path_prefix="/v1/audio-features",
                               message="403 404 quota")
    with pytest.raises(SpotifyQuotaExceeded) as caught:
        client.audio_features(["x"])
    assert caught.value.retry_after_s == 600


def test_an_unregistered_user_is_told_so_on_every_endpoint(spotify_world: SpotifyWorld) -> None:
    """Spotify's 403 for a user the app's owner has not listed stays UserNotRegistered, even on /audio-features."""
    client = spotify_world.link("bob")
    spotify_world.state.users["bob"].registered = False
    for call in (client.profile, lambda: client.audio_features(["x"])):
        with pytest.raises(UserNotRegistered):
            call()


@pytest.mark.parametrize("message", [
    "The user is not registered for this application. Please check your settings on https://developer.spotify.com/dashboard.",
    "Check settings on developer.spotify.com/dashboard, the user may not be registered.",
    "User not registered in the Developer Dashboard",
    "User not approved for app",
])
def test_each_wording_spotify_has_used_for_an_unlisted_user_is_understood(
    spotify_world: SpotifyWorld, message: str
) -> None:
    """Spotify has worded its 403 for a user the app's owner has not listed four ways since 2021
    (the 2026 one is the sandbox's); each is UserNotRegistered, never a playlist or feature refusal."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(403, message=message)
    with pytest.raises(UserNotRegistered):
        client.profile()


# --- Retry-After values Spotify or a proxy gets wrong (issue #14, item 10) -----------------------


@pytest.mark.parametrize("retry_after", ["inf", "1e12", None, "soon", "-5", "nan"])
def test_an_odd_quota_retry_after_gives_a_bounded_pause(spotify_world: SpotifyWorld, retry_after: str | None) -> None:
    """A quota 429 with a missing, unreadable, infinite or absurd Retry-After pauses for a finite time."""
    client = spotify_world.link("bob")
    spotify_world.state.exceed_quota(retry_after)
    with pytest.raises(SpotifyQuotaExceeded) as caught:
        client.profile()
    pause = caught.value.retry_after_s
    assert math.isfinite(pause) and 0 < pause <= MAX_QUOTA_PAUSE_S
    assert caught.value.resume_at.year == 2026  # a real moment a member can be shown


@pytest.mark.parametrize("retry_after", ["inf", "1e12"])
def test_an_absurd_rate_limit_retry_after_raises_a_bounded_wait(spotify_world: SpotifyWorld, retry_after: str) -> None:
    """A 429 asking for forever is not slept through: the call raises with a wait of at most an hour."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(429, 3, retry_after=retry_after)
    with pytest.raises(SpotifyRateLimited) as caught:
        client.profile()
    assert caught.value.retry_after_s == MAX_RATE_LIMIT_WAIT_S
    assert str(caught.value) == "Spotify rate limit: retry after 3600s"


# --- one gate for the whole app (issue #14, item 10) -------------------------------------------


def test_a_quota_pause_stops_every_members_calls_until_it_lifts(spotify_world: SpotifyWorld) -> None:
    """After one member's QUOTA_EXCEEDED, another member's call does not reach Spotify until the pause ends."""
    alice, bob = spotify_world.link("alice"), spotify_world.link("bob")
    spotify_world.state.inject(429, retry_after=3_600, reason="QUOTA_EXCEEDED")
    with pytest.raises(SpotifyQuotaExceeded):
        alice.profile()
    before = spotify_world.state.count()
    with pytest.raises(SpotifyQuotaExceeded) as caught:
        bob.profile()
    assert spotify_world.state.count() == before, "no call reaches Spotify during the pause"
    assert caught.value.resume_at == spotify_world.app.gate.paused_until()
    spotify_world.gate_clock.sleep(3_600)
    assert spotify_world.app.gate.paused_until() is None
    assert bob.profile().display_name == "Bob"


def test_a_429_holds_back_every_caller_not_only_the_one_that_got_it(spotify_world: SpotifyWorld) -> None:
    """After one member's 429 with Retry-After 40 s, another member's call waits it out without asking Spotify."""
    alice, bob = spotify_world.link("alice"), spotify_world.link("bob")
    spotify_world.state.inject(429, retry_after=40, path_prefix="/v1/me/tracks")
    with pytest.raises(SpotifyRateLimited):  # longer than a call sits through (max_wait_s = 30)
        alice.liked_songs_page(0)
    before = spotify_world.state.count()
    with pytest.raises(SpotifyRateLimited) as caught:
        bob.profile()
    assert spotify_world.state.count() == before and caught.value.retry_after_s == pytest.approx(40)
    spotify_world.gate_clock.sleep(15)
    assert bob.profile().display_name == "Bob"  # 25 s left: within what a call waits
    assert spotify_world.gate_clock.slept[-1] >= 25


def test_a_quota_pause_message_names_a_finite_moment(spotify_world: SpotifyWorld) -> None:
    """The pause's end is on the app's clock: an hour after the quota 429."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(429, retry_after=3_600, reason="QUOTA_EXCEEDED")
    asked_at = spotify_world.gate_clock.wall()
    with pytest.raises(SpotifyQuotaExceeded) as caught:
        client.profile()
    assert (caught.value.resume_at - asked_at).total_seconds() == 3_600


def test_a_write_whose_answer_is_lost_is_not_repeated(spotify_world: SpotifyWorld) -> None:
    """POST /me/playlists answered 502 after Spotify made the playlist raises instead of posting again."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(502, method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    with pytest.raises(WriteOutcomeUnknown):
        client.create_playlist("Rock · genrebot", "d")
    assert [p.name for p in spotify_world.state.playlists_of("bob")] == ["Rock · genrebot"]


def test_a_read_whose_answer_is_cut_off_mid_body_is_read_again(spotify_world: SpotifyWorld) -> None:
    """The connection breaks halfway through a page of Liked Songs: the page is asked for again, not
    given up on with an error no policy decided."""
    client = spotify_world.link("bob")
    spotify_world.state.inject("cut", method="GET", path_prefix="/v1/me/tracks")
    page = client.liked_songs_page(0)
    assert len(page.items) == 50 and page.total == len(spotify_world.state.users["bob"].liked)


def test_a_write_whose_answer_is_cut_off_mid_body_is_not_repeated(spotify_world: SpotifyWorld) -> None:
    """POST /me/playlists whose answer breaks off halfway: the playlist exists, and the call says its
    outcome is unknown instead of posting again."""
    client = spotify_world.link("bob")
    spotify_world.state.inject("cut", method="POST", path_prefix="/v1/me/playlists")
    with pytest.raises(WriteOutcomeUnknown):
        client.create_playlist("Rock · genrebot", "d")
    assert [p.name for p in spotify_world.state.playlists_of("bob")] == ["Rock · genrebot"]


def test_a_read_answered_200_with_a_page_that_is_not_json_is_read_again(spotify_world: SpotifyWorld) -> None:
    """A proxy's error page comes back as 200 for a page of Liked Songs (spotipy makes it None): the
    page is asked for again, not read as nothing or failed with an internal error."""
    client = spotify_world.link("bob")
    spotify_world.state.inject("garbled", method="GET", path_prefix="/v1/me/tracks")
    page = client.liked_songs_page(0)
    assert len(page.items) == 50 and page.total == len(spotify_world.state.users["bob"].liked)
    assert spotify_world.state.count("GET", path_prefix="/v1/me/tracks") == 2


def test_a_write_answered_200_with_half_its_json_is_not_repeated(spotify_world: SpotifyWorld) -> None:
    """POST /me/playlists answered 200 with its JSON cut short under its length: the playlist exists,
    and the call says its outcome is unknown instead of posting again."""
    client = spotify_world.link("bob")
    spotify_world.state.inject("garbled", method="POST", path_prefix="/v1/me/playlists", after_processing=True)
    with pytest.raises(WriteOutcomeUnknown):
        client.create_playlist("Rock · genrebot", "d")
    assert [p.name for p in spotify_world.state.playlists_of("bob")] == ["Rock · genrebot"]


# --- the accounts service's token endpoint under faults ---------------------------------------
# A 401 makes the client refresh at once (POST /api/token); what that refresh meets must leave as
# the policy decides it: a revoked refresh token is "link again", anything else is not.


def _refresh_forced(world: SpotifyWorld, user: str = "bob") -> tuple[SpotifyUserClient, dict[str, Any]]:
    """A member's client whose access token Spotify no longer takes, though it looks fresh to spotipy."""
    client = world.link(user)
    world.state.expire_access_tokens()
    return client, dict(client.token_info or {})


@pytest.mark.parametrize("fault", ["drop", "cut", "garbled", 500, 502, 503])
def test_a_refresh_after_a_401_that_meets_a_network_fault_or_5xx_is_made_again(
    spotify_world: SpotifyWorld, fault: int | FaultAction
) -> None:
    """The refresh's connection drops, its answer breaks off, a proxy's page comes back as 200, or
    Spotify answers 5xx: the refresh is made again and the call answered, never a raw network or
    JSON error or a "link again"."""
    client, before = _refresh_forced(spotify_world)
    spotify_world.state.inject(fault, method="POST", path_prefix="/api/token")
    assert client.profile().display_name == "Bob"
    after = client.token_info or {}
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]


def test_a_5xx_from_the_token_endpoint_is_not_read_as_a_revoked_link_whatever_its_body_says(
    spotify_world: SpotifyWorld,
) -> None:
    """Only a 400 invalid_grant means the refresh token is gone: a 503 whose body says invalid_grant
    (a proxy's, a broken deploy's) is retried like any 503."""
    client, _ = _refresh_forced(spotify_world)
    spotify_world.state.inject(503, method="POST", path_prefix="/api/token", reason="invalid_grant",
                               message="Refresh token revoked")
    assert client.profile().display_name == "Bob"


@pytest.mark.parametrize("fault", ["drop", "garbled"])
def test_a_refresh_that_never_gets_through_says_spotify_is_unavailable(
    spotify_world: SpotifyWorld, fault: FaultAction
) -> None:
    """Every refresh dropped, or answered 200 with a page that is not JSON: the call gives up with
    SpotifyUnavailable, not NeedsRelink."""
    client, _ = _refresh_forced(spotify_world)
    spotify_world.state.inject(fault, 20, method="POST", path_prefix="/api/token")
    with pytest.raises(SpotifyUnavailable) as caught:
        client.profile()
    assert not isinstance(caught.value, NeedsRelink)


def test_a_refresh_whose_answer_is_cut_short_under_its_length_is_made_again(spotify_world: SpotifyWorld) -> None:
    """Spotify refreshed but its 200 answer is half a JSON object: the refresh is made again with
    the refresh token kept, and the call answered."""
    client, before = _refresh_forced(spotify_world)
    spotify_world.state.inject("garbled", method="POST", path_prefix="/api/token", after_processing=True)
    assert client.profile().display_name == "Bob"
    assert spotify_world.state.tokens.refreshes == 2  # the unreadable one and the one answered
    assert (client.token_info or {})["refresh_token"] == before["refresh_token"]


def test_a_revoked_refresh_token_means_link_again_asked_once(spotify_world: SpotifyWorld) -> None:
    """invalid_grant at the forced refresh is NeedsRelink at once, without asking again."""
    client, _ = _refresh_forced(spotify_world)
    spotify_world.state.revoke_refresh_tokens("bob")
    before = spotify_world.state.count(path_prefix="/api/token")
    with pytest.raises(NeedsRelink):
        client.profile()
    assert spotify_world.state.count(path_prefix="/api/token") - before == 1


def test_a_rate_limited_refresh_waits_out_its_retry_after(spotify_world: SpotifyWorld) -> None:
    """A 429 from the token endpoint holds the app back for its Retry-After, then the refresh is made."""
    client, _ = _refresh_forced(spotify_world)
    spotify_world.state.inject(429, method="POST", path_prefix="/api/token", retry_after=7)
    assert client.profile().display_name == "Bob"
    assert spotify_world.gate_clock.slept and spotify_world.gate_clock.slept[-1] >= 7


def test_a_refresh_rate_limited_longer_than_a_call_waits_raises_the_wait(spotify_world: SpotifyWorld) -> None:
    """A token-endpoint 429 asking for 40 s is not slept through: SpotifyRateLimited says 40 s."""
    client, _ = _refresh_forced(spotify_world)
    spotify_world.state.inject(429, 20, method="POST", path_prefix="/api/token", retry_after=40)
    with pytest.raises(SpotifyRateLimited) as caught:
        client.profile()
    assert caught.value.retry_after_s == pytest.approx(40)


def test_a_rate_limited_code_exchange_waits_out_its_retry_after(spotify_world: SpotifyWorld) -> None:
    """Linking's code exchange meets a 429 with Retry-After 7: it waits that long, then links."""
    spotify_world.state.inject(429, method="POST", path_prefix="/api/token", retry_after=7)
    assert spotify_world.link("bob").profile().display_name == "Bob"
    assert spotify_world.gate_clock.slept and spotify_world.gate_clock.slept[-1] >= 7


def test_a_rotated_refresh_token_whose_answer_is_lost_is_refreshed_with_the_one_kept(
    spotify_world: SpotifyWorld,
) -> None:
    """Spotify rotates the refresh token but the answer breaks off: the client still holds the old
    one, which Spotify keeps valid for an app with a secret, refreshes with it and keeps the new one."""
    spotify_world.state.refresh_rotation = RefreshRotation(every=1)
    client, before = _refresh_forced(spotify_world)
    spotify_world.state.inject("cut", method="POST", path_prefix="/api/token")
    assert client.profile().display_name == "Bob"
    assert spotify_world.state.tokens.refreshes == 2  # the lost one and the one answered
    kept = (client.token_info or {})["refresh_token"]
    assert kept != before["refresh_token"] and kept in spotify_world.state.tokens.refresh_tokens
