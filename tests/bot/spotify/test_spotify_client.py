"""The real spotipy client against the sandbox over HTTP: reading, writing, and faults."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.spotify.errors import (
    AudioFeaturesUnavailable,
    NeedsRelink,
    PlaylistWriteFailed,
    SpotifyQuotaExceeded,
    SpotifyUnavailable,
    UserNotRegistered,
)
from bot.spotify.library_sync import fetch_liked_songs
from bot.spotify.own_playlists import PlaylistSlot
from bot.spotify.playlist_sync import write_playlist
from sandbox.browser import approve_blocking
from sandbox.library import synthetic_library
from tests.bot.spotify.conftest import SpotifyWorld

ROCK, POP = PlaylistSlot("rock"), PlaylistSlot("pop")


def test_link_reads_the_profile_with_its_stable_account_id(spotify_world: SpotifyWorld) -> None:
    """After linking, the profile carries the stable account id, not the user name."""
    client = spotify_world.link("alice")
    profile = client.profile()
    assert profile.display_name == "Alice"
    assert profile.account_id == spotify_world.state.users["alice"].account_id != "alice"


def test_a_code_is_good_for_one_exchange_only(spotify_world: SpotifyWorld) -> None:
    """Exchanging the same authorisation code twice means linking again."""
    redirect = approve_blocking(spotify_world.app.authorize_url("s"))
    code = redirect.split("code=")[1].split("&")[0]
    spotify_world.app.exchange_code(code)
    with pytest.raises(NeedsRelink):
        spotify_world.app.exchange_code(code)


def test_full_read_of_5000_liked_songs_in_order_with_bounded_concurrency(spotify_world: SpotifyWorld) -> None:
    """A full read returns every liked song newest first, one request per page of 50."""
    client = spotify_world.link("alice")
    seen: list[tuple[int, int]] = []
    fetched = fetch_liked_songs(client, set(), concurrency=8, progress=lambda d, t: seen.append((d, t)))
    expected = [t.id for t, _ in spotify_world.state.users["alice"].liked]
    assert [t.id for t, _ in fetched.new] == expected
    assert fetched.total == 5000 and fetched.complete
    assert fetched.requests_made == 100
    assert seen[-1] == (5000, 5000)


def test_incremental_read_stops_at_the_first_known_page(spotify_world: SpotifyWorld) -> None:
    """With known songs, only the newest page is read and only new songs come back."""
    client = spotify_world.link("alice")
    known = {t.id for t, _ in spotify_world.state.users["alice"].liked}
    new_songs = synthetic_library(20, seed=99, prefix="new")
    spotify_world.state.like("alice", new_songs)
    before = spotify_world.state.count("GET", "/v1/me/tracks")
    fetched = fetch_liked_songs(client, known)
    assert {t.id for t, _ in fetched.new} == {t.id for t in new_songs}
    assert spotify_world.state.count("GET", "/v1/me/tracks") - before == 1


def test_playlists_are_written_in_order_and_a_rerun_reuses_the_same_one(spotify_world: SpotifyWorld) -> None:
    """A playlist holds its songs in order (past 100 via POST .../items); a rerun rewrites the same one."""
    client = spotify_world.link("bob")
    uris = [t.uri for t, _ in spotify_world.state.users["bob"].liked]
    first = write_playlist(client, slot=ROCK, existing_id=None, name="Rock · genrebot", description="d", uris=uris)
    assert first.created
    playlist = spotify_world.state.playlists[first.id]
    assert [u for u, _ in playlist.items] == uris and not playlist.public
    again = write_playlist(client, slot=ROCK, existing_id=first.id, name="Rock · genrebot", description="d2", uris=uris[:30])
    assert again.id == first.id and not again.created
    assert [u for u, _ in spotify_world.state.playlists[first.id].items] == uris[:30]
    assert len(spotify_world.state.playlists_of("bob")) == 1
    posts = [r for r in spotify_world.state.requests if r.method == "POST" and r.path.endswith("/items")]
    assert posts, "items past the first 100 go through POST /playlists/{id}/items"
    assert not [r for r in spotify_world.state.requests if r.path.endswith("/tracks") and "playlists" in r.path]


def test_a_playlist_the_member_deleted_is_made_again(spotify_world: SpotifyWorld) -> None:
    """A playlist the member unfollowed is not reused: a new one is made."""
    client = spotify_world.link("bob")
    first = write_playlist(client, slot=POP, existing_id=None, name="Pop · genrebot", description="d", uris=[])
    spotify_world.state.unfollow("bob", first.id)
    second = write_playlist(client, slot=POP, existing_id=first.id, name="Pop · genrebot", description="d", uris=[])
    assert second.created and second.id != first.id


def test_injected_429s_and_500s_are_survived(spotify_world: SpotifyWorld) -> None:
    """Short 429s and a few 500s are waited out and retried."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(429, 2, retry_after=1)
    spotify_world.state.inject(500, 2)
    fetched = fetch_liked_songs(client, set())
    assert len(fetched.new) == 120


def test_persistent_5xx_gives_up_after_bounded_retries(spotify_world: SpotifyWorld) -> None:
    """Endless 503s stop after the policy's attempts with SpotifyUnavailable."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(503, 50)
    with pytest.raises(SpotifyUnavailable):
        client.profile()
    assert spotify_world.state.count(path_prefix="/v1/me") == spotify_world.app.policy.max_attempts


def test_quota_exceeded_stops_at_once_without_retrying(spotify_world: SpotifyWorld) -> None:
    """A QUOTA_EXCEEDED 429 raises at once with its Retry-After, without a retry."""
    client = spotify_world.link("bob")
    spotify_world.state.inject(429, 5, retry_after=36_000, reason="QUOTA_EXCEEDED")
    with pytest.raises(SpotifyQuotaExceeded) as caught:
        client.profile()
    assert caught.value.retry_after_s == 36_000
    assert spotify_world.state.count(path_prefix="/v1/me") == 1


def test_expired_access_token_is_refreshed(spotify_world: SpotifyWorld) -> None:
    """An expired access token is refreshed and the call succeeds."""
    client = spotify_world.link("bob")
    linked = client.token_info
    assert linked is not None
    old = linked["access_token"]
    spotify_world.state.expire_access_tokens()
    assert client.profile().display_name == "Bob"
    refreshed = client.token_info
    assert refreshed is not None and refreshed["access_token"] != old


def test_revoked_refresh_token_means_relink(spotify_world: SpotifyWorld) -> None:
    """A revoked refresh token raises NeedsRelink."""
    client = spotify_world.link("bob")
    spotify_world.state.revoke_refresh_tokens("bob")
    with pytest.raises(NeedsRelink):
        client.profile()


def test_unregistered_development_mode_user_is_told_to_ask_the_owner(spotify_world: SpotifyWorld) -> None:
    """A user not listed for a development-mode app gets UserNotRegistered naming the dashboard."""
    spotify_world.state.users["bob"].registered = False
    client = spotify_world.link("bob")
    with pytest.raises(UserNotRegistered, match="Developer Dashboard"):
        client.profile()


def test_audio_features_refused_to_the_app_raise_audio_features_unavailable(spotify_world: SpotifyWorld) -> None:
    """Spotify's 403 on /audio-features (most apps since 2024) becomes one typed error, asked once."""
    client = spotify_world.link("bob")
    ids = [t.id for t, _ in spotify_world.state.users["bob"].liked]
    with pytest.raises(AudioFeaturesUnavailable):
        client.audio_features(ids)
    assert spotify_world.state.count("GET", "/v1/audio-features") == 1


def test_audio_features_are_read_100_ids_a_request_where_served(spotify_world: SpotifyWorld) -> None:
    """An app that gets audio features reads them in batches of 100, by track id."""
    with_features = [replace(t, audio_features={"energy": 0.5, "tempo": 120.0}) for t in synthetic_library(150, seed=3)]
    spotify_world.state.like("bob", with_features)
    spotify_world.state.audio_features_enabled = True
    features = spotify_world.link("bob").audio_features([t.id for t in with_features])
    assert set(features) == {t.id for t in with_features}
    assert all(f["energy"] == 0.5 and f["tempo"] == 120.0 for f in features.values())
    assert spotify_world.state.count("GET", "/v1/audio-features") == 2


def test_an_unregistered_user_is_not_mistaken_for_an_app_without_audio_features(
    spotify_world: SpotifyWorld,
) -> None:
    """A development-mode 403 for an unlisted user stays UserNotRegistered on every endpoint."""
    client = spotify_world.link("bob")
    spotify_world.state.users["bob"].registered = False
    with pytest.raises(UserNotRegistered):
        client.audio_features(["x"])


def test_failed_write_midway_puts_the_old_songs_back(spotify_world: SpotifyWorld) -> None:
    """PUT of the first 100 lands, every POST of the rest fails: the old 60 songs come back."""
    client = spotify_world.link("bob")
    uris = [t.uri for t, _ in spotify_world.state.users["bob"].liked]
    first = write_playlist(client, slot=ROCK, existing_id=None, name="R · genrebot", description="d", uris=uris[:60])
    spotify_world.state.inject(500, 50, method="POST", path_prefix=f"/v1/playlists/{first.id}/items")
    with pytest.raises(PlaylistWriteFailed) as caught:
        write_playlist(client, slot=ROCK, existing_id=first.id, name="R · genrebot", description="d", uris=uris[::-1][:115])
    assert caught.value.restored and caught.value.playlist_id == first.id
    assert [u for u, _ in spotify_world.state.playlists[first.id].items] == uris[:60]


def test_endless_429s_give_up_after_bounded_waits(spotify_world: SpotifyWorld) -> None:
    """Endless short 429s stop after the policy's waits with SpotifyRateLimited."""
    from bot.spotify.errors import SpotifyRateLimited

    client = spotify_world.link("bob")
    spotify_world.state.inject(429, 100, retry_after=1)
    with pytest.raises(SpotifyRateLimited):
        client.profile()
    assert spotify_world.state.count(path_prefix="/v1/me") == spotify_world.app.policy.max_rate_limit_waits + 1
