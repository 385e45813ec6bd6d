"""Decision sharpness, tuned on validation songs after the name blend (see
`classifier.names.sharpened`): the power that gives the best macro-F1 per song and pooled as a
library together, with the library pooling weights that go with it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from classifier.features import Batch
from classifier.library import Pooling, pool
from classifier.names import sharpened
from classifier.taxonomy import Taxonomy

SHARPNESS_GRID = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)

Scorer = Callable[[np.ndarray, list[tuple[int, ...]], Taxonomy], tuple[float, float]]
PoolingTuner = Callable[[list[np.ndarray], Batch, list[tuple[int, ...]], Taxonomy], Pooling]


def tune_sharpness(views: list[np.ndarray], batch: Batch, label_sets: list[tuple[int, ...]], taxonomy: Taxonomy,
                   score: Scorer, tune_pooling: PoolingTuner) -> tuple[float, Pooling]:
    """(power, pooling): the mean of family and genre macro-F1 over every view (with and without
    audio), half per song and half pooled with the pooling weights tuned for that power."""
    best: tuple[float, Pooling] = (1.0, Pooling())
    best_score = -1.0
    for power in SHARPNESS_GRID:
        sharp = [sharpened(view, power) for view in views]
        pooling = tune_pooling(sharp, batch, label_sets, taxonomy)
        per_song = np.mean([sum(score(view, label_sets, taxonomy)) / 2 for view in sharp])
        pooled = np.mean([sum(score(pool(view, batch.artist_keys, batch.album_keys, pooling), label_sets, taxonomy)) / 2
                          for view in sharp])
        total = float(per_song + pooled) / 2
        if total > best_score + 1e-4:
            best, best_score = (power, pooling), total
    return best
