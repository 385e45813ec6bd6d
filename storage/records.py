"""Typed records that storage reads and writes; plain dataclasses, no SQL, no I/O.

`Track` is genrebot's one description of a song. The Spotify client produces it, storage keeps
it, and the classifier reads it (through its own `TrackLike` protocol, so `classifier` does not
import `storage`). Audio-feature names live in `classifier.features.AUDIO_FEATURES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Track:
    id: str
    name: str
    artists: tuple[str, ...]
    artist_ids: tuple[str, ...] = ()
    album: str = ""
    release_date: str | None = None  # "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    duration_ms: int | None = None
    explicit: bool | None = None
    # None when Spotify served no audio features for this track (the usual case since 2024).
    audio_features: Mapping[str, float] | None = None

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"


@dataclass(frozen=True, slots=True)
class LikedSong:
    track_id: str
    added_at: datetime


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


class PredictionLike(Protocol):
    """What storage and playlist planning need of a prediction (classifier.Prediction has it)."""

    @property
    def genre(self) -> str: ...

    @property
    def genre_confidence(self) -> float: ...

    @property
    def subgenre(self) -> str | None: ...

    @property
    def subgenre_confidence(self) -> float | None: ...

    @property
    def genre_probabilities(self) -> Mapping[str, float]: ...


@dataclass(frozen=True, slots=True)
class StoredPrediction:
    track_id: str
    model_version: str
    genre: str
    genre_confidence: float
    subgenre: str | None
    subgenre_confidence: float | None
    genre_probabilities: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlaylistRecord:
    discord_id: int
    key: str  # a genre, or "genre/subgenre"
    playlist_id: str
    url: str
    track_count: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Schedule:
    discord_id: int
    enabled: bool
    weekday: int  # 0 = Monday
    hour: int  # 0-23, in `timezone`
    timezone: str  # IANA name
    last_run: datetime | None
    next_run: datetime | None


class RunTrigger(StrEnum):
    COMMAND = "command"
    SCHEDULE = "schedule"
    DEMO = "demo"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PAUSED = "paused"  # Spotify's daily quota ran out; resumes later


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


@dataclass(frozen=True, slots=True)
class GenreCount:
    genre: str
    count: int


@dataclass(frozen=True, slots=True)
class MemberGenreCount:
    discord_id: int
    count: int
    share: float  # count / the member's classified liked songs
