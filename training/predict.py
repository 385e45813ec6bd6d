"""Classifying a CSV's rows and writing them back out: the one path `genrebot predict` and
`genrebot sort --csv` share (read -> classify -> write), vectorised end to end.

The input is kept as read (every column a string); predictions become columns of their own, and
writing is one `DataFrame.to_csv` call, never a Python loop over rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from classifier import Classifier, Prediction
from cli_output import neutralise_formula_cells
from training.data import LoadedRows, load_rows


@dataclass
class ClassifiedRows:
    rows: LoadedRows
    classifier: Classifier
    probabilities: np.ndarray  # per row, over classifier.genres (pooled when classified as a library)

    @property
    def frame(self) -> pd.DataFrame:
        return self.rows.frame

    @cached_property
    def predictions(self) -> list[Prediction]:
        """One `Prediction` per row (for playlist planning; the CSV writer does not need them)."""
        return self.classifier.predictions(self.probabilities)

    def prediction_frame(self, names: tuple[str, str, str, str] = (
            "genre", "genre_confidence", "subgenre", "subgenre_confidence")) -> pd.DataFrame:
        """The four prediction columns (family, its confidence, genre, its confidence), aligned
        with the input's rows, built from arrays."""
        decided = self.classifier.decide(self.probabilities)
        families = np.array(self.classifier.families, dtype=object)
        genres = np.array(self.classifier.genres, dtype=object)
        return pd.DataFrame({
            names[0]: families[decided.family],
            names[1]: decided.family_confidence.astype(np.float64),
            names[2]: genres[decided.genre],
            names[3]: decided.genre_confidence.astype(np.float64),
        }, index=self.frame.index)


def classify_csv(path: Path, classifier: Classifier, *, library: bool = False) -> ClassifiedRows:
    """Every row of the file, classified, in input order; with `library`, pooled as one library."""
    rows = load_rows(path)
    probabilities = classifier.genre_probabilities(rows.tracks)
    if library:
        probabilities = classifier.pool(rows.tracks, probabilities)
    return ClassifiedRows(rows, classifier, probabilities)


def write_csv(path: Path, frame: pd.DataFrame, *, decimals: int, quote_all: bool = False) -> None:
    """One CSV write; confidences with `decimals` places, a missing one as an empty cell, and no
    cell a spreadsheet would run as a formula (`cli_output.neutralise_formula_cells`)."""
    neutralise_formula_cells(frame).to_csv(path, index=False, float_format=f"%.{decimals}f", na_rep="", lineterminator="\r\n",
                 quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
