"""Library pooling: a member's songs by the same artist, or from the same album, are nearly
always one genre, so each song's genre probabilities are blended with those of its artist's and
album's other songs in the same library before a playlist is chosen.

Pure functions over per-track probability vectors, so a bot that caches per-track vectors
(float16 blobs in SQLite, per model version) can pool a member's whole library without
classifying a song twice. The weights are tuned on validation data when the model is trained
and stored in model.json. Pooling is geometric (weighted mean of log-probabilities): songs that
each lean the same way add up, one confident song is not drowned by a crowd of unsure ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from classifier.features import TrackLike, album_key_hash, artist_key_hash

FLOOR = 1e-6  # no genre is impossible: keeps the logarithm finite


@dataclass(frozen=True)
class Pooling:
    artist: float = 0.0  # weight of the artist's songs' mean
    album: float = 0.0  # weight of the album's songs' mean

    def __post_init__(self) -> None:
        if self.artist < 0 or self.album < 0 or self.artist + self.album > 1:
            raise ValueError("pooling weights must be >= 0 and sum to at most 1")


def library_keys(tracks: Sequence[TrackLike]) -> tuple[np.ndarray, np.ndarray]:
    """Each track's primary-artist key and album key (the same keys the model's features use)."""
    artists = np.fromiter((artist_key_hash(tuple(t.artists)) for t in tracks), dtype=np.int64, count=len(tracks))
    albums = np.fromiter((album_key_hash(tuple(t.artists), t.album) for t in tracks), dtype=np.int64,
                         count=len(tracks))
    return artists, albums


def group_mean(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each row replaced by the mean of the rows sharing its key; key 0 ("none") is never grouped."""
    if not len(keys):
        return values.copy()
    _, groups, sizes = np.unique(keys, return_inverse=True, return_counts=True)
    order = np.argsort(groups, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sums = np.add.reduceat(values[order], starts, axis=0)
    means = (sums / sizes[:, None])[groups]
    return np.where((keys == 0)[:, None], values, means)


def pool(probabilities: np.ndarray, artist_keys: np.ndarray, album_keys: np.ndarray, weights: Pooling) -> np.ndarray:
    """Pooled probabilities [n, genres] (float32, rows sum to 1) for songs of one library."""
    if not len(probabilities) or (weights.artist == 0 and weights.album == 0):
        return probabilities.astype(np.float32)
    logs = np.log(np.maximum(probabilities.astype(np.float64), FLOOR))
    mixed = (1 - weights.artist - weights.album) * logs
    if weights.artist:
        mixed += weights.artist * group_mean(logs, artist_keys)
    if weights.album:
        mixed += weights.album * group_mean(logs, album_keys)
    mixed -= mixed.max(axis=1, keepdims=True)
    exp = np.exp(mixed)
    result: np.ndarray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return result
