"""training/predict.py's pieces that `genrebot sort` and `predict` cannot show from outside."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.services.sorting.classifying import STORED_DTYPE
from classifier import Classifier
from sandbox.library import synthetic_library
from tests.training.layouts import exportify, exportify_of, with_episodes
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


def test_a_podcast_episode_gets_no_genre_and_is_named_as_one(tmp_path: Path) -> None:
    """An export's episode rows are classified with the rest but written with empty prediction
    columns (`predict`, all-with-genres.csv), and the file says which rows they are."""
    export = with_episodes(exportify_of(tmp_path / "mixed.csv", synthetic_library(5, seed=3, prefix="ep")), 2)
    classified = classify_file(export, Classifier.load(), progress=False)
    assert classified.episodes.tolist() == [5, 6]
    [frame] = classified.chunks()
    written = classified.annotated(frame, ("g", "gc", "s", "sc"), suffix="_x")
    assert (written["g"].iloc[:5] != "").all() and (written["g"].iloc[5:] == "").all()
    assert written["gc"].iloc[5:].isna().all() and written["gc"].iloc[:5].notna().all()


def test_podcast_episodes_never_pool_with_the_songs_of_an_artist_named_like_their_show(tmp_path: Path) -> None:
    """`--library` (and `sort`): an episode whose show shares its name with an artist of the file
    leaves that artist's songs decided exactly as without it."""
    songs = synthetic_library(6, seed=4, prefix="show")
    named = [replace(s, artists=("A Talk Show",)) for s in songs]
    alone = classify_file(exportify_of(tmp_path / "alone.csv", named), Classifier.load(), library=True, progress=False)
    mixed = classify_file(with_episodes(exportify_of(tmp_path / "mixed.csv", named), 2), Classifier.load(),
                          library=True, progress=False)
    assert np.array_equal(mixed.decided.genre[:6], alone.decided.genre)
    assert np.array_equal(mixed.decided.genre_confidence[:6], alone.decided.genre_confidence)
