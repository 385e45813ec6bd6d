"""Classifying a CSV's rows and writing them back out: the one path `genrebot predict` and
`genrebot sort --csv` share (read -> classify -> write), vectorised end to end.

The input is kept as read (every column a string); predictions become columns of their own, and
writing is one `DataFrame.to_csv` call, never a Python loop over rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from classifier import Classifier, Prediction
from training.data import LoadedRows, load_rows


@dataclass
class ClassifiedRows:
    rows: LoadedRows
    predictions: list[Prediction]

    @property
    def frame(self) -> pd.DataFrame:
        return self.rows.frame

    def prediction_frame(self, names: tuple[str, str, str, str] = (
            "genre", "genre_confidence", "subgenre", "subgenre_confidence")) -> pd.DataFrame:
        """The four prediction columns, aligned with the input's rows."""
        predictions = self.predictions
        return pd.DataFrame({
            names[0]: [p.genre for p in predictions],
            names[1]: np.array([p.genre_confidence for p in predictions], dtype=np.float64),
            names[2]: [p.subgenre or "" for p in predictions],
            names[3]: np.array([np.nan if p.subgenre_confidence is None else p.subgenre_confidence
                                for p in predictions], dtype=np.float64),
        }, index=self.frame.index)


def classify_csv(path: Path, classifier: Classifier, *, library: bool = False) -> ClassifiedRows:
    """Every row of the file, classified, in input order; with `library`, pooled as one library."""
    rows = load_rows(path)
    return ClassifiedRows(rows, classifier.classify(rows.tracks, library=library))


def write_csv(path: Path, frame: pd.DataFrame, *, decimals: int, quote_all: bool = False) -> None:
    """One CSV write; confidences with `decimals` places, a missing one as an empty cell."""
    frame.to_csv(path, index=False, float_format=f"%.{decimals}f", na_rep="", lineterminator="\r\n",
                 quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
