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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from classifier.features import TrackLike
from classifier.float16 import to_float32
from classifier.text import album_key_hash, artist_key_hash, capped, capped_artists

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
    artists = np.fromiter((artist_key_hash(capped_artists(t.artists)) for t in tracks), dtype=np.int64,
                          count=len(tracks))
    albums = np.fromiter((album_key_hash(capped_artists(t.artists), capped(t.album)) for t in tracks), dtype=np.int64,
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
    means = (sums / sizes[:, None].astype(values.dtype))[groups]
    return np.where((keys == 0)[:, None], values, means)


def pool(probabilities: np.ndarray, artist_keys: np.ndarray, album_keys: np.ndarray, weights: Pooling) -> np.ndarray:
    """Pooled probabilities [n, genres] (float32, rows sum to 1) for songs of one library."""
    if not len(probabilities) or (weights.artist == 0 and weights.album == 0):
        return probabilities.astype(np.float32)
    logs = np.log(np.maximum(probabilities.astype(np.float32), np.float32(FLOOR)))  # float32: half the memory traffic
    mixed = np.float32(1 - weights.artist - weights.album) * logs
    if weights.artist:
        mixed += np.float32(weights.artist) * group_mean(logs, artist_keys)
    if weights.album:
        mixed += np.float32(weights.album) * group_mean(logs, album_keys)
    mixed -= mixed.max(axis=1, keepdims=True)
    exp = np.exp(mixed)
    result: np.ndarray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return result


def pooled_chunks(probabilities: np.ndarray, artist_keys: np.ndarray, album_keys: np.ndarray, weights: Pooling,
                  rows_per_chunk: int) -> Iterator[np.ndarray]:
    """`pool`, `rows_per_chunk` rows at a time, equal to it: for a library too big to pool at once
    (a 200 MB export), memory grows with a chunk and one row of sums per artist and album, not
    with the library's float copies. Two passes over the chunks: each chunk's logarithms summed
    into every artist's and album's row (sorted by group, one `add.reduceat`), then mixed."""
    n = len(probabilities)
    if not n or (weights.artist == 0 and weights.album == 0):
        for start in range(0, n, rows_per_chunk):
            yield _single(probabilities[start:start + rows_per_chunk])
        return
    grouped = [_Groups(keys, np.float32(weight), probabilities.shape[1])
               for keys, weight in ((artist_keys, weights.artist), (album_keys, weights.album)) if weight]
    for start in range(0, n, rows_per_chunk):
        logs = _logs(probabilities[start:start + rows_per_chunk])
        for groups in grouped:
            groups.add(start, logs)
    for groups in grouped:
        groups.to_means()
    own = np.float32(1 - weights.artist - weights.album)
    for start in range(0, n, rows_per_chunk):
        logs = _logs(probabilities[start:start + rows_per_chunk])
        mixed = own * logs
        for groups in grouped:
            mixed += groups.weight * groups.means_of(start, logs)
        mixed -= mixed.max(axis=1, keepdims=True)
        exp = np.exp(mixed)
        yield exp / exp.sum(axis=1, keepdims=True)


def _logs(probabilities: np.ndarray) -> np.ndarray:
    logs: np.ndarray = np.log(np.maximum(_single(probabilities), np.float32(FLOOR)))
    return logs


def _single(probabilities: np.ndarray) -> np.ndarray:
    """float32 (a copy): kept float16 rows through torch, which is fast where numpy is not."""
    single: np.ndarray = (to_float32(probabilities) if probabilities.dtype == np.float16
                          else probabilities.astype(np.float32))
    return single


class _Groups:
    """One kind of key's running sums of log-probabilities, then (in place) their means, for
    `pooled_chunks`; float32, as `pool` sums them, so a library's sums take 4 bytes per group and
    genre."""

    def __init__(self, keys: np.ndarray, weight: np.float32, n_genres: int) -> None:
        self.weight = weight
        self.none = keys == 0  # key 0 ("none") is never grouped
        _, self.groups = np.unique(keys, return_inverse=True)
        self.sizes = np.bincount(self.groups)
        self.sums = np.zeros((len(self.sizes), n_genres), dtype=np.float32)

    def add(self, start: int, logs: np.ndarray) -> None:
        groups = self.groups[start:start + len(logs)]
        order = np.argsort(groups, kind="stable")
        present, starts = np.unique(groups[order], return_index=True)
        self.sums[present] += np.add.reduceat(logs[order], starts, axis=0)

    def to_means(self) -> None:
        self.sums /= self.sizes[:, None].astype(np.float32)

    def means_of(self, start: int, logs: np.ndarray) -> np.ndarray:
        stop = start + len(logs)
        means: np.ndarray = self.sums[self.groups[start:stop]]
        none = self.none[start:stop]
        if none.any():
            means[none] = logs[none]
        return means
