"""Typed records that storage takes and returns: members, playlists, schedules,
runs and their outcomes, sort preferences, counts.

Plain dataclasses, no SQL, no I/O. The records other packages share with storage (`Track`,
`LikedSong`) live in `music`, which storage, the Spotify client and the
sandbox can all import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from music import LIKED_SONGS_KEY


class LinkStatus(StrEnum):
    LINKED = "linked"
    NEEDS_RELINK = "needs_relink"
    UNLINKED = "unlinked"


@dataclass(frozen=True, slots=True)
class User:
    discord_id: int
    spotify_id: str
    display_name: str
    linked_at: datetime
    scopes: tuple[str, ...]
    status: LinkStatus
    link_generation: int  # raised by every link; token saves must name the one they loaded under


@dataclass(frozen=True, slots=True)
class LinkToken:
    """A member's token with the link generation it belongs to."""

    token_info: dict[str, Any]
    link_generation: int


@dataclass(frozen=True, slots=True)
class PlaylistRecord:
    discord_id: int
    key: str  # a genre, or "genre/subgenre"
    playlist_id: str
    url: str
    track_count: int
    updated_at: datetime
    source: str = LIKED_SONGS_KEY  # what the playlist was sorted from: music.SortSource.key
    tracks_digest: str | None = None  # of the songs it was last written with, in order (None: unknown)
    # Spotify's snapshot id when that write ended, and its songs: they are what the playlist holds
    # while its snapshot id is still this one (None: unknown, or a write has not ended).
    snapshot_id: str | None = None
    track_ids: tuple[str, ...] | None = None
    details_digest: str | None = None  # of the name and description that write set, its date aside


@dataclass(frozen=True, slots=True)
class Schedule:
    discord_id: int
    enabled: bool
    weekday: int  # 0 = Monday
    hour: int  # 0-23, in `timezone`
    timezone: str  # IANA name
    last_run: datetime | None
    next_run: datetime | None
    # When the first try of a refresh Spotify held back began (its retries count from then); a
    # time before the refresh's weekly time is an earlier week's.
    retrying_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class RefreshProgress:
    """What the tries so far of a weekly refresh not yet finished did to one source: the songs
    they found new, the playlists they made, and those they emptied."""

    new_ids: frozenset[str] = frozenset()
    created_playlists: frozenset[str] = frozenset()
    emptied_playlists: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RefreshDm:
    """One DM a weekly refresh has to send, as Discord takes it (text, an embed as JSON, one
    attachment), and the runs whose DM status its outcome sets. `tried_at`: a send began whose
    answer never came (it may have arrived)."""

    discord_id: int
    run_ids: tuple[int, ...]
    content: str | None = None
    embed: dict[str, Any] | None = None
    attachment_name: str | None = None
    attachment: bytes | None = None
    id: int = 0  # 0 until queued
    tried_at: datetime | None = None


class RunTrigger(StrEnum):
    COMMAND = "command"
    SCHEDULE = "schedule"
    DEMO = "demo"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PAUSED = "paused"  # Spotify's daily quota ran out; resumes later
    POSTPONED = "postponed"  # a weekly refresh that met the member's running sort; retried next tick
    DEFERRED = "deferred"  # a weekly refresh's try that met Spotify down or slowing down; tried again later


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    discord_id: int
    trigger: RunTrigger
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    counts: Mapping[str, int]  # playlist key -> songs in it after the run
    new_songs: int
    new_counts: Mapping[str, int]  # playlist key -> new songs added this run
    unsorted: int
    error: str | None
    dm_status: str | None  # None, "sent", "closed" (DMs closed), "failed"
    error_id: str | None = None  # a bug's: the id the log gives its traceback under (and the member got)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended, as `RunRepository.finish` records it."""

    status: RunStatus
    counts: Mapping[str, int] = field(default_factory=dict)  # playlist key -> songs in it after the run
    new_songs: int = 0
    new_counts: Mapping[str, int] = field(default_factory=dict)  # playlist key -> new songs added
    unsorted: int = 0
    error: str | None = None

    @classmethod
    def failed(cls, error: str) -> RunOutcome:
        return cls(RunStatus.FAILED, error=error)

    @classmethod
    def paused(cls, error: str) -> RunOutcome:
        return cls(RunStatus.PAUSED, error=error)

    @classmethod
    def postponed(cls, reason: str) -> RunOutcome:
        return cls(RunStatus.POSTPONED, error=reason)

    @classmethod
    def deferred(cls, error: str) -> RunOutcome:
        return cls(RunStatus.DEFERRED, error=error)


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A live OAuth state: the member who ran /link, with the names Discord showed then."""

    discord_id: int
    member_display_name: str | None
    member_username: str | None


@dataclass(frozen=True, slots=True)
class SortPreferences:
    """The choices a member's weekly refresh repeats (their last real sort)."""

    genres: tuple[str, ...] | None  # playlist keys in the member's order; None = every genre
    level: str  # "family" or "genre" (V9 turned the six-genre model's "genre"/"subgenre" into these)
    min_confidence: float
    min_playlist_size: int
    multi: bool


@dataclass(frozen=True, slots=True)
class GenreCount:
    genre: str  # a family's key, or a genre's
    count: int


@dataclass(frozen=True, slots=True)
class MemberGenreCount:
    discord_id: int
    count: int
    share: float  # count / the member's classified liked songs
