"""The words every genrebot package speaks: a track, a liked song, and what a prediction offers.

Plain records with no I/O, so the Spotify client (`bot.spotify`), the Spotify stand-in
(`sandbox`), storage and the services can all share them without depending on each other.
The classifier reads tracks through its own `TrackLike` protocol and imports nothing from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
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


__all__ = ["LikedSong", "PredictionLike", "Track"]
