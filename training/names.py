"""Fitting the name model (classifier/names.py), including out-of-fold probabilities."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

from classifier.features import TrackLike
from classifier.names import NameModel, hashed_counts, tfidf


def fit_name_model(tracks: Sequence[TrackLike], labels: np.ndarray, n_classes: int, seed: int) -> NameModel:
    counts = hashed_counts(tracks)
    idf = TfidfTransformer(sublinear_tf=True).fit(counts).idf_.astype(np.float32)
    features = tfidf(counts, idf)
    # saga stops within a few seconds at the same held-out score lbfgs reaches in a minute.
    model = LogisticRegression(solver="saga", max_iter=30, tol=1e-3, C=4.0, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 30 passes are enough; see above
        model.fit(features, labels)
    coef = np.zeros((n_classes, features.shape[1]), dtype=np.float32)
    intercept = np.full(n_classes, -30.0, dtype=np.float32)  # a class never seen stays improbable
    if len(model.classes_) == 2:  # binary: one row of coefficients, the log-odds of the second class
        coef[model.classes_[1]] = model.coef_[0]
        intercept[model.classes_[1]] = model.intercept_[0]
        intercept[model.classes_[0]] = 0.0
    else:
        coef[model.classes_] = model.coef_
        intercept[model.classes_] = model.intercept_
    return NameModel(idf, coef, intercept)


def out_of_fold_probabilities(
    tracks: Sequence[TrackLike],
    labels: np.ndarray,
    n_classes: int,
    seed: int,
    folds: int = 4,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Each song's name probabilities from a model that never saw it (what stacking needs).

    With `groups` (artist keys) whole artists are held out together, which gives the
    probabilities the name model will produce for an artist it has never met.
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        fold_of = rng.integers(0, folds, len(tracks))
    else:
        unique, inverse = np.unique(groups, return_inverse=True)
        fold_of = rng.integers(0, folds, len(unique))[inverse]
    out = np.zeros((len(tracks), n_classes), dtype=np.float32)
    for fold in range(folds):
        held = np.where(fold_of == fold)[0]
        kept = np.where(fold_of != fold)[0]
        if len(held) == 0:
            continue
        if len(np.unique(labels[kept])) < 2:  # tiny data sets: nothing to learn from, say so evenly
            out[held] = 1.0 / n_classes
            continue
        model = fit_name_model([tracks[i] for i in kept], labels[kept], n_classes, seed)
        out[held] = model.probabilities([tracks[i] for i in held])
    return out
