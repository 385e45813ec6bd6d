"""What the model remembers of its training songs: each known artist's and album's genres.

For an artist (or album) seen in training, the genres of its training songs, as counts per genre
(a song with several labels counts a share for each). The network reads the normalised counts
and how many songs they rest on; an artist never seen reads zeros. This is how a song by a known
artist gets that artist's genres even when its title says nothing, the memory a logistic
regression on names has and a network with artist dropout forgets.

Stored sparse (sorted keys, CSR rows) in the safetensors file; look-up is `searchsorted`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GenreCounts:
    keys: np.ndarray  # int64, sorted, unique: artist or album key hashes
    indptr: np.ndarray  # int64 [len(keys) + 1]
    genres: np.ndarray  # int64 [nnz]
    counts: np.ndarray  # float32 [nnz]
    n_genres: int

    @classmethod
    def empty(cls, n_genres: int) -> GenreCounts:
        return cls(np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), n_genres)

    @classmethod
    def from_dense(cls, keys: np.ndarray, dense: np.ndarray) -> GenreCounts:
        """From [len(keys), genres] counts; keys with no count are left out."""
        order = np.argsort(keys)
        keys, dense = keys[order], dense[order]
        kept = (dense.sum(axis=1) > 0) & (keys != 0)
        keys, dense = keys[kept], dense[kept]
        rows, genres = np.nonzero(dense)
        indptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(keys)), out=indptr[1:])
        return cls(keys.astype(np.int64), indptr, genres.astype(np.int64), dense[rows, genres].astype(np.float32),
                   dense.shape[1])

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """Each key's row, or -1 when the key is unknown (or 0, "none")."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        position = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where((self.keys[position] == keys) & (keys != 0), position, -1)

    def features(self, keys: np.ndarray) -> np.ndarray:
        """[n, genres + 1] float32: the genre shares of each key's songs, then log(1 + songs);
        zeros for a key the table does not know."""
        rows, values = self.known_features(keys)
        out = np.zeros((len(keys), self.n_genres + 1), dtype=np.float32)
        out[rows] = values
        return out

    def known_features(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`features` of the keys the table knows only: their positions in `keys` (sorted) and
        their rows [len(positions), genres + 1]; every other key's row is zeros."""
        rows = self.rows(keys)
        known = np.flatnonzero(rows >= 0)
        out = np.zeros((len(known), self.n_genres + 1), dtype=np.float32)
        if not len(known):
            return known, out
        starts, ends = self.indptr[rows[known]], self.indptr[rows[known] + 1]
        lengths = ends - starts
        owner = np.repeat(np.arange(len(known)), lengths)
        flat = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(lengths.sum())
        np.add.at(out, (owner, self.genres[flat]), self.counts[flat])
        totals = out[:, : self.n_genres].sum(axis=1)
        out[:, : self.n_genres] /= totals[:, None]
        out[:, self.n_genres] = np.log1p(totals)
        return known, out
