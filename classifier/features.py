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

Pure Python and numpy, no pandas. The per-song Python is one pass that indexes each song's three
names and reads its keys and numbers; the tokens are made per distinct name
(`classifier.network_tokens`, `classifier.name_tokens`: hashed with numpy, kept per name across
batches) and laid out per song with numpy, so a library costs little more than its distinct names.
The artist and album keys come from `classifier.text`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from classifier import network_tokens
from classifier.name_tokens import EMPTY_NAME_ID, name_model_ids
from classifier.ragged import lengths_of, offsets_of, positions, rows_of
from classifier.text import album_key_hash, artist_key_hash, capped, capped_artists

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
# What each audio feature can be, as Spotify documents it; anything else (key -1 for "no key
# detected", a value out of range, an infinity) is read as missing, in training (the data loader)
# and at run time alike.
AUDIO_RANGES: dict[str, tuple[float, float]] = {
    "danceability": (0, 1), "energy": (0, 1), "speechiness": (0, 1), "acousticness": (0, 1),
    "instrumentalness": (0, 1), "liveness": (0, 1), "valence": (0, 1), "key": (0, 11), "mode": (0, 1),
    "loudness": (-70, 10), "tempo": (1, 300)}
_AUDIO_LOW = np.array([AUDIO_RANGES[f][0] for f in AUDIO_FEATURES], dtype=np.float64)
_AUDIO_HIGH = np.array([AUDIO_RANGES[f][1] for f in AUDIO_FEATURES], dtype=np.float64)
META_FEATURES: tuple[str, ...] = (
    "duration",
    "duration_missing",
)
NUMERIC_SIZE = len(META_FEATURES) + len(AUDIO_FEATURES) + 1  # + the audio presence flag
AUDIO_SLICE = slice(len(META_FEATURES), NUMERIC_SIZE)  # audio values + presence flag
N_BINS = 16
BINNED_FEATURES = len(AUDIO_FEATURES) + 1  # audio features, duration
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
        return lengths_of(self.token_ids, self.token_offsets)

    def token_rows(self) -> np.ndarray:
        """Each network token's row."""
        return rows_of(self.token_lengths())

    def token_positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where these rows' network tokens are in `token_ids` (flat), and their offsets once gathered."""
        return positions(self.token_offsets, self.token_lengths(), rows)

    def name_lengths(self) -> np.ndarray:
        return lengths_of(self.name_ids, self.name_offsets)

    def name_rows(self) -> np.ndarray:
        """Each name-model token's row."""
        return rows_of(self.name_lengths())

    def name_positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where these rows' name-model tokens are in `name_ids` (flat), and their offsets once gathered."""
        return positions(self.name_offsets, self.name_lengths(), rows)

    def subset(self, rows: np.ndarray) -> Batch:
        """These rows (in this order) as a batch of their own; no per-row Python."""
        rows = np.asarray(rows, dtype=np.int64)
        flat, offsets = self.token_positions(rows)
        name_flat, name_offsets = self.name_positions(rows)
        return Batch(self.token_ids[flat], offsets, self.artist_keys[rows], self.album_keys[rows],
                     self.numeric[rows], self.audio_present[rows], self.bins[rows],
                     self.name_ids[name_flat], name_offsets)


def artist_token_counts(tracks: Sequence[TrackLike]) -> np.ndarray:
    """How many of each track's network tokens name its artists: the last ones (see `featurise`);
    training hides them to show the network an artist it never met."""
    artists = [capped_artists(track.artists) for track in tracks]
    _, counts = network_tokens.ARTISTS.ids([" ".join(names) for names in artists])
    return counts + np.fromiter((len(names) > 1 for names in artists), dtype=np.int64, count=len(artists))


def featurise(tracks: Sequence[TrackLike], schema: FeatureSchema) -> Batch:
    """The network's inputs for these tracks. One pass over the tracks gathers each song's three
    names (each distinct one indexed once), its keys and its numbers in Python lists; the tokens
    are then made for the distinct names and laid out per song with numpy."""
    n = len(tracks)
    titles: dict[str, int] = {}  # each distinct title in the batch -> its index, in order
    albums: dict[str, int] = {}
    artist_names: dict[str, int] = {}  # a song's artists joined by spaces
    name_rows: list[int] = []  # per song: the indices of its title, album and artists
    multi_artist: list[bool] = []
    artist_keys: list[int] = []
    album_keys: list[int] = []
    durations: list[object] = []
    audio_rows: list[int] = []
    audio_values: list[float] = []
    for row, track in enumerate(tracks):
        artists = capped_artists(track.artists)
        album = capped(track.album) or ""
        name_rows += [titles.setdefault(capped(track.name) or "", len(titles)), albums.setdefault(album, len(albums)),
                      artist_names.setdefault(" ".join(artists), len(artist_names))]
        multi_artist.append(len(artists) > 1)
        artist_keys.append(artist_key_hash(artists))
        album_keys.append(album_key_hash(artists, album))
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
    rows = np.asarray(name_rows, dtype=np.int64).reshape(-1, 3)
    token_ids, token_offsets = _song_network_ids(list(titles), list(albums), list(artist_names), rows,
                                                 np.asarray(multi_artist, dtype=bool))
    name_ids, name_offsets = _song_name_ids(list(titles), list(albums), list(artist_names), rows)
    return Batch(token_ids % schema.hash_buckets, token_offsets, np.asarray(artist_keys, dtype=np.int64),
                 np.asarray(album_keys, dtype=np.int64), numeric, present, bin_indices(raw, edges),
                 name_ids, name_offsets)


def _per_song(tables: list[tuple[np.ndarray, np.ndarray]], segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each song's tokens, flat, and each song's offset: the concatenation of its `segments` (one
    row per song, each an index into the tables' texts laid end to end)."""
    ids = np.concatenate([table_ids for table_ids, _ in tables])
    lengths = np.concatenate([counts for _, counts in tables])
    flat, _ = positions(offsets_of(lengths), lengths, segments.ravel())
    return ids[flat], offsets_of(lengths[segments].sum(axis=1))


def _song_network_ids(titles: list[str], albums: list[str], artists: list[str], rows: np.ndarray,
                      multi_artist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each song's network tokens, unfolded: title, album, artists, the multi-artist token for a
    song credited to several; a song whose names give no token at all gets EMPTY_ID alone."""
    tables = [network_tokens.TITLES.ids(titles), network_tokens.ALBUMS.ids(albums), network_tokens.ARTISTS.ids(artists),
              (np.array([network_tokens.MULTI_ARTIST_ID, network_tokens.EMPTY_ID]), np.array([1, 1, 0]))]
    starts = np.cumsum([0, len(titles), len(albums), len(artists)])
    multi, empty, nothing = starts[3], starts[3] + 1, starts[3] + 2
    named = rows + starts[:3]
    lengths = np.concatenate([counts for _, counts in tables[:3]])[named].sum(axis=1) + multi_artist
    segments = np.column_stack([named, np.where(multi_artist, multi, nothing), np.where(lengths == 0, empty, nothing)])
    return _per_song(tables, segments)


def _song_name_ids(titles: list[str], albums: list[str], artists: list[str],
                   rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each song's name-model tokens: those of its title, album and artists (each distinct name
    tokenised once, whatever kind of name it is); a song whose names give no token at all gets
    EMPTY_NAME_ID alone."""
    ids, counts = name_model_ids(titles + albums + artists)
    tables = [(ids, counts), (np.array([EMPTY_NAME_ID]), np.array([1, 0]))]
    starts = np.cumsum([0, len(titles), len(albums)])
    empty, nothing = len(counts), len(counts) + 1
    named = rows + starts
    segments = np.column_stack([named, np.where(counts[named].sum(axis=1) == 0, empty, nothing)])
    return _per_song(tables, segments)


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
    audio = np.where((audio >= _AUDIO_LOW) & (audio <= _AUDIO_HIGH), audio, np.nan)  # NaN compares False
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
