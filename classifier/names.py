"""A linear model of genre from names, whose probabilities feed the network (stacking).

A linear model on TF-IDF of the same hashed name tokens the network reads (each song's weights
L2-normalised), folded into fewer buckets (token id modulo the table's rows) to keep the shipped
table small. Training gives the network out-of-fold probabilities from folds that held out whole
artists, so the network learns how far names alone can be trusted for an artist it has never
met; at run time the model fitted on every training song is used. Stored as plain tensors.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional

from classifier.features import Batch


class NameModel:
    def __init__(self, idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.idf = torch.from_numpy(np.ascontiguousarray(idf, dtype=np.float32))  # [buckets]
        self.coef = torch.from_numpy(np.ascontiguousarray(coef, dtype=np.float32))  # [buckets, classes]
        self.intercept = torch.from_numpy(np.ascontiguousarray(intercept, dtype=np.float32))

    @property
    def n_classes(self) -> int:
        return int(self.intercept.shape[0])

    @property
    def buckets(self) -> int:
        return int(self.coef.shape[0])

    def probabilities(self, batch: Batch) -> np.ndarray:
        if not len(batch):
            return np.zeros((0, self.n_classes), dtype=np.float32)
        folded = batch.token_ids % self.buckets
        ids = torch.from_numpy(folded)
        weights = tfidf_weights(folded, batch, self.idf.numpy())
        with torch.inference_mode():
            logits = functional.embedding_bag(ids, self.coef, torch.from_numpy(batch.token_offsets), mode="sum",
                                              per_sample_weights=torch.from_numpy(weights)) + self.intercept
            result: np.ndarray = torch.softmax(logits, dim=1).numpy()
        return result


def tfidf_weights(ids: np.ndarray, batch: Batch, idf: np.ndarray) -> np.ndarray:
    """Each token's IDF, divided by its song's L2 norm (float32, aligned with `ids`, the batch's
    token ids folded into the table)."""
    weights = idf[ids].astype(np.float32)
    norms = np.sqrt(np.bincount(batch.token_rows(), weights=weights * weights, minlength=len(batch)))
    norms[norms == 0] = 1.0
    result: np.ndarray = (weights / np.repeat(norms, batch.token_lengths())).astype(np.float32)
    return result
