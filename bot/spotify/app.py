"""The Spotify app genrebot runs as (client id and secret): OAuth URLs, code exchange, and the
factory of members' clients.

One `SpotifyApp` per process owns the shared HTTP session; `user_client(token_info)` hands each
member's `SpotifyUserClient` its parts. The session never retries by itself (spotipy's default
retry sleeps through any Retry-After, up to an hour, and retries POSTs): every call goes
through genrebot's own fault policy (`bot.spotify.retry`) instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import requests
import spotipy
from requests.adapters import HTTPAdapter

from bot.spotify.client import SpotifyUserClient, granted_scopes
from bot.spotify.errors import NeedsRelink
from bot.spotify.gate import SpotifyGate
from bot.spotify.retry import RetryPolicy, call_with_policy

# What a member approves when they link. `playlist-read-collaborative` (issue #16) lets
# `GET /me/playlists` list the playlists they collaborate on, so `/sort source:` can offer them.
COLLABORATIVE_SCOPE = "playlist-read-collaborative"
SCOPES = (
    "user-library-read",
    "playlist-modify-private",
    "playlist-modify-public",
    "playlist-read-private",
    COLLABORATIVE_SCOPE,
)
# A token without one of these cannot sort at all: the member must link again. A token from
# before a scope was added to SCOPES (playlist-read-collaborative) still sorts Liked Songs and
# their own playlists; only collaborative playlists go unlisted, and members are told so.
REQUIRED_SCOPES = frozenset(
    ("user-library-read", "playlist-modify-private", "playlist-modify-public", "playlist-read-private")
)


class LockedSpotifyOAuth(spotipy.SpotifyOAuth):
    """spotipy's auth manager with a lock, so worker threads sharing it refresh only once, and
    that never asks anyone anything: where spotipy would prompt on the console (a stored token
    whose scopes are not a superset of ours makes `get_access_token` fall back to `input()`),
    the member has to link again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refresh_lock = threading.Lock()

    def get_access_token(self, code: str | None = None, as_dict: bool = True, check_cache: bool = True) -> Any:
        if code is None:
            token = self.cache_handler.get_cached_token()
            if token is None or not scopes_cover(token.get("scope"), self.scope):
                raise NeedsRelink("the stored Spotify authorisation lacks permissions genrebot now asks for")
        with self._refresh_lock:
            return super().get_access_token(code=code, as_dict=as_dict, check_cache=check_cache)

    def get_auth_response(self, open_browser: bool | None = None) -> str:
        raise NeedsRelink("Spotify needs the member to approve genrebot again")


def scopes_cover(granted: str | None, wanted: str | None) -> bool:
    """Whether a token's space-separated `granted` scopes include every one of `wanted`."""
    return set((wanted or "").split()) <= set((granted or "").split())


class SpotifyApp:
    scopes: tuple[str, ...] = SCOPES  # an instance may ask for fewer (an older release's token)

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        api_base: str = "https://api.spotify.com/v1",
        accounts_base: str = "https://accounts.spotify.com",
        *,
        policy: RetryPolicy | None = None,
        gate: SpotifyGate | None = None,
        timeout_s: float = 10.0,
        pool_size: int = 32,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.api_base = api_base.rstrip("/")
        self.accounts_base = accounts_base.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.gate = gate or SpotifyGate()  # one per process: every member's calls share it
        self.timeout_s = timeout_s
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def authorize_url(self, state: str) -> str:
        query = urlencode(
            {
                "client_id": self.client_id,
                "response_type": "code",
                "redirect_uri": self.redirect_uri,
                "scope": " ".join(self.scopes),
                "state": state,
                # Always show Spotify's consent page, naming the Spotify account that approves:
                # without it, a browser that approved genrebot before goes straight back.
                "show_dialog": "true",
            }
        )
        return f"{self.accounts_base}/authorize?{query}"

    def auth_manager(
        self, token_info: dict[str, Any] | None = None, *, scopes: Iterable[str] | None = None
    ) -> LockedSpotifyOAuth:
        """spotipy's auth manager for a token. `scopes` must be ones the token holds: spotipy
        treats a token lacking any scope it was asked for as no token and prompts on the console."""
        manager = LockedSpotifyOAuth(
            client_id=self.client_id,
            client_secret=self.client_secret,
            redirect_uri=self.redirect_uri,
            scope=" ".join(sorted(self.scopes if scopes is None else scopes)),
            cache_handler=spotipy.MemoryCacheHandler(token_info),
            open_browser=False,
            requests_session=self.session,
            requests_timeout=self.timeout_s,
        )
        manager.OAUTH_AUTHORIZE_URL = f"{self.accounts_base}/authorize"
        manager.OAUTH_TOKEN_URL = f"{self.accounts_base}/api/token"
        return manager

    def exchange_code(self, code: str) -> dict[str, Any]:
        """Trade the callback's code for tokens. The caller has already verified `state`.

        Not repeated when the answer is lost or unreadable: Spotify takes a code once, so asking again could only
        be refused; the member is told Spotify did not answer (WriteOutcomeUnknown) instead."""
        manager = self.auth_manager()
        call_with_policy(
            lambda: manager.get_access_token(code=code, as_dict=False, check_cache=False),
            self.policy,
            self.gate,
            idempotent=False,
        )
        token: dict[str, Any] = manager.cache_handler.get_cached_token()
        return token

    def user_client(self, token_info: dict[str, Any]) -> SpotifyUserClient:
        """A client for one member, seeded with their token (see `SpotifyUserClient.token_info`).

        Raises NeedsRelink when the token lacks a scope genrebot cannot work without. The auth
        manager asks only for what the token was granted, so a token from before a scope was added
        to SCOPES works (with what it allows) instead of making spotipy prompt for a new consent."""
        granted = granted_scopes(token_info)
        missing = REQUIRED_SCOPES - granted
        if missing:
            raise NeedsRelink(f"the stored authorisation lacks {', '.join(sorted(missing))}")
        return SpotifyUserClient(
            auth_manager=self.auth_manager(token_info, scopes=granted & frozenset(self.scopes)),
            requests_session=self.session,
            api_base=self.api_base,
            policy=self.policy,
            gate=self.gate,
            requests_timeout=self.timeout_s,
        )

    def close(self) -> None:
        self.session.close()
