"""The words every genrebot package speaks: a track, a liked song, what a prediction offers, and
what a sort reads (its source).

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


LIKED_SONGS_KEY = "liked"
PLAYLIST_KEY_PREFIX = "playlist:"


@dataclass(frozen=True, slots=True)
class SortSource:
    """What a sort reads: the member's Liked Songs, or one of their playlists (by Spotify id).

    `key` names the source in storage and in genrebot's playlist records ("liked" or
    "playlist:<id>"); `name` is what members see ("Liked Songs", the playlist's name when chosen).
    """

    playlist_id: str | None  # None: Liked Songs
    name: str

    @property
    def key(self) -> str:
        return LIKED_SONGS_KEY if self.playlist_id is None else PLAYLIST_KEY_PREFIX + self.playlist_id

    @property
    def is_liked_songs(self) -> bool:
        return self.playlist_id is None

    @classmethod
    def from_key(cls, key: str, name: str) -> SortSource:
        """The source a stored key names; raises ValueError for a key genrebot never wrote."""
        if key == LIKED_SONGS_KEY:
            return LIKED_SONGS
        if key.startswith(PLAYLIST_KEY_PREFIX) and len(key) > len(PLAYLIST_KEY_PREFIX):
            return cls(key[len(PLAYLIST_KEY_PREFIX) :], name)
        raise ValueError(f"not a sort source key: {key!r}")


LIKED_SONGS = SortSource(None, "Liked Songs")


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


__all__ = ["LIKED_SONGS", "LIKED_SONGS_KEY", "LikedSong", "PredictionLike", "SortSource", "Track"]
