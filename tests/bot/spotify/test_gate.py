"""The app-wide gate against the sandbox's emergent 429s: 16 readers share one rolling budget and
one Retry-After instead of each meeting Spotify's limit on its own."""

from __future__ import annotations

from bot.spotify.app import SpotifyApp
from bot.spotify.gate import RequestBudget, SpotifyGate
from bot.spotify.library_sync import fetch_liked_songs
from bot.spotify.retry import RetryPolicy
from sandbox.faults import RateLimit
from sandbox.library import synthetic_library
from tests.bot.spotify.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SpotifyWorld

READERS = 16
LIMIT, WINDOW_S = 20, 2.0  # the sandbox's rolling window, shortened from Spotify's 30 s so the test is quick


def read_with_budget(world: SpotifyWorld, budget: RequestBudget) -> tuple[int, int]:
    """1,500 songs read by 16 threads of an app that really waits; (songs read, 429s Spotify answered)."""
    world.state.add_user("carol", "Carol", synthetic_library(1_500, seed=3))
    app = SpotifyApp(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, api_base=f"{world.base_url}/v1",
                     accounts_base=world.base_url, policy=RetryPolicy(), gate=SpotifyGate(budget, jitter_s=0.5))
    try:
        client = app.user_client(world.token("carol"))
        world.state.rate_limit = RateLimit(LIMIT, WINDOW_S)
        fetched = fetch_liked_songs(client, set(), concurrency=READERS)
    finally:
        app.close()
    return len(fetched.new), sum(1 for r in world.state.requests if r.status == 429)


def test_sixteen_readers_within_the_apps_budget_never_meet_a_429_storm(spotify_world: SpotifyWorld) -> None:
    """With the budget set to Spotify's limit, the readers pace themselves: every song, (almost) no 429."""
    songs, refused = read_with_budget(spotify_world, RequestBudget(LIMIT, WINDOW_S, margin_s=0.5))
    assert songs == 1_500
    assert refused <= 2, f"{refused} 429s: the readers did not share the budget"


def test_sixteen_readers_over_spotifys_limit_wait_it_out_together(spotify_world: SpotifyWorld) -> None:
    """With a budget far above Spotify's limit, the readers meet the 429s, wait them out and read every song."""
    songs, refused = read_with_budget(spotify_world, RequestBudget(1_000, WINDOW_S))
    assert songs == 1_500 and refused <= READERS


def test_a_read_bigger_than_the_budget_waits_for_the_next_window_instead_of_failing(
        spotify_world: SpotifyWorld) -> None:
    """The default policy (a call sits through at most 30 s) and budget (30 s window + 1 s margin):
    when the budget's requests all start at once, as on a fast machine, the next one must wait 31 s
    for room. That is the app's own pacing, never more than one window, not a Spotify 429 to give
    up on: the read waits and gets every song (on a clock that moves only when the gate sleeps)."""
    clock = spotify_world.gate_clock
    spotify_world.state.add_user("dave", "Dave", synthetic_library(1_500, seed=4))
    app = SpotifyApp(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, api_base=f"{spotify_world.base_url}/v1",
                     accounts_base=spotify_world.base_url, policy=RetryPolicy(sleep=lambda s: None),
                     gate=SpotifyGate(RequestBudget(20), monotonic=clock, sleep=clock.sleep, wall_clock=clock.wall))
    try:
        fetched = fetch_liked_songs(app.user_client(spotify_world.token("dave")), set(), concurrency=READERS)
    finally:
        app.close()
    assert len(fetched.new) == 1_500
    assert max(clock.slept) > RetryPolicy().max_wait_s  # it did wait past the per-call limit, for the budget
