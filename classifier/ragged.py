"""Ragged rows stored flat: many rows of token ids, of varying length, as one flat array and each
row's offset into it. The helpers `Batch`, the tokenisers and training share."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def offsets_of(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """Where each row's tokens start in the flat list (int64), from the rows' token counts."""
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(np.asarray(lengths[:-1], dtype=np.int64), out=offsets[1:])
    return offsets


def lengths_of(ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each row's token count, from the flat ids and the rows' offsets."""
    return np.diff(np.append(offsets, len(ids)))


def rows_of(lengths: np.ndarray) -> np.ndarray:
    """Each token's row, from the rows' token counts."""
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def positions(starts: np.ndarray, all_lengths: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions of these rows' tokens (rows that start at `starts` and are `all_lengths` long),
    in the order of `rows` (a row may come more than once), and the rows' offsets once gathered."""
    rows = np.asarray(rows, dtype=np.int64)
    lengths = all_lengths[rows]
    offsets = offsets_of(lengths)
    flat = np.repeat(starts[rows] - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)
    return flat, offsets
