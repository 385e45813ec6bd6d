"""training/predict.py's pieces that `genrebot sort` and `predict` cannot show from outside."""

from __future__ import annotations

import numpy as np

from training.predict import RowsInPlace


def test_rows_beyond_the_expected_count_are_kept_in_order() -> None:
    """A file with fewer lines than rows (old Mac line endings) still keeps every row, in order."""
    kept = RowsInPlace(expected_rows=3)
    blocks = [np.arange(start * 4, (start + 2) * 4, dtype=np.float32).reshape(2, 4) for start in range(0, 10, 2)]
    for block in blocks:
        kept.append(block)
    assert kept.rows == 10
    assert np.array_equal(kept.array(), np.concatenate(blocks))
