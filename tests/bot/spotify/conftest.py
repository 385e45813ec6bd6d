"""A Spotify sandbox on a real port, with an app and a member, for spotipy to talk to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from bot.spotify.app import SpotifyApp
from bot.spotify.client import SpotifyUserClient
from bot.spotify.retry import RetryPolicy
from sandbox.library import synthetic_library
from sandbox.server import SandboxThread
from sandbox.state import SandboxState

CLIENT_ID, CLIENT_SECRET = "test-client", "test-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"


@dataclass
class SpotifyWorld:
    state: SandboxState
    base_url: str
    app: SpotifyApp

    def link(self, user_id: str = "alice") -> SpotifyUserClient:
        """The authorisation-code flow as a browser runs it: consent page, redirect, code exchange."""
        return self.app.user_client(self.token(user_id))

    def token(self, user_id: str = "alice", scopes: Sequence[str] | None = None) -> dict[str, Any]:
        """A token as linking gives it; `scopes`: what an older genrebot asked for instead of SCOPES."""
        if scopes is not None:
            self.app.scopes = tuple(scopes)  # an instance attribute shadows the class's SCOPES
        try:
            response = requests.get(
                self.app.authorize_url("state-123") + f"&sandbox_user={user_id}", allow_redirects=False, timeout=10
            )
            assert response.status_code == 302
            query = parse_qs(urlparse(response.headers["Location"]).query)
            assert query["state"] == ["state-123"]
            return self.app.exchange_code(query["code"][0])
        finally:
            vars(self.app).pop("scopes", None)


@pytest.fixture
def spotify_world() -> Iterator[SpotifyWorld]:
    state = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={REDIRECT_URI})
    state.add_user("alice", "Alice", synthetic_library(5000, seed=1))
    state.add_user("bob", "Bob", synthetic_library(120, seed=2))
    with SandboxThread(state) as sandbox:
        app = SpotifyApp(
            CLIENT_ID,
            CLIENT_SECRET,
            REDIRECT_URI,
            api_base=f"{sandbox.base_url}/v1",
            accounts_base=sandbox.base_url,
            policy=RetryPolicy(sleep=lambda s: None),  # tests don't wait out backoffs
        )
        yield SpotifyWorld(state, sandbox.base_url, app)
