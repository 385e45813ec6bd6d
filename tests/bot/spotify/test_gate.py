"""The app-wide gate against the sandbox's emergent 429s: a crowd of readers meets a rate limit
once and waits it out together, at spread-out moments, instead of stampeding."""

from __future__ import annotations

from bot.spotify.app import SpotifyApp
from bot.spotify.gate import RequestBudget, SpotifyGate
from bot.spotify.library_sync import fetch_liked_songs
from bot.spotify.retry import RetryPolicy
from sandbox.faults import RateLimit
from sandbox.library import synthetic_library
from tests.bot.spotify.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SpotifyWorld

READERS = 16
WINDOW_S = 2.0  # the sandbox's rolling window, shortened from Spotify's 30 s so the test is quick


def real_time_app(world: SpotifyWorld) -> SpotifyApp:
    """An app that really waits (the fixture's app does not), budgeted far above the sandbox's limit,
    as a bot that does not know Spotify's limit would be."""
    return SpotifyApp(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, api_base=f"{world.base_url}/v1",
                      accounts_base=world.base_url, policy=RetryPolicy(),
                      gate=SpotifyGate(RequestBudget(1_000, WINDOW_S), jitter_s=0.5))


def test_sixteen_readers_meeting_emergent_429s_do_not_stampede(spotify_world: SpotifyWorld) -> None:
    """1,500 songs read by 16 threads against 20 calls per 2 s: every song arrives and the 429s stay few."""
    spotify_world.state.add_user("carol", "Carol", synthetic_library(1_500, seed=3))
    app = real_time_app(spotify_world)
    client = app.user_client(spotify_world.token("carol"))
    spotify_world.state.rate_limit = RateLimit(20, WINDOW_S)
    fetched = fetch_liked_songs(client, set(), concurrency=READERS)
    app.close()
    assert len(fetched.new) == 1_500
    refused = sum(1 for r in spotify_world.state.requests if r.status == 429)
    print("429s answered:", refused)
    assert refused <= 2 * READERS
