"""Turning a track into the network's inputs, the same way in training and at run time.

Inputs: hashed word uni/bigrams of the track, album and artist names and character trigrams of
track and artist names (one EmbeddingBag); the primary artist's id in a learned vocabulary
(0 = unknown); and a numeric block: release year, duration, explicit, each with a "missing"
flag, plus Spotify's audio features and a mask saying whether they are present.
Pure Python and numpy: no pandas, fast enough for tens of thousands of tracks a second.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

AUDIO_FEATURES: tuple[str, ...] = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
)
META_FEATURES: tuple[str, ...] = (
    "year",
    "year_missing",
    "duration",
    "duration_missing",
    "explicit",
    "explicit_missing",
)
_WORD = re.compile(r"\w+", re.UNICODE)


class TrackLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def artists(self) -> Sequence[str]: ...

    @property
    def album(self) -> str: ...

    @property
    def release_date(self) -> str | None: ...

    @property
    def duration_ms(self) -> int | None: ...

    @property
    def explicit(self) -> bool | None: ...

    @property
    def audio_features(self) -> Mapping[str, float] | None: ...


@dataclass
class FeatureSchema:
    """Everything featurising needs besides code: stored in the model's JSON."""

    hash_buckets: int = 1 << 17
    artist_vocab: dict[str, int] = field(default_factory=dict)  # normalised name -> index (0 = unknown)
    audio_mean: list[float] = field(default_factory=lambda: [0.0] * len(AUDIO_FEATURES))
    audio_std: list[float] = field(default_factory=lambda: [1.0] * len(AUDIO_FEATURES))
    year_mean: float = 2010.0
    year_std: float = 10.0
    duration_mean: float = 12.3  # log(ms)
    duration_std: float = 0.3
    # Quantile bin edges for the audio features, then year, then duration: binned values get
    # their own embeddings, which lets the network carve tabular features like a tree would.
    bin_edges: list[list[float]] = field(default_factory=list)

    @property
    def numeric_size(self) -> int:
        return len(META_FEATURES) + len(AUDIO_FEATURES) + 1


@dataclass
class Batch:
    token_ids: np.ndarray  # int64, flat
    token_offsets: np.ndarray  # int64, one per track
    artist_ids: np.ndarray  # int64
    numeric: np.ndarray  # float32 [n, numeric_size]
    audio_present: np.ndarray  # bool [n]
    bins: np.ndarray  # int64 [n, BINNED_FEATURES]: index into the bin embedding


N_BINS = 16
BINNED_FEATURES = len(AUDIO_FEATURES) + 2  # audio features, year, duration


def normalise(text: str | None) -> str:
    if not text:
        return ""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def primary_artist(artists: Sequence[str]) -> str:
    for artist in artists:
        name = normalise(artist)
        if name:
            return name
    return ""


def parse_year(release_date: str | None) -> float | None:
    if not release_date or len(release_date) < 4 or not release_date[:4].isdigit():
        return None
    year = int(release_date[:4])
    return float(year) if 1900 <= year <= 2100 else None


def _tokens(track: TrackLike) -> list[str]:
    name = normalise(track.name)
    album = normalise(track.album)
    artists = [normalise(a) for a in track.artists if a]
    out: list[str] = []
    words = _WORD.findall(name)
    out.extend("t " + w for w in words)
    out.extend("tb " + a + " " + b for a, b in zip(words, words[1:], strict=False))
    album_words = _WORD.findall(album)
    out.extend("l " + w for w in album_words)
    for artist in artists:
        # Artist identity comes from the artist embedding; words generalise to unseen artists.
        out.extend("a " + w for w in _WORD.findall(artist))
    # Character 3- and 4-grams carry language and style ("ción", "feat", "remix") to unseen artists.
    for prefix, text in (("c", name), ("L", album), ("C", artists[0] if artists else "")):
        padded = f" {text} "
        out.extend(prefix + " " + padded[i : i + 3] for i in range(len(padded) - 2))
        out.extend(prefix + "4 " + padded[i : i + 4] for i in range(len(padded) - 3))
    if len(artists) > 1:
        out.append("n multi-artist")
    if not out:
        out.append("<empty>")
    return out


def featurise(tracks: Sequence[TrackLike], schema: FeatureSchema) -> Batch:
    n = len(tracks)
    buckets = schema.hash_buckets
    token_ids: list[int] = []
    offsets = np.zeros(n, dtype=np.int64)
    artist_ids = np.zeros(n, dtype=np.int64)
    numeric = np.zeros((n, schema.numeric_size), dtype=np.float32)
    present = np.zeros(n, dtype=bool)
    crc = zlib.crc32
    vocab = schema.artist_vocab
    audio_mean = schema.audio_mean
    audio_std = schema.audio_std
    meta = len(META_FEATURES)
    edges = [np.asarray(e, dtype=np.float64) for e in schema.bin_edges] if schema.bin_edges else None
    raw = np.full((n, BINNED_FEATURES), np.nan, dtype=np.float64)
    for row, track in enumerate(tracks):
        offsets[row] = len(token_ids)
        token_ids.extend(crc(token.encode()) % buckets for token in _tokens(track))
        artist_ids[row] = vocab.get(primary_artist(track.artists), 0)
        values = numeric[row]
        year = parse_year(track.release_date)
        if year is None:
            values[1] = 1.0
        else:
            values[0] = (year - schema.year_mean) / schema.year_std
            raw[row, -2] = year
        duration = track.duration_ms
        if duration is None or not 10_000 <= duration <= 3_600_000:
            values[3] = 1.0
        else:
            values[2] = (math.log(duration) - schema.duration_mean) / schema.duration_std
            raw[row, -1] = duration
        if track.explicit is None:
            values[5] = 1.0
        else:
            values[4] = 1.0 if track.explicit else 0.0
        audio = track.audio_features
        if audio:
            got = 0
            for j, name in enumerate(AUDIO_FEATURES):
                value = audio.get(name)
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    values[meta + j] = (float(value) - audio_mean[j]) / audio_std[j]
                    raw[row, j] = float(value)
                    got += 1
            if got >= len(AUDIO_FEATURES) // 2:
                values[-1] = 1.0
                present[row] = True
            else:
                values[meta : meta + len(AUDIO_FEATURES)] = 0.0
                raw[row, : len(AUDIO_FEATURES)] = np.nan
    return Batch(np.asarray(token_ids, dtype=np.int64), offsets, artist_ids, numeric, present, bin_indices(raw, edges))


def bin_indices(raw: np.ndarray, edges: list[np.ndarray] | None) -> np.ndarray:
    """Each value's quantile bin, offset per feature; NaN goes to the feature's "missing" bin."""
    n = raw.shape[0]
    out = np.zeros((n, BINNED_FEATURES), dtype=np.int64)
    for j in range(BINNED_FEATURES):
        base = j * (N_BINS + 1)
        column = raw[:, j]
        missing = np.isnan(column)
        if edges is None or len(edges[j]) == 0:
            binned = np.zeros(n, dtype=np.int64)
        else:
            binned = np.searchsorted(edges[j], np.where(missing, 0.0, column), side="right")
        out[:, j] = np.where(missing, base + N_BINS, base + np.minimum(binned, N_BINS - 1))
    return out


def hide_audio_bins(bins: np.ndarray) -> np.ndarray:
    """The metadata-only view of the binned block: audio bins set to "missing"."""
    out = bins.copy()
    for j in range(len(AUDIO_FEATURES)):
        out[:, j] = j * (N_BINS + 1) + N_BINS
    return out
