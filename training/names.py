"""Fitting the name model (classifier/names.py), and what it says of artists it never saw.

The name model is a multinomial logistic regression over the taxonomy's genres (a family's
probability is the sum of its genres') on the TF-IDF of the songs' name-model tokens
(`Batch.name_ids`: the issue's reference recipe, see classifier/names.py). It is fitted by SparseAdam on an `EmbeddingBag`, so a step updates only
the table rows its songs touch and an epoch over a hundred thousand songs costs seconds; a few
epochs from zero weights are its regularisation. Targets are soft: a song filed under several
genres shares its target between them.

Stacking needs to know what names say of an artist never seen: the training songs are split into
folds by artist, and each song's probabilities come from the fold model that never saw its artist.
The shipped model is the mean of the fold models (a mean of linear models is a linear model, so
no extra fit), with the temperature that calibrates the held-out probabilities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional

from classifier.features import Batch
from classifier.inference import softmax
from classifier.names import NameModel, tfidf_weights

NAME_BUCKETS = 1 << 16  # the name model's table: buckets x genres, float16 in the shipped file


@dataclass
class NameFit:
    """How the name model is fitted (measured on artist-held-out validation: see the model card)."""

    buckets: int = NAME_BUCKETS
    epochs: int = 3
    learning_rate: float = 0.05
    batch_size: int = 1024
    folds: int = 3


def document_frequency_idf(batch: Batch, buckets: int) -> np.ndarray:
    """Smoothed IDF per bucket, as scikit-learn computes it: log((1 + n) / (1 + df)) + 1."""
    pairs = np.unique(batch.name_rows() * buckets + batch.name_ids % buckets)
    df = np.bincount(pairs % buckets, minlength=buckets)
    idf: np.ndarray = (np.log((1 + len(batch)) / (1 + df)) + 1).astype(np.float32)
    return idf


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((len(labels), n_classes), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


# A batch of rows as an EmbeddingBag reads it: feature ids, each row's first position, weights.
Bags = tuple[np.ndarray, np.ndarray, np.ndarray]


def fit_softmax_regression(bags_of: Callable[[np.ndarray], Bags], n_features: int, targets: np.ndarray, seed: int, *,
                           epochs: int, learning_rate: float, batch_size: int,
                           on_epoch: Callable[[], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression on sparse weighted features, by SparseAdam on an `EmbeddingBag`: a step
    updates only the rows its songs touch. `bags_of(rows)` gives those songs' features; `targets`
    [songs, classes] sum to 1 per song. A few epochs from zero weights are the regularisation.
    Returns (coef [features, classes], intercept [classes])."""
    generator = np.random.default_rng(seed)
    torch.manual_seed(seed)
    n_songs, n_classes = targets.shape
    table = torch.nn.EmbeddingBag(n_features, n_classes, mode="sum", sparse=True)
    torch.nn.init.zeros_(table.weight)
    intercept = torch.nn.Parameter(torch.zeros(n_classes))
    optimisers: list[torch.optim.Optimizer] = [torch.optim.SparseAdam(list(table.parameters()), lr=learning_rate),
                                               torch.optim.Adam([intercept], lr=learning_rate)]
    target_t = torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32))
    batch_size = min(batch_size, max(8, n_songs // 20))  # small data: still dozens of steps
    for _ in range(epochs):
        order = generator.permutation(n_songs)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            ids, offsets, weights = bags_of(rows)
            logits = table(torch.from_numpy(ids), torch.from_numpy(offsets),
                           per_sample_weights=torch.from_numpy(weights)) + intercept
            loss = -(target_t[rows] * functional.log_softmax(logits, dim=1)).sum(1).mean()
            for optimiser in optimisers:
                optimiser.zero_grad()
            loss.backward()
            for optimiser in optimisers:
                optimiser.step()
        if on_epoch:
            on_epoch()
    return table.weight.detach().numpy().copy(), intercept.detach().numpy().copy()


def fit_name_model(batch: Batch, targets: np.ndarray, idf: np.ndarray, fit: NameFit, seed: int,
                   on_epoch: Callable[[], None] | None = None) -> NameModel:
    """Softmax regression on TF-IDF name tokens; `targets` [songs, classes] sum to 1 per song."""
    folded = batch.name_ids % fit.buckets
    weights = tfidf_weights(folded, batch, idf)

    def bags_of(rows: np.ndarray) -> Bags:
        flat, offsets = batch.name_positions(rows)
        return folded[flat], offsets, weights[flat]

    coef, intercept = fit_softmax_regression(bags_of, fit.buckets, targets, seed, epochs=fit.epochs,
                                             learning_rate=fit.learning_rate, batch_size=fit.batch_size,
                                             on_epoch=on_epoch)
    return NameModel(idf, coef, intercept)


def fit_temperature(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """The divisor of the log-probabilities that minimises held-out log-loss."""
    logits = np.log(np.maximum(probabilities, 1e-12))
    best, best_nll = 1.0, np.inf
    for temperature in np.exp(np.linspace(np.log(0.2), np.log(5), 33)):
        nll = float(-(targets * np.log(np.maximum(softmax(logits / temperature), 1e-12))).sum(1).mean())
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return best


def artist_held_out_name_model(batch: Batch, targets: np.ndarray, fit: NameFit, seed: int,
                               on_epoch: Callable[[], None] | None = None) -> tuple[NameModel, np.ndarray]:
    """The name model and each song's calibrated probabilities from a fold model that never saw
    its artist (whole artists are held out together). The model is the folds' mean, calibrated
    by the temperature that fits the held-out probabilities."""
    n_classes = targets.shape[1]
    idf = document_frequency_idf(batch, fit.buckets)
    unique, inverse = np.unique(batch.artist_keys, return_inverse=True)
    fold_of = np.random.default_rng(seed).integers(0, fit.folds, len(unique))[inverse]
    held_out = np.full((len(batch), n_classes), 1.0 / n_classes, dtype=np.float32)
    models = []
    for fold in range(fit.folds):
        held = np.flatnonzero(fold_of == fold)
        kept = np.flatnonzero(fold_of != fold)
        if len(kept):
            model = fit_name_model(batch.subset(kept), targets[kept], idf, fit, seed + fold, on_epoch)
            models.append(model)
            if len(held):
                held_out[held] = model.probabilities(batch.subset(held))
        elif on_epoch:
            for _ in range(fit.epochs):
                on_epoch()
    temperature = fit_temperature(held_out, targets)
    coef = np.mean([m.coef.numpy() for m in models], axis=0) if models else np.zeros((fit.buckets, n_classes))
    intercept = np.mean([m.intercept.numpy() for m in models], axis=0) if models else np.zeros(n_classes)
    model = NameModel(idf, coef / temperature, intercept / temperature)
    calibrated = softmax(np.log(np.maximum(held_out, 1e-12)) / temperature)
    return model, calibrated
