"""OAuth bookkeeping: authorisation codes, approvals, access tokens and refresh tokens.

Spotify's rules, as documented: a code works once, for ten minutes, with the redirect URI it was
issued for; access tokens live an hour; a refresh token lives six months from the user's
approval, and refreshing does not extend that ("Refreshing tokens", June 2026 blog "Introducing
refresh token expiration").

What a refresh answers: since 2026 no new refresh token at all, the first one is used until it
expires (hrkfdn/ncspot#1861, aome510/spotify-player#1041). Before, the docs said "a new refresh
token might be returned too"; for the authorisation-code flow with a client secret (genrebot's)
the one used stayed valid all the same ("they are all indefinite until a user specifically
de-authorizes your application", Spotify on spotify/web-api#911; spotify-web-api-java#399). Only
a PKCE client's refresh token was single-use: refused at once as "Refresh token revoked" once
rotated (ramsayleung/rspotify#396). So by default nothing rotates, and a refresh whose answer is
lost leaves the refresh token used as good as before; `RefreshRotation` plays the other answers.

What a token answer says: `scope` is what was granted, which can be less than what was asked
(spotify/web-api-examples#133: a token came back without `streaming`, whatever the request said;
RFC 6749 section 3.3 lets a server grant less and requires `scope` then): `withheld` plays that
per user. `answer_fields` replaces fields of every token answer (`OMITTED` drops one): an
`expires_in` that is missing, zero, negative, a string or absurd, as a proxy or a changed
accounts service might send it.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.records import Grant

ACCESS_TOKEN_TTL_S = 3600
REFRESH_TOKEN_TTL_S = 183 * 86_400  # six months from the user's approval (since 2026)
CODE_TTL_S = 600
OMITTED = object()  # in `TokenBook.answer_fields`: leave the field out of the answer


@dataclass(frozen=True)
class RefreshRotation:
    """Every `every`-th refresh answers a new refresh token; the one used keeps working for
    `grace_s` more seconds, then gets `invalid_grant` "Refresh token revoked". The default keeps
    it working, as Spotify did for a client-secret app's refresh tokens; 0 plays a PKCE client's
    single-use ones. The new token expires when the old one would have."""

    every: int = 1
    grace_s: float = math.inf

    def __post_init__(self) -> None:
        if self.every < 1 or self.grace_s < 0:
            raise ValueError("rotate every 1 or more refreshes, with a grace of 0 s or more")


class TokenBook:
    def __init__(self, lock: threading.RLock, clock: Callable[[], float]) -> None:
        self.lock = lock
        self.clock = clock  # the state's clock, read at each call (tests may swap it)
        self.access_token_ttl_s: float = ACCESS_TOKEN_TTL_S
        self.rotation: RefreshRotation | None = None
        self.codes: dict[str, tuple[Grant, str, float]] = {}  # code -> (grant, redirect_uri, expires)
        self.used_codes: set[str] = set()
        self.approvals: dict[tuple[str, str], frozenset[str]] = {}  # (user, app) -> scopes approved
        self.access: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.retired: dict[str, float] = {}  # rotated-out refresh token -> refused from this moment
        self.refreshes = 0
        self.withheld: dict[str, frozenset[str]] = {}  # user -> scopes never granted, whatever is asked
        self.answer_fields: dict[str, object] = {}  # field -> value every token answer carries instead

    # --- codes ------------------------------------------------------------------------------

    def issue_code(self, user_id: str, client_id: str, scope: str, redirect_uri: str) -> str:
        with self.lock:
            code = "AQ" + secrets.token_urlsafe(48)
            now = self.clock()
            withheld = self.withheld.get(user_id, frozenset())
            granted = " ".join(s for s in scope.split() if s not in withheld)
            self.codes[code] = (Grant(user_id, client_id, granted, 0, now), redirect_uri, now + CODE_TTL_S)
            self.approvals[(user_id, client_id)] = frozenset(scope.split())
            return code

    def withhold(self, user_id: str, scopes: frozenset[str]) -> None:
        with self.lock:
            self.withheld[user_id] = scopes
            for grant in [*self.access.values(), *self.refresh_tokens.values()]:
                if grant.user_id == user_id:
                    grant.scope = " ".join(s for s in grant.scope.split() if s not in scopes)

    def has_approved(self, user_id: str, client_id: str, scope: str) -> bool:
        """Spotify skips the consent page for an app the user already approved these scopes for."""
        with self.lock:
            approved = self.approvals.get((user_id, client_id))
            return approved is not None and frozenset(scope.split()) <= approved

    def exchange(self, code: str, redirect_uri: str, client_id: str) -> dict[str, Any] | str:
        """Tokens for a code, or why not (an `invalid_grant` description)."""
        with self.lock:
            entry = self.codes.pop(code, None)
            if entry is None or code in self.used_codes:
                return "Invalid authorization code"
            self.used_codes.add(code)
            grant, redirect, expires = entry
            if expires < self.clock() or grant.client_id != client_id:
                return "Invalid authorization code"
            if redirect_uri != redirect:
                return "Invalid redirect URI"
            return self.issue(grant)

    # --- tokens -----------------------------------------------------------------------------

    def issue(self, grant: Grant, *, with_refresh_token: bool = True) -> dict[str, Any]:
        with self.lock:
            access = "BQ" + secrets.token_urlsafe(64)
            self.access[access] = Grant(grant.user_id, grant.client_id, grant.scope,
                                        self.clock() + self.access_token_ttl_s, grant.authorized_at)
            body: dict[str, Any] = {
                "access_token": access,
                "token_type": "Bearer",
                "scope": grant.scope,
                "expires_in": int(self.access_token_ttl_s),
            }
            if with_refresh_token:
                refresh = "AQ" + secrets.token_urlsafe(64)
                self.refresh_tokens[refresh] = Grant(grant.user_id, grant.client_id, grant.scope,
                                                     grant.authorized_at + REFRESH_TOKEN_TTL_S, grant.authorized_at)
                body["refresh_token"] = refresh
            for name, value in self.answer_fields.items():
                if value is OMITTED:
                    body.pop(name, None)
                else:
                    body[name] = value
            return body

    def app_token(self, client_id: str) -> dict[str, Any]:
        """The client-credentials grant's answer: an access token for the app alone, no refresh token,
        no scope (Spotify's "Client Credentials Flow" page). The sandbox serves no Web API call for it:
        its user endpoints refuse it as Spotify's do, and its catalogue takes members' tokens only."""
        with self.lock:
            body: dict[str, Any] = {"access_token": "BQ" + secrets.token_urlsafe(64), "token_type": "Bearer",
                                    "expires_in": int(self.access_token_ttl_s)}
            return body

    def refresh(self, refresh_token: str, client_id: str) -> dict[str, Any] | str:
        """Tokens for a refresh, or why not (an `invalid_grant` description)."""
        with self.lock:
            now = self.clock()
            grant = self.refresh_tokens.get(refresh_token)
            if grant is None or grant.client_id != client_id:
                return "Invalid refresh token"
            retired_at = self.retired.get(refresh_token)
            if retired_at is not None and now >= retired_at:
                return "Refresh token revoked"
            if grant.expires_at < now:
                return "Refresh token expired"
            self.refreshes += 1
            rotation = self.rotation
            rotate = rotation is not None and self.refreshes % rotation.every == 0
            body = self.issue(grant, with_refresh_token=rotate)
            if rotation is not None and rotate and retired_at is None:
                self.retired[refresh_token] = now + rotation.grace_s
            return body

    def grant_for(self, access_token: str) -> Grant | None:
        with self.lock:
            grant = self.access.get(access_token)
            if grant is None or grant.expires_at < self.clock():
                return None
            return grant

    def expire_access_tokens(self) -> None:
        with self.lock:
            for grant in self.access.values():
                grant.expires_at = 0

    def revoke(self, user_id: str) -> None:
        with self.lock:
            for token in [t for t, g in self.refresh_tokens.items() if g.user_id == user_id]:
                del self.refresh_tokens[token]
            for token in [t for t, g in self.access.items() if g.user_id == user_id]:
                del self.access[token]
