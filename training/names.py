"""Fitting the name model (classifier/names.py), including artist-held-out probabilities.

The name model is a complement naive Bayes over the songs' TF-IDF name tokens (Rennie et al.,
2003: the text classifier that is nearly as good as logistic regression and is fitted by one
sparse product, so the held-out folds over a hundred thousand songs cost seconds, not the
minutes an iterative logistic regression takes), with one temperature fitted on held-out songs
so its probabilities mean what they say.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import csr_matrix

from classifier.features import Batch
from classifier.inference import softmax
from classifier.names import NameModel, tfidf_weights

SMOOTHING = 0.3


NAME_BUCKETS = 1 << 17  # the name model's table: buckets x families, float16 in the shipped file


def document_frequency_idf(batch: Batch, buckets: int) -> np.ndarray:
    """Smoothed IDF per bucket, as scikit-learn computes it: log((1 + n) / (1 + df)) + 1."""
    pairs = np.unique(batch.token_rows() * buckets + batch.token_ids % buckets)
    df = np.bincount(pairs % buckets, minlength=buckets)
    idf: np.ndarray = (np.log((1 + len(batch)) / (1 + df)) + 1).astype(np.float32)
    return idf


def design_matrix(batch: Batch, idf: np.ndarray, buckets: int) -> csr_matrix:
    indptr = np.append(batch.token_offsets, len(batch.token_ids))
    folded = batch.token_ids % buckets
    matrix = csr_matrix((tfidf_weights(folded, batch, idf), folded, indptr), shape=(len(batch), buckets))
    matrix.sum_duplicates()
    return matrix


def fit_name_model(batch: Batch, labels: np.ndarray, n_classes: int, buckets: int, seed: int,
                   temperature: float = 1.0) -> NameModel:
    """Complement naive Bayes weights: for each class, how much less likely a token is in the
    other classes' songs (normalised per class, as Rennie et al. recommend)."""
    del seed  # deterministic: no randomness in a closed-form fit
    idf = document_frequency_idf(batch, buckets)
    features = design_matrix(batch, idf, buckets)
    onehot = csr_matrix((np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(n_classes, len(labels)))
    per_class = np.asarray((onehot @ features).todense(), dtype=np.float64)  # [classes, buckets]
    complement = per_class.sum(axis=0, keepdims=True) - per_class + SMOOTHING
    log_complement = np.log(complement / complement.sum(axis=1, keepdims=True))
    weights = log_complement / np.abs(log_complement).sum(axis=1, keepdims=True)
    coef = (-weights.T * buckets / temperature).astype(np.float32)  # [buckets, classes], scaled to O(1) logits
    intercept = np.zeros(n_classes, dtype=np.float32)
    return NameModel(idf, coef, intercept)


def fit_temperature(model: NameModel, batch: Batch, labels: np.ndarray) -> float:
    """The divisor of the logits that minimises held-out log-loss."""
    logits = np.log(np.maximum(model.probabilities(batch), 1e-12))
    best, best_nll = 1.0, np.inf
    for temperature in np.exp(np.linspace(np.log(0.05), np.log(20), 40)):
        log_p = np.log(np.maximum(softmax(logits / temperature), 1e-12))
        nll = float(-log_p[np.arange(len(labels)), labels].mean())
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return best


def artist_held_out_probabilities(
    batch: Batch,
    labels: np.ndarray,
    n_classes: int,
    buckets: int,
    seed: int,
    folds: int = 3,
    on_fold: Callable[[], None] | None = None,
) -> tuple[np.ndarray, float]:
    """Each song's name probabilities from a model that never saw its artist: what the name model
    says about an artist it has never met (whole artists are held out together), calibrated; and
    the temperature that calibrates them (the final model is fitted with it)."""
    unique, inverse = np.unique(batch.artist_keys, return_inverse=True)
    fold_of = np.random.default_rng(seed).integers(0, folds, len(unique))[inverse]
    out = np.zeros((len(batch), n_classes), dtype=np.float32)
    temperatures: list[float] = []
    for fold in range(folds):
        held = np.flatnonzero(fold_of == fold)
        kept = np.flatnonzero(fold_of != fold)
        if len(held) and len(np.unique(labels[kept])) < 2:  # tiny data sets: nothing to learn from
            out[held] = 1.0 / n_classes
        elif len(held):
            model = fit_name_model(batch.subset(kept), labels[kept], n_classes, buckets, seed)
            out[held] = model.probabilities(batch.subset(held))
            temperatures.append(fit_temperature(model, batch.subset(held), labels[held]))
        if on_fold:
            on_fold()
    temperature = float(np.median(temperatures)) if temperatures else 1.0
    calibrated = softmax(np.log(np.maximum(out, 1e-12)) / temperature)
    return calibrated, temperature
