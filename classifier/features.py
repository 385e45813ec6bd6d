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
from functools import lru_cache
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

    def __len__(self) -> int:
        return len(self.artist_ids)

    def token_lengths(self) -> np.ndarray:
        return np.diff(np.append(self.token_offsets, len(self.token_ids)))

    def subset(self, rows: np.ndarray) -> Batch:
        """These rows (in this order) as a batch of their own; no per-row Python."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.token_lengths()[rows]
        offsets = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        starts = self.token_offsets[rows]
        flat = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)
        return Batch(self.token_ids[flat], offsets, self.artist_ids[rows], self.numeric[rows],
                     self.audio_present[rows], self.bins[rows])


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


def _char_grams(prefix: str, text: str) -> list[str]:
    padded = f" {text} "
    return [prefix + " " + padded[i : i + 3] for i in range(len(padded) - 2)] + [
        prefix + "4 " + padded[i : i + 4] for i in range(len(padded) - 3)
    ]


def _title_tokens(title: str | None) -> tuple[list[str], list[str]]:
    name = normalise(title)
    words = _WORD.findall(name)
    out = ["t " + w for w in words]
    out.extend("tb " + a + " " + b for a, b in zip(words, words[1:], strict=False))
    # Character 3- and 4-grams carry language and style ("ción", "feat", "remix") to unseen artists.
    return out, _char_grams("c", name)


def _album_tokens(album_name: str | None) -> tuple[list[str], list[str]]:
    album = normalise(album_name)
    return ["l " + w for w in _WORD.findall(album)], _char_grams("L", album)


def _artist_tokens(artist_names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    artists = [normalise(a) for a in artist_names if a]
    # Artist identity comes from the artist embedding; words generalise to unseen artists.
    words = ["a " + w for artist in artists for w in _WORD.findall(artist)]
    grams = _char_grams("C", artists[0] if artists else "")
    if len(artists) > 1:
        grams.append("n multi-artist")
    return words, grams


def _hashed(tokens: list[str], buckets: int) -> tuple[int, ...]:
    crc = zlib.crc32
    return tuple(crc(token.encode()) % buckets for token in tokens)


@lru_cache(maxsize=1 << 14)
def _album_ids(album_name: str | None, buckets: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Albums and artists repeat across a library: hash their tokens once."""
    words, grams = _album_tokens(album_name)
    return _hashed(words, buckets), _hashed(grams, buckets)


@lru_cache(maxsize=1 << 14)
def _artist_ids(artist_names: tuple[str, ...], buckets: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    words, grams = _artist_tokens(artist_names)
    return _hashed(words, buckets), _hashed(grams, buckets)


def hashed_token_ids(track: TrackLike, buckets: int) -> list[int]:
    """A track's hashed name tokens: title, album and artist words, then their character n-grams
    (the order the shipped model was trained with); "<empty>" when there are none."""
    title_words, title_grams = _title_tokens(track.name)
    album_words, album_grams = _album_ids(track.album, buckets)
    artist_words, artist_grams = _artist_ids(tuple(track.artists), buckets)
    ids = [*_hashed(title_words, buckets), *album_words, *artist_words, *_hashed(title_grams, buckets),
           *album_grams, *artist_grams]
    return ids or list(_hashed(["<empty>"], buckets))


def featurise(tracks: Sequence[TrackLike], schema: FeatureSchema) -> Batch:
    n = len(tracks)
    buckets = schema.hash_buckets
    token_ids: list[int] = []
    offsets = np.zeros(n, dtype=np.int64)
    artist_ids = np.zeros(n, dtype=np.int64)
    numeric = np.zeros((n, schema.numeric_size), dtype=np.float32)
    present = np.zeros(n, dtype=bool)
    vocab = schema.artist_vocab
    audio_mean = schema.audio_mean
    audio_std = schema.audio_std
    meta = len(META_FEATURES)
    edges = [np.asarray(e, dtype=np.float64) for e in schema.bin_edges] if schema.bin_edges else None
    raw = np.full((n, BINNED_FEATURES), np.nan, dtype=np.float64)
    for row, track in enumerate(tracks):
        offsets[row] = len(token_ids)
        token_ids.extend(hashed_token_ids(track, buckets))
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


AUDIO_SLICE = slice(len(META_FEATURES), len(META_FEATURES) + len(AUDIO_FEATURES) + 1)  # values + presence flag


def hide_audio(batch: Batch) -> Batch:
    """The metadata-only view of a batch: audio values, presence flag and bins all "missing"."""
    numeric = batch.numeric.copy()
    numeric[:, AUDIO_SLICE] = 0.0
    return Batch(batch.token_ids, batch.token_offsets, batch.artist_ids, numeric,
                 np.zeros_like(batch.audio_present), hide_audio_bins(batch.bins))


def hide_audio_bins(bins: np.ndarray) -> np.ndarray:
    """The metadata-only view of the binned block: audio bins set to "missing"."""
    out = bins.copy()
    for j in range(len(AUDIO_FEATURES)):
        out[:, j] = j * (N_BINS + 1) + N_BINS
    return out
