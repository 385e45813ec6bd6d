"""Macro-F1 with the any-of-its-labels rule, over the classes the scored songs carry.

A song listed under several labels counts as correct when the prediction is any of them (it is
scored against the label it was given, else against its first label). The average runs over the
classes that occur in the truth: a model is not rewarded or punished for classes the data set
does not have (a prediction of "jazz" on a set without jazz is simply a miss).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def lenient_truth(predicted: np.ndarray, label_sets: Sequence[tuple[int, ...]]) -> np.ndarray:
    return np.array([p if p in labels else labels[0] for p, labels in zip(predicted.tolist(), label_sets, strict=True)],
                    dtype=np.int64)


def per_class(predicted: np.ndarray, label_sets: Sequence[tuple[int, ...]], n_classes: int) -> dict[str, np.ndarray]:
    truth = lenient_truth(predicted, label_sets)
    tp = np.bincount(truth[truth == predicted], minlength=n_classes).astype(np.float64)
    support = np.bincount(truth, minlength=n_classes).astype(np.float64)
    predicted_count = np.bincount(predicted, minlength=n_classes).astype(np.float64)
    precision = np.divide(tp, predicted_count, out=np.zeros(n_classes), where=predicted_count > 0)
    recall = np.divide(tp, support, out=np.zeros(n_classes), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(n_classes), where=precision + recall > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def macro_f1(predicted: np.ndarray, label_sets: Sequence[tuple[int, ...]], n_classes: int) -> float:
    if not len(label_sets):
        return 0.0
    scores = per_class(predicted, label_sets, n_classes)
    present = scores["support"] > 0
    return float(scores["f1"][present].mean())


def report(predicted: np.ndarray, label_sets: Sequence[tuple[int, ...]], classes: Sequence[str]) -> dict[str, Any]:
    """Macro-F1, accuracy and per-class precision/recall/F1/support, for comparison.json."""
    scores = per_class(predicted, label_sets, len(classes))
    truth = lenient_truth(predicted, label_sets)
    present = scores["support"] > 0
    return {
        "macro_f1": round(float(scores["f1"][present].mean()) if present.any() else 0.0, 4),
        "accuracy": round(float((truth == predicted).mean()) if len(truth) else 0.0, 4),
        "n": len(label_sets),
        "per_class": {
            classes[c]: {k: round(float(scores[k][c]), 4) if k != "support" else int(scores[k][c])
                         for k in ("precision", "recall", "f1", "support")}
            for c in np.flatnonzero(present).tolist()
        },
    }
