"""What the Spotify sandbox knows: apps, users, libraries, playlists, tokens and injected faults.

Plain data with small methods, guarded by one lock because the sandbox may be read from a test's
thread while its server runs in another. Playlists can be saved to and loaded from a JSON file,
so the demo can update the same playlists run after run.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from music import Track

ACCESS_TOKEN_TTL_S = 3600
REFRESH_TOKEN_TTL_S = 183 * 86_400  # refresh tokens expire after six months (since 2026)
CODE_TTL_S = 600


def spotify_id(seed: str) -> str:
    """A stable 22-character base62 id derived from `seed`, shaped like Spotify's."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        chars.append(alphabet[rest])
    return "".join(chars)


@dataclass
class SandboxUser:
    id: str
    display_name: str
    account_id: str
    email: str = ""
    liked: list[tuple[Track, datetime]] = field(default_factory=list)  # newest first
    registered: bool = True  # development-mode apps allow only listed users

    def like(self, track: Track, at: datetime | None = None) -> None:
        """Like a song now: it goes to the top of Liked Songs, as in Spotify."""
        self.liked.insert(0, (track, at or datetime.now(UTC)))


@dataclass
class SandboxPlaylist:
    id: str
    owner_id: str
    name: str
    description: str
    public: bool
    items: list[tuple[str, datetime]] = field(default_factory=list)  # (track uri, added_at)
    followers: set[str] = field(default_factory=set)
    snapshot: int = 1


@dataclass
class Fault:
    status: int
    retry_after: int | None = None
    reason: str | None = None
    path_prefix: str = "/v1/"
    message: str = "injected fault"
    method: str | None = None  # None: any method


@dataclass
class Grant:
    user_id: str
    client_id: str
    scope: str
    expires_at: float


@dataclass
class LoggedRequest:
    method: str
    path: str
    status: int
    at: float


class SandboxState:
    def __init__(
        self,
        *,
        apps: dict[str, str] | None = None,
        redirect_uris: set[str] | None = None,
        auto_approve: bool = True,
        audio_features_enabled: bool = False,
        latency_s: float = 0.0,
        access_token_ttl_s: float = ACCESS_TOKEN_TTL_S,
    ) -> None:
        self.lock = threading.RLock()
        self.apps: dict[str, str] = dict(apps or {})  # client id -> secret
        self.redirect_uris: set[str] | None = redirect_uris  # None accepts any loopback/https URI
        self.auto_approve = auto_approve
        self.audio_features_enabled = audio_features_enabled
        self.latency_s = latency_s
        self.access_token_ttl_s = access_token_ttl_s
        self.users: dict[str, SandboxUser] = {}
        self.default_user: str | None = None
        self.playlists: dict[str, SandboxPlaylist] = {}
        self.tracks: dict[str, Track] = {}
        self.codes: dict[str, tuple[Grant, str, float]] = {}  # code -> (grant, redirect_uri, expires)
        self.used_codes: set[str] = set()
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.faults: deque[Fault] = deque()
        self.requests: list[LoggedRequest] = []
        self.base_url = ""
        self.clock = time.time

    # --- setup ------------------------------------------------------------------------------

    def add_app(self, client_id: str, client_secret: str) -> None:
        with self.lock:
            self.apps[client_id] = client_secret

    def add_user(
        self, user_id: str, display_name: str | None = None, library: list[Track] | None = None
    ) -> SandboxUser:
        """A user whose Liked Songs are `library`, newest first, liked a day apart."""
        with self.lock:
            user = SandboxUser(user_id, display_name or user_id, account_id=spotify_id("account:" + user_id))
            start = datetime(2026, 11, 1, tzinfo=UTC)
            for index, track in enumerate(library or []):
                self.tracks[track.id] = track
                user.liked.append((track, start - timedelta(hours=index)))
            self.users[user_id] = user
            if self.default_user is None:
                self.default_user = user_id
            return user

    def like(self, user_id: str, tracks: list[Track]) -> None:
        with self.lock:
            user = self.users[user_id]
            for track in tracks:
                self.tracks[track.id] = track
                user.like(track)

    # --- faults -----------------------------------------------------------------------------

    def inject(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: int | None = None,
        reason: str | None = None,
        path_prefix: str = "/v1/",
        message: str | None = None,
        method: str | None = None,
    ) -> None:
        """The next `count` matching requests answer `status` (429, 5xx, quota 429…)."""
        with self.lock:
            for _ in range(count):
                self.faults.append(
                    Fault(status, retry_after, reason, path_prefix, message or f"injected {status}", method)
                )

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in list(self.faults):
                if path.startswith(fault.path_prefix) and fault.method in (None, method):
                    self.faults.remove(fault)
                    return fault
            return None

    def expire_access_tokens(self) -> None:
        with self.lock:
            for grant in self.access_tokens.values():
                grant.expires_at = 0

    def revoke_refresh_tokens(self, user_id: str) -> None:
        """As when a member removes the app, or six months have passed: refreshes get invalid_grant."""
        with self.lock:
            for token in [t for t, g in self.refresh_tokens.items() if g.user_id == user_id]:
                del self.refresh_tokens[token]
            for token in [t for t, g in self.access_tokens.items() if g.user_id == user_id]:
                del self.access_tokens[token]

    def unfollow(self, user_id: str, playlist_id: str) -> None:
        """What Spotify's "delete playlist" does: the owner stops following it."""
        with self.lock:
            self.playlists[playlist_id].followers.discard(user_id)

    # --- OAuth --------------------------------------------------------------------------------

    def issue_code(self, user_id: str, client_id: str, scope: str, redirect_uri: str) -> str:
        with self.lock:
            code = "AQ" + secrets.token_urlsafe(48)
            grant = Grant(user_id, client_id, scope, 0)
            self.codes[code] = (grant, redirect_uri, self.clock() + CODE_TTL_S)
            return code

    def issue_tokens(self, grant: Grant, refresh_token: str | None = None) -> dict[str, Any]:
        with self.lock:
            access = "BQ" + secrets.token_urlsafe(64)
            self.access_tokens[access] = Grant(
                grant.user_id, grant.client_id, grant.scope, self.clock() + self.access_token_ttl_s
            )
            body: dict[str, Any] = {
                "access_token": access,
                "token_type": "Bearer",
                "scope": grant.scope,
                "expires_in": int(self.access_token_ttl_s),
            }
            if refresh_token is None:
                refresh_token = "AQ" + secrets.token_urlsafe(64)
                self.refresh_tokens[refresh_token] = Grant(
                    grant.user_id, grant.client_id, grant.scope, self.clock() + REFRESH_TOKEN_TTL_S
                )
                body["refresh_token"] = refresh_token
            return body

    def user_for_token(self, token: str) -> SandboxUser | None:
        with self.lock:
            grant = self.access_tokens.get(token)
            if grant is None or grant.expires_at < self.clock():
                return None
            return self.users.get(grant.user_id)

    # --- playlists -------------------------------------------------------------------------

    def create_playlist(self, owner_id: str, name: str, description: str, public: bool) -> SandboxPlaylist:
        with self.lock:
            playlist = SandboxPlaylist(
                id=spotify_id(f"playlist:{owner_id}:{secrets.token_hex(8)}"),
                owner_id=owner_id,
                name=name,
                description=description,
                public=public,
                followers={owner_id},
            )
            self.playlists[playlist.id] = playlist
            return playlist

    def playlists_of(self, user_id: str) -> list[SandboxPlaylist]:
        with self.lock:
            return [p for p in self.playlists.values() if user_id in p.followers]

    def count(self, method: str | None = None, path_prefix: str = "/v1/") -> int:
        with self.lock:
            return sum(
                1 for r in self.requests if r.path.startswith(path_prefix) and (method is None or r.method == method)
            )

    # --- persistence -------------------------------------------------------------------------

    def save_playlists(self, path: Path) -> None:
        with self.lock:
            data = [
                {
                    "id": p.id,
                    "owner_id": p.owner_id,
                    "name": p.name,
                    "description": p.description,
                    "public": p.public,
                    "items": [[uri, at.isoformat()] for uri, at in p.items],
                    "followers": sorted(p.followers),
                    "snapshot": p.snapshot,
                }
                for p in self.playlists.values()
            ]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"playlists": data}))
        tmp.replace(path)

    def load_playlists(self, path: Path) -> int:
        if not path.exists():
            return 0
        try:
            data = json.loads(path.read_text())["playlists"]
        except (ValueError, KeyError, TypeError):
            return 0  # a damaged state file only costs the demo its old playlists
        with self.lock:
            for p in data:
                self.playlists[p["id"]] = SandboxPlaylist(
                    id=p["id"],
                    owner_id=p["owner_id"],
                    name=p["name"],
                    description=p["description"],
                    public=p["public"],
                    items=[(uri, datetime.fromisoformat(at)) for uri, at in p["items"]],
                    followers=set(p["followers"]),
                    snapshot=p.get("snapshot", 1),
                )
        return len(data)
