"""What training tunes on validation songs after the network, scored by family and genre
macro-F1: the library pooling weights, and the decision sharpness (see
`classifier.names.sharpened`) with the pooling weights that go with it."""

from __future__ import annotations

import numpy as np

from classifier.features import Batch
from classifier.library import Pooling, pool
from classifier.names import sharpened
from classifier.taxonomy import Taxonomy
from training.metrics import macro_f1

SHARPNESS_GRID = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)


def macro_f1_both(probabilities: np.ndarray, label_sets: list[tuple[int, ...]], taxonomy: Taxonomy) -> tuple[float, float]:
    families, genres = taxonomy.decide(probabilities)
    return (macro_f1(families, taxonomy.family_sets(label_sets), len(taxonomy.families)),
            macro_f1(genres, label_sets, len(taxonomy.genres)))


def tune_pooling(views: list[np.ndarray], batch: Batch, label_sets: list[tuple[int, ...]],
                 taxonomy: Taxonomy) -> Pooling:
    """The artist and album weights that give validation songs, pooled as one library, the best
    mean of family and genre macro-F1 (over every view: with and without audio features)."""
    best, best_score = Pooling(), -1.0
    for artist in np.arange(0.0, 0.95, 0.1):
        for album in np.arange(0.0, 1.0 - artist + 1e-9, 0.1):
            weights = Pooling(round(float(artist), 2), round(float(album), 2))
            score = 0.0
            for probabilities in views:
                pooled = pool(probabilities, batch.artist_keys, batch.album_keys, weights)
                score += sum(macro_f1_both(pooled, label_sets, taxonomy)) / 2 / len(views)
            if score > best_score + 1e-4:
                best, best_score = weights, score
    return best


def tune_sharpness(views: list[np.ndarray], batch: Batch, label_sets: list[tuple[int, ...]],
                   taxonomy: Taxonomy) -> tuple[float, Pooling]:
    """(power, pooling): the mean of family and genre macro-F1 over every view (with and without
    audio), half per song and half pooled with the pooling weights tuned for that power."""
    best: tuple[float, Pooling] = (1.0, Pooling())
    best_score = -1.0
    for power in SHARPNESS_GRID:
        sharp = [sharpened(view, power) for view in views]
        pooling = tune_pooling(sharp, batch, label_sets, taxonomy)
        per_song = np.mean([sum(macro_f1_both(view, label_sets, taxonomy)) / 2 for view in sharp])
        pooled = np.mean([sum(macro_f1_both(pool(view, batch.artist_keys, batch.album_keys, pooling), label_sets, taxonomy)) / 2
                          for view in sharp])
        total = float(per_song + pooled) / 2
        if total > best_score + 1e-4:
            best, best_score = (power, pooling), total
    return best
