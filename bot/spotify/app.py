"""The Spotify app genrebot runs as (client id and secret): OAuth URLs, code exchange, and the
factory of members' clients.

One `SpotifyApp` per process owns the shared HTTP session; `user_client(token_info)` hands each
member's `SpotifyUserClient` its parts. The session never retries by itself (spotipy's default
retry sleeps through any Retry-After, up to an hour, and retries POSTs): every call goes
through genrebot's own fault policy (`bot.spotify.retry`) instead.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import requests
import spotipy
from requests.adapters import HTTPAdapter

from bot.spotify.client import SpotifyUserClient, granted_scopes
from bot.spotify.errors import (
    AppCredentialsRejected,
    NeedsRelink,
    ScopesMissing,
    SpotifyError,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from bot.spotify.gate import SpotifyGate
from bot.spotify.retry import (
    DEFAULT_RATE_LIMIT_WAIT_S,
    MAX_RATE_LIMIT_WAIT_S,
    RetryPolicy,
    call_with_policy,
    retry_after_s,
)

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
# Spotify documents an access token's lifetime as an hour; `expires_in` is trusted only within
# [MIN, MAX] (see `access_token_lifetime_s`).
MAX_ACCESS_TOKEN_LIFETIME_S = 3_600
MIN_ACCESS_TOKEN_LIFETIME_S = 120  # spotipy refreshes 60 s early: shorter would refresh before every call


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

    def _add_custom_values_to_token_info(self, token_info: dict[str, Any]) -> dict[str, Any]:
        """What spotipy adds to a token answer (code exchange or refresh), minus two of its habits:
        it overwrites the answer's `scope` with the scopes asked for, so a token granted fewer
        would pass for one granted all (RFC 6749 3.3: the answer names the scopes when they differ;
        without `scope` they are the ones asked for), and it adds `expires_in` to the clock as
        sent, failing on a missing or textual one and trusting a zero (a refresh before every
        call) or an absurd one (never refreshed ahead)."""
        granted = token_info.get("scope")
        token_info["expires_in"] = access_token_lifetime_s(token_info.get("expires_in"))
        token_info["expires_at"] = int(time.time()) + token_info["expires_in"]
        token_info["scope"] = granted if isinstance(granted, str) else self.scope
        return token_info


def check_app_credentials(client_id: str, client_secret: str, accounts_base: str, *, timeout_s: float = 10.0) -> None:
    """Ask Spotify's accounts service once whether it takes the app's client id and secret: the
    client-credentials grant (`POST /api/token`, `grant_type=client_credentials`, the app's Basic
    auth), the one request that needs nothing but them. Nothing is kept of the token it answers.

    Raises AppCredentialsRejected when Spotify refuses them (400 `invalid_client`), and another
    SpotifyError when it cannot tell: no answer, a 429 (SpotifyRateLimited), a 5xx or anything else
    (SpotifyUnavailable). Never retried: start-up goes on after a warning instead."""
    url = f"{accounts_base.rstrip('/')}/api/token"
    # Basic auth built here from UTF-8: requests encodes it as Latin-1, and fails on a secret pasted
    # with a character beyond it (which Spotify then refuses, as it should).
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
    try:
        answer = requests.post(url, data={"grant_type": "client_credentials"}, timeout=timeout_s,
                               headers={"Authorization": f"Basic {basic}"})
    except requests.RequestException as exc:
        raise SpotifyUnavailable(f"no answer from {url} ({type(exc).__name__})") from None
    if answer.ok:
        return
    try:
        body = answer.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if answer.status_code in (400, 401) and error == "invalid_client":
        description = body.get("error_description") if isinstance(body, dict) else None
        raise AppCredentialsRejected(str(description or "")[:100])
    if answer.status_code == 429:
        raise SpotifyRateLimited(retry_after_s(answer.headers, default=DEFAULT_RATE_LIMIT_WAIT_S,
                                               cap=MAX_RATE_LIMIT_WAIT_S))
    detail = f"{url} answered {answer.status_code}" + (f" {error}" if isinstance(error, str) else "")
    raise SpotifyUnavailable(detail[:200])


def app_credentials_problem(client_id: str, client_secret: str, accounts_base: str) -> tuple[str, bool] | None:
    """What `genrebot run` says about the app's credentials before it starts: None when Spotify took
    them, else (the line, whether start-up must stop). Only Spotify's refusal stops it; a Spotify that
    cannot be reached, is rate limiting or failing only gets a warning (the bot works without it)."""
    try:
        check_app_credentials(client_id, client_secret, accounts_base)
    except AppCredentialsRejected as exc:
        return exc.operator_line, True
    except SpotifyError as exc:
        return (f"could not check SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET with Spotify ({exc}); starting "
                "anyway: if they are wrong, every /link will fail and the log will say so"), False
    return None


def access_token_lifetime_s(expires_in: object) -> int:
    """Seconds a token answer's `expires_in` can be trusted for: within Spotify's documented hour and
    at least MIN_ACCESS_TOKEN_LIFETIME_S. Missing, unreadable, not positive or not finite is taken as
    the hour: a token that dies sooner is refreshed on its first 401 (the fault policy's)."""
    try:
        seconds = float(expires_in)  # type: ignore[arg-type]  # anything JSON can carry
    except (TypeError, ValueError):
        return MAX_ACCESS_TOKEN_LIFETIME_S
    if not math.isfinite(seconds) or seconds <= 0:
        return MAX_ACCESS_TOKEN_LIFETIME_S
    return int(min(max(seconds, MIN_ACCESS_TOKEN_LIFETIME_S), MAX_ACCESS_TOKEN_LIFETIME_S))


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
        be refused; the member is told Spotify did not answer (WriteOutcomeUnknown) instead. A 5xx is made
        again (the accounts service may have failed before using the code); if the code is then refused, the
        5xx came after Spotify used it, and the member is told Spotify failed, not that the code expired."""
        manager = self.auth_manager()
        tries = 0

        def exchange() -> Any:
            nonlocal tries
            tries += 1
            return manager.get_access_token(code=code, as_dict=False, check_cache=False)

        try:
            call_with_policy(exchange, self.policy, self.gate, idempotent=False)
        except NeedsRelink:
            if tries > 1:
                raise SpotifyUnavailable("Spotify's accounts service failed, then refused the code it had used") from None
            raise
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
            raise ScopesMissing(missing)
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
