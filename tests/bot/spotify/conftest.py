"""A Spotify sandbox on a real port, with an app and a member, for spotipy to talk to."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bot.spotify.app import SpotifyApp
from bot.spotify.client import SpotifyUserClient
from bot.spotify.gate import RequestBudget, SpotifyGate
from bot.spotify.retry import RetryPolicy
from sandbox.browser import approve_blocking
from sandbox.library import synthetic_library
from sandbox.server import SandboxThread
from sandbox.state import SandboxState

CLIENT_ID, CLIENT_SECRET = "test-client", "test-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"


class SteppedClock:
    """Seconds that move only when someone "sleeps": the gate's waits cost no real time.
    `wall()` is the same moment as a date, for the quota pause."""

    EPOCH = datetime(2026, 11, 24, 12, tzinfo=UTC)

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def wall(self) -> datetime:
        return self.EPOCH + timedelta(seconds=self())

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


@dataclass
class SpotifyWorld:
    state: SandboxState
    base_url: str
    app: SpotifyApp
    gate_clock: SteppedClock

    def link(self, user_id: str = "alice") -> SpotifyUserClient:
        """The authorisation-code flow as a browser runs it: consent page, redirect, code exchange."""
        return self.app.user_client(self.token(user_id))

    def token(self, user_id: str = "alice", scopes: Sequence[str] | None = None) -> dict[str, Any]:
        """A token as linking gives it; `scopes`: what an older genrebot asked for instead of SCOPES."""
        if scopes is not None:
            self.app.scopes = tuple(scopes)  # an instance attribute shadows the class's SCOPES
        try:
            redirect = approve_blocking(self.app.authorize_url("state-123") + f"&sandbox_user={user_id}")
            query = parse_qs(urlparse(redirect).query)
            assert query["state"] == ["state-123"]
            return self.app.exchange_code(query["code"][0])
        finally:
            vars(self.app).pop("scopes", None)


@pytest.fixture
def spotify_world() -> Iterator[SpotifyWorld]:
    state = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={REDIRECT_URI})
    state.add_user("alice", "Alice", synthetic_library(5000, seed=1))
    state.add_user("bob", "Bob", synthetic_library(120, seed=2))
    gate_clock = SteppedClock()
    with SandboxThread(state) as sandbox:
        app = SpotifyApp(
            CLIENT_ID,
            CLIENT_SECRET,
            REDIRECT_URI,
            api_base=f"{sandbox.base_url}/v1",
            accounts_base=sandbox.base_url,
            policy=RetryPolicy(sleep=lambda s: None),  # tests don't wait out backoffs
            # nor Retry-Afters; pacing has its own tests (test_gate.py), so the budget is out of the way
            gate=SpotifyGate(RequestBudget(100_000), monotonic=gate_clock, sleep=gate_clock.sleep,
                             wall_clock=gate_clock.wall),
        )
        yield SpotifyWorld(state, sandbox.base_url, app, gate_clock)
