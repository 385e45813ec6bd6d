"""The sandbox's records: users, playlists, catalogue extras, grants and the request log.

Plain data. `SandboxState` owns the collections and the lock; the HTTP areas read these records
and turn them into Spotify's JSON (`sandbox.api.objects`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote_plus

from music import Track

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def spotify_id(seed: str) -> str:
    """A stable 22-character base62 id derived from `seed`, shaped like Spotify's."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        chars.append(BASE62[rest])
    return "".join(chars)


def is_spotify_id(value: str) -> bool:
    """Spotify's ids are 22 base62 characters; anything else gets 400 "Invalid base62 id"."""
    return len(value) == 22 and all(c in BASE62 for c in value)


@dataclass
class SandboxUser:
    id: str
    display_name: str
    account_id: str
    email: str = ""
    liked: list[tuple[Track, datetime]] = field(default_factory=list)  # newest first
    registered: bool = True  # development-mode apps allow only listed users

    def like(self, track: Track, at: datetime | None = None) -> None:
        """Like a song now: it goes to the top of Liked Songs, as in Spotify. A song already liked
        stays where it is: a library holds a song once, so no answer lists it twice."""
        if any(liked.uri == track.uri for liked, _ in self.liked):
            return
        self.liked.insert(0, (track, at or datetime.now(UTC)))


@dataclass
class SandboxPlaylist:
    id: str
    owner_id: str
    name: str
    description: str
    public: bool
    items: list[tuple[str, datetime]] = field(default_factory=list)  # (item uri, added_at)
    followers: set[str] = field(default_factory=set)  # who has it in their library, owner included
    snapshot: int = 1
    collaborative: bool = False
    collaborators: set[str] = field(default_factory=set)  # users invited to edit (collaborative only)

    def is_editor(self, user_id: str) -> bool:
        """The owner, or a collaborator of a collaborative playlist: who may read and change items."""
        return user_id == self.owner_id or (self.collaborative and user_id in self.collaborators)


@dataclass(frozen=True)
class LocalFile(Track):
    """A file from someone's computer in a playlist (or among Liked Songs): Spotify knows only
    its tags, has no id for it, and names it by a `spotify:local:` URI. A `Track`, so libraries
    stay lists of tracks; build one with `local_file(...)`."""

    @property
    def uri(self) -> str:
        # Spotify's documented form: spotify:local:{artist}:{album}:{title}:{seconds}, URL-encoded.
        artist = self.artists[0] if self.artists else ""
        parts = (quote_plus(artist), quote_plus(self.album), quote_plus(self.name), str((self.duration_ms or 0) // 1000))
        return "spotify:local:" + ":".join(parts)


def local_file(artist: str, album: str, title: str, duration_s: int) -> LocalFile:
    return LocalFile(id="", name=title, artists=(artist,), album=album, duration_ms=duration_s * 1000)


@dataclass(frozen=True)
class Episode:
    """A podcast episode: playlists may hold them beside songs."""

    id: str
    name: str
    show: str
    publisher: str
    release_date: str  # YYYY-MM-DD
    duration_ms: int

    @property
    def uri(self) -> str:
        return f"spotify:episode:{self.id}"


@dataclass
class Grant:
    """What one token allows: whose account, which app, which scopes, until when."""

    user_id: str
    client_id: str
    scope: str
    expires_at: float
    authorized_at: float = 0.0  # when the user approved; a refresh token's lifetime counts from here

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())


@dataclass
class LoggedRequest:
    method: str
    path: str
    status: int
    at: float
