"""training/predict.py's pieces that `genrebot sort` and `predict` cannot show from outside."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.services.sorting.classifying import STORED_DTYPE
from classifier import Classifier
from music import Track
from tests.training.layouts import exportify, exportify_of
from training.data import iter_rows
from training.predict import RowsInPlace, classify_file


def test_rows_beyond_the_expected_count_are_kept_in_order() -> None:
    """A file with fewer lines than rows (old Mac line endings) still keeps every row, in order."""
    kept = RowsInPlace(expected_rows=3)
    blocks = [np.arange(start * 4, (start + 2) * 4, dtype=np.float32).reshape(2, 4) for start in range(0, 10, 2)]
    for block in blocks:
        kept.append(block)
    assert kept.rows == 10
    assert np.array_equal(kept.array(), np.concatenate(blocks))


def test_a_files_library_is_pooled_from_the_probabilities_the_bot_would_store(tmp_path: Path) -> None:
    """`--library` keeps each row's probabilities as /sort stores a member's (float16) and decides as /sort would."""
    classifier = Classifier.load()
    export = exportify(tmp_path, with_audio=False)
    [loaded] = iter_rows(export, 1_000)
    stored = classifier.genre_probabilities(loaded.tracks).astype(STORED_DTYPE).astype(np.float32)
    expected = classifier.decide(classifier.pool(loaded.tracks, stored))
    decided = classify_file(export, classifier, library=True, progress=False).decided
    assert (decided.family == expected.family).all() and (decided.genre == expected.genre).all()
    assert np.allclose(decided.genre_confidence, expected.genre_confidence, atol=1e-5)
    assert np.allclose(decided.family_confidence, expected.family_confidence, atol=1e-5)


def test_an_exports_release_dates_reach_the_release_year_evidence(tmp_path: Path) -> None:
    """The same song dated 1984 and 2019 in an Exportify file is weighed by its year (the shipped
    model reads it beside the network); with the date left blank it is weighed by none, as the
    classifier without the evidence would answer."""
    song = Track(id="0" * 22, name="Midnight Drive", artists=("Neon Harbor",), album="Glass City", duration_ms=240_000)
    export = exportify_of(tmp_path / "liked.csv", [replace(song, id=f"{i:022d}", release_date=date)
                                                   for i, date in enumerate(("1984", "2019-05-01", None))])
    shipped = Classifier.load()
    assert shipped.year_evidence is not None
    def confidences(classifier: Classifier) -> np.ndarray:
        decided = classify_file(export, classifier, library=False, progress=False).decided
        return np.stack([decided.family_confidence, decided.genre_confidence], axis=1)

    dated = confidences(shipped)
    assert not np.allclose(dated[0], dated[1], atol=1e-3)  # 1984 and 2019: weighed differently
    without = Classifier(shipped.parts, {k: v for k, v in shipped.metadata.items() if k != "release_year"})
    assert np.allclose(dated[2], confidences(without)[2], atol=1e-6)  # no date: as if there were no evidence
