"""Turning tracks into the network's inputs, the same way in training and at run time.

Inputs: hashed name tokens for the network (title words and word pairs, album and artist words,
character 3- and 4-grams of every word, each kind of name apart), and for the name model the
tokens of the issue's reference recipe (word 1-2-grams and character 2- to 5-grams of every
whitespace-separated token, punctuation kept, shared by title, album and artists: a linear model
reads new artists' names better from those); the primary artist and album
as hashed keys (looked up in the model's tables of known artists and albums); and a numeric
block: duration with a "missing" flag, plus Spotify's audio features and a mask saying whether
they are present.

Not release year, not the explicit flag, though Spotify gives both: each training set has only
one of them (the 30k set dates, the 114 set explicit), so a network given them learns which data
set, and so which label space, a song comes from, and every real song (which has both) reaches
it as a combination it never saw. Measured on held-out artists it cost 3-11 points of family
macro-F1 (model card, "Release year and explicit").

Pure Python and numpy, no pandas. The per-song work is a handful of cached look-ups: a word's
token ids are hashed once per process, so a library (whose artists, albums and words repeat)
costs little more than its distinct words. The name model's tokens come from
`classifier.name_tokens` (each distinct name of a batch once), the artist and album keys from
`classifier.text`.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import numpy as np

from classifier.name_tokens import EMPTY_NAME_ID, name_model_ids
from classifier.text import album_key, capped, capped_artists, key_hash, normalise, primary_artist

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
    "duration",
    "duration_missing",
)
NUMERIC_SIZE = len(META_FEATURES) + len(AUDIO_FEATURES) + 1  # + the audio presence flag
AUDIO_SLICE = slice(len(META_FEATURES), NUMERIC_SIZE)  # audio values + presence flag
N_BINS = 16
BINNED_FEATURES = len(AUDIO_FEATURES) + 1  # audio features, duration
_WORD = re.compile(r"\w+", re.UNICODE)
class TrackLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def artists(self) -> Sequence[str]: ...

    @property
    def album(self) -> str: ...

    @property
    def duration_ms(self) -> int | None: ...

    @property
    def audio_features(self) -> Mapping[str, float] | None: ...


@dataclass
class FeatureSchema:
    """Everything featurising needs besides code: stored in the model's JSON."""

    hash_buckets: int = 1 << 17
    audio_mean: list[float] = field(default_factory=lambda: [0.0] * len(AUDIO_FEATURES))
    audio_std: list[float] = field(default_factory=lambda: [1.0] * len(AUDIO_FEATURES))
    duration_mean: float = 12.3  # log(ms)
    duration_std: float = 0.3
    # Quantile bin edges for the audio features, then duration: binned values get
    # their own embeddings, which lets the network carve tabular features like a tree would.
    bin_edges: list[list[float]] = field(default_factory=list)


@dataclass
class Batch:
    token_ids: np.ndarray  # int64, flat
    token_offsets: np.ndarray  # int64, one per track
    artist_keys: np.ndarray  # int64 hash of the primary artist (0 = none)
    album_keys: np.ndarray  # int64 hash of primary artist + album (0 = none)
    numeric: np.ndarray  # float32 [n, NUMERIC_SIZE]
    audio_present: np.ndarray  # bool [n]
    bins: np.ndarray  # int64 [n, BINNED_FEATURES]: index into the bin embedding
    name_ids: np.ndarray  # int64, flat: the name model's tokens (32-bit hashes, folded by the model)
    name_offsets: np.ndarray  # int64, one per track

    def __len__(self) -> int:
        return len(self.artist_keys)

    def token_lengths(self) -> np.ndarray:
        return _lengths(self.token_ids, self.token_offsets)

    def token_rows(self) -> np.ndarray:
        """Each network token's row."""
        return _rows(self.token_lengths())

    def token_positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where these rows' network tokens are in `token_ids` (flat), and their offsets once gathered."""
        return _positions(self.token_offsets, self.token_lengths(), rows)

    def name_lengths(self) -> np.ndarray:
        return _lengths(self.name_ids, self.name_offsets)

    def name_rows(self) -> np.ndarray:
        """Each name-model token's row."""
        return _rows(self.name_lengths())

    def name_positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where these rows' name-model tokens are in `name_ids` (flat), and their offsets once gathered."""
        return _positions(self.name_offsets, self.name_lengths(), rows)

    def subset(self, rows: np.ndarray) -> Batch:
        """These rows (in this order) as a batch of their own; no per-row Python."""
        rows = np.asarray(rows, dtype=np.int64)
        flat, offsets = self.token_positions(rows)
        name_flat, name_offsets = self.name_positions(rows)
        return Batch(self.token_ids[flat], offsets, self.artist_keys[rows], self.album_keys[rows],
                     self.numeric[rows], self.audio_present[rows], self.bins[rows],
                     self.name_ids[name_flat], name_offsets)


def _lengths(ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return np.diff(np.append(offsets, len(ids)))


def _rows(lengths: np.ndarray) -> np.ndarray:
    """Each token's row, from the rows' token counts."""
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def offsets_of(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Where each row's tokens start in the flat list (int64), from the rows' token counts."""
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(np.asarray(lengths[:-1], dtype=np.int64), out=offsets[1:])
    return offsets


def _positions(starts: np.ndarray, all_lengths: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions of these rows' tokens (rows that start at `starts` and are `all_lengths` long),
    and the rows' offsets once gathered."""
    rows = np.asarray(rows, dtype=np.int64)
    lengths = all_lengths[rows]
    offsets = offsets_of(lengths)
    flat = np.repeat(starts[rows] - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)
    return flat, offsets


def _hash(token: str, buckets: int) -> int:
    return zlib.crc32(token.encode()) % buckets


@lru_cache(maxsize=1 << 18)
def _word_ids(prefix: str, word: str, buckets: int) -> tuple[int, ...]:
    """A word's token ids: the word itself and its character 3- and 4-grams (padded), which carry
    language and style ("ción", "feat", "remix") to artists never seen in training."""
    padded = f" {word} "
    grams = [padded[i : i + 3] for i in range(len(padded) - 2)] + [padded[i : i + 4] for i in range(len(padded) - 3)]
    return (_hash(prefix + " " + word, buckets), *(_hash(prefix.upper() + " " + g, buckets) for g in grams))


@lru_cache(maxsize=1 << 16)
def _text_ids(prefix: str, text: str | None, buckets: int) -> tuple[int, ...]:
    """Token ids of an album's or artists' name (they repeat across a library: cached whole)."""
    words = _WORD.findall(normalise(text))
    return tuple(i for w in words for i in _word_ids(prefix, w, buckets))


def _title_ids(title: str | None, buckets: int) -> list[int]:
    words = _WORD.findall(normalise(title))
    ids: list[int] = []
    for word in words:
        ids += _word_ids("t", word, buckets)
    if len(words) > 1:
        ids += [zlib.crc32(f"tb {a} {b}".encode()) % buckets for a, b in zip(words, words[1:], strict=False)]  # _hash
    return ids


def _artists_ids(artists: tuple[str, ...], buckets: int) -> tuple[int, ...]:
    ids = _text_ids("a", " ".join(artists), buckets)
    return (*ids, _hash("n multi-artist", buckets)) if len(artists) > 1 else ids


@lru_cache(maxsize=1 << 16)
def _artists_entry(artists: tuple[str, ...], buckets: int) -> tuple[tuple[int, ...], int, str]:
    """What a song's artists give (they repeat across a library: cached): their token ids, the
    primary-artist key, and the primary artist (normalised) that album keys begin with."""
    primary = primary_artist(artists)
    return _artists_ids(artists, buckets), key_hash(primary), primary


@lru_cache(maxsize=1 << 16)
def _album_entry(album: str | None, buckets: int) -> tuple[tuple[int, ...], str]:
    """An album name's token ids and its normalised name (cached: a library repeats albums)."""
    return _text_ids("l", album, buckets), normalise(album)


def hashed_token_ids(track: TrackLike, buckets: int) -> list[int]:
    """A track's hashed name tokens: title, then album, then artists; "<empty>" when there are none."""
    ids = _title_ids(capped(track.name), buckets)
    ids += _album_entry(capped(track.album), buckets)[0]
    ids += _artists_entry(capped_artists(track.artists), buckets)[0]
    return ids or [_hash("<empty>", buckets)]


def artist_token_counts(tracks: Sequence[TrackLike], buckets: int) -> np.ndarray:
    """How many of each track's hashed tokens name its artists: the last ones (see
    `hashed_token_ids`); training hides them to show the network an artist it never met."""
    return np.fromiter((len(_artists_ids(capped_artists(t.artists), buckets)) for t in tracks), dtype=np.int64,
                       count=len(tracks))


def featurise(tracks: Sequence[TrackLike], schema: FeatureSchema) -> Batch:
    """The network's inputs for these tracks. One pass of cached look-ups per track, gathered in
    Python lists and turned into arrays once (a numpy item assignment per field per song costs
    more than the look-ups)."""
    n = len(tracks)
    buckets = schema.hash_buckets
    empty = [_hash("<empty>", buckets)]
    token_ids: list[int] = []
    lengths: list[int] = []
    names: dict[str, int] = {"": 0}  # each distinct name in the batch -> its index, in order
    name_rows: list[int] = []  # per song: the indices of its title, album and artists
    artist_keys: list[int] = []
    album_keys: list[int] = []
    durations: list[object] = []
    audio_rows: list[int] = []
    audio_values: list[float] = []
    for row, track in enumerate(tracks):
        artists = capped_artists(track.artists)
        artist_ids, artist_key, primary = _artists_entry(artists, buckets)
        album_name = capped(track.album)
        album_ids, album = _album_entry(album_name, buckets)
        title = capped(track.name)
        ids = _title_ids(title, buckets)
        ids += album_ids
        ids += artist_ids
        if not ids:
            ids = empty
        lengths.append(len(ids))
        token_ids += ids
        name_rows += [names.setdefault(text, len(names)) for text in (title or "", album_name or "", " ".join(artists))]
        artist_keys.append(artist_key)
        album_keys.append(album_key(primary, album))
        duration = track.duration_ms
        durations.append(math.nan if duration is None else duration)
        features = track.audio_features
        if features:
            audio_rows.append(row)
            try:  # the usual case: every feature there, as a number
                audio_values += [float(features[name]) for name in AUDIO_FEATURES]
            except (KeyError, TypeError, ValueError):
                audio_values += [_audio_value(features.get(name)) for name in AUDIO_FEATURES]
    audio = np.full((n, len(AUDIO_FEATURES)), np.nan)
    if audio_rows:
        audio[np.asarray(audio_rows)] = np.asarray(audio_values, dtype=np.float64).reshape(-1, len(AUDIO_FEATURES))
    numeric, present, raw = _numeric(np.asarray(durations, dtype=np.float64), audio, schema)
    edges = [np.asarray(e, dtype=np.float64) for e in schema.bin_edges] if schema.bin_edges else None
    name_ids, name_offsets = _song_name_ids(list(names), name_rows)
    return Batch(np.asarray(token_ids, dtype=np.int64), offsets_of(lengths), np.asarray(artist_keys, dtype=np.int64),
                 np.asarray(album_keys, dtype=np.int64), numeric, present, bin_indices(raw, edges),
                 name_ids, name_offsets)


def _song_name_ids(texts: list[str], rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Each song's name-model tokens (flat, and each song's offset), from the batch's distinct
    names (`texts`, the first one empty) and each song's three of them (`rows`: title, album,
    artists). Each distinct name is tokenised once; a song whose names give no token at all gets
    EMPTY_NAME_ID alone."""
    text_ids, text_lengths = name_model_ids(texts)
    text_ids = np.append(text_ids, EMPTY_NAME_ID)  # one more "text": the nameless song's token
    text_lengths = np.append(text_lengths, 1)
    named = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    nameless = text_lengths[named].sum(axis=1) == 0
    segments = np.column_stack([named, np.where(nameless, len(texts), 0)]).ravel()  # text 0 is empty
    flat, _ = _positions(offsets_of(text_lengths), text_lengths, segments)
    song_lengths = text_lengths[segments].reshape(-1, 4).sum(axis=1)
    return text_ids[flat], offsets_of(song_lengths)


def _audio_value(value: object) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _numeric(durations: np.ndarray, audio: np.ndarray, schema: FeatureSchema) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The standardised numeric block, the audio presence mask and the raw values to bin."""
    n = len(durations)
    numeric = np.zeros((n, NUMERIC_SIZE), dtype=np.float32)
    durations = np.where((durations >= 10_000) & (durations <= 3_600_000), durations, np.nan)
    duration_missing = np.isnan(durations)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_duration = np.log(durations)
    numeric[:, 0] = np.where(duration_missing, 0.0, (log_duration - schema.duration_mean) / schema.duration_std)
    numeric[:, 1] = duration_missing
    # Audio counts as present when at least half the features are there; fewer is noise.
    present = (~np.isnan(audio)).sum(axis=1) >= len(AUDIO_FEATURES) // 2
    audio = np.where(present[:, None], audio, np.nan)
    standardised = (audio - np.asarray(schema.audio_mean)) / np.asarray(schema.audio_std)
    numeric[:, len(META_FEATURES) : NUMERIC_SIZE - 1] = np.nan_to_num(standardised, nan=0.0)
    numeric[:, NUMERIC_SIZE - 1] = present
    raw = np.concatenate([audio, durations[:, None]], axis=1)
    return numeric, present, raw


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


def hide_audio(batch: Batch) -> Batch:
    """The metadata-only view of a batch: audio values, presence flag and bins all "missing"."""
    numeric = batch.numeric.copy()
    numeric[:, AUDIO_SLICE] = 0.0
    return Batch(batch.token_ids, batch.token_offsets, batch.artist_keys, batch.album_keys, numeric,
                 np.zeros_like(batch.audio_present), hide_audio_bins(batch.bins), batch.name_ids, batch.name_offsets)


def hide_audio_bins(bins: np.ndarray) -> np.ndarray:
    """The metadata-only view of the binned block: audio bins set to "missing"."""
    out = bins.copy()
    for j in range(len(AUDIO_FEATURES)):
        out[:, j] = j * (N_BINS + 1) + N_BINS
    return out
