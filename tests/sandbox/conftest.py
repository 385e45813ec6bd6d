"""The sandbox on a real port, and the real spotipy client linked to it through the real
authorisation-code flow (consent page, redirect, code exchange). No genrebot code involved."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
import spotipy

from sandbox.library import synthetic_library
from sandbox.server import SandboxThread
from sandbox.state import SandboxState

CLIENT_ID, CLIENT_SECRET = "sandbox-test-client", "sandbox-test-secret"
REDIRECT_URI = "http://127.0.0.1:9/callback"
EVERY_SCOPE = ("user-library-read playlist-read-private playlist-read-collaborative "
               "playlist-modify-private playlist-modify-public user-follow-read")


class FakeClock:
    """Seconds that move only when a test says so (rolling windows, expiries)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sandbox:
    state: SandboxState
    base_url: str
    clock: FakeClock = field(default_factory=FakeClock)

    def authorize_url(self, scope: str = EVERY_SCOPE, *, user: str | None = None, redirect_uri: str = REDIRECT_URI,
                      client_id: str = CLIENT_ID, **extra: str) -> str:
        query = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri, "scope": scope,
                 "state": "state-1", **extra}
        if user:
            query["sandbox_user"] = user
        return f"{self.base_url}/authorize?{urlencode(query)}"

    def oauth(self, scope: str = EVERY_SCOPE, *, client_id: str = CLIENT_ID,
              client_secret: str = CLIENT_SECRET) -> spotipy.SpotifyOAuth:
        manager = spotipy.SpotifyOAuth(client_id=client_id, client_secret=client_secret, redirect_uri=REDIRECT_URI,
                                       scope=scope, cache_handler=spotipy.MemoryCacheHandler(), open_browser=False,
                                       requests_session=requests.Session())
        manager.OAUTH_AUTHORIZE_URL = f"{self.base_url}/authorize"
        manager.OAUTH_TOKEN_URL = f"{self.base_url}/api/token"
        return manager

    def code_for(self, user: str, scope: str = EVERY_SCOPE, client_id: str = CLIENT_ID) -> str:
        """What the browser does: open /authorize (the scripted user approves), read the redirect."""
        response = requests.get(self.authorize_url(scope, user=user, client_id=client_id), allow_redirects=False,
                                timeout=10)
        assert response.status_code == 302, response.text
        return parse_qs(urlparse(response.headers["Location"]).query)["code"][0]

    def linked_oauth(self, user: str = "alice", scope: str = EVERY_SCOPE) -> tuple[spotipy.SpotifyOAuth, dict[str, Any]]:
        """spotipy's auth manager after the code exchange, and the tokens it got."""
        manager = self.oauth(scope)
        manager.get_access_token(self.code_for(user, scope), as_dict=False, check_cache=False)
        return manager, manager.cache_handler.get_cached_token()

    def link(self, user: str = "alice", scope: str = EVERY_SCOPE, *, client_id: str = CLIENT_ID,
             client_secret: str = CLIENT_SECRET, timeout_s: float = 10) -> spotipy.Spotify:
        """spotipy for `user`, with the scopes they approved, retrying nothing by itself."""
        manager = self.oauth(scope, client_id=client_id, client_secret=client_secret)
        manager.get_access_token(self.code_for(user, scope, client_id), as_dict=False, check_cache=False)
        client = spotipy.Spotify(auth_manager=manager, requests_session=requests.Session(), retries=0,
                                 requests_timeout=timeout_s)
        client.prefix = f"{self.base_url}/v1/"
        return client

    def api(self, client: spotipy.Spotify, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Raw HTTP with the client's token, for requests spotipy cannot express."""
        token = client.auth_manager.cache_handler.get_cached_token()["access_token"]
        return requests.request(method, f"{self.base_url}/v1{path}", headers={"Authorization": f"Bearer {token}"},
                                timeout=10, **kwargs)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    clock = FakeClock()
    state = SandboxState(apps={CLIENT_ID: CLIENT_SECRET, "other-app": "other-secret"}, redirect_uris={REDIRECT_URI})
    state.clock = clock
    state.add_user("alice", "Alice", synthetic_library(120, seed=1))
    state.add_user("bob", "Bob", synthetic_library(60, seed=2))
    with SandboxThread(state) as thread:
        yield Sandbox(state, thread.base_url, clock)


def error_of(response: requests.Response) -> tuple[int, str]:
    """Spotify's error body: `{"error": {"status": N, "message": "..."}}`."""
    body = response.json()["error"]
    assert body["status"] == response.status_code
    return body["status"], body["message"]
