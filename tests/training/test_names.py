"""Fitting the stacked name model (training/names.py): what it learns from names, how it is held out."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfTransformer

from classifier.features import Batch, FeatureSchema, featurise
from classifier.names import NameModel
from training.names import (
    NameFit,
    artist_held_out_name_model,
    document_frequency_idf,
    fit_name_model,
    one_hot,
)

GENRES = ["latin", "rock"]
TITLE_WORDS = {"latin": "corazón fuego baila amor noche", "rock": "thunder highway stone guitar night"}
FIT = NameFit(buckets=1 << 12, epochs=8)


@dataclass(frozen=True)
class Song:
    name: str
    artists: tuple[str, ...]
    album: str = ""
    release_date: str | None = None
    duration_ms: int | None = None
    explicit: bool | None = None
    audio_features: dict[str, float] | None = None


def library(seed: int = 1) -> tuple[list[Song], np.ndarray]:
    """Titles that say the genre, plus one artist ("Zorblax") whose *name* is the only rock clue."""
    rng = random.Random(seed)
    songs, labels = [], []
    for i in range(300):
        genre = i % 2
        words = TITLE_WORDS[GENRES[genre]].split()
        songs.append(Song(f"{rng.choice(words)} {rng.choice(words)}", (f"{GENRES[genre]} band {i % 40}",)))
        labels.append(genre)
    for i in range(30):
        songs.append(Song(f"untitled {i}", ("Zorblax",)))
        labels.append(GENRES.index("rock"))
    return songs, np.array(labels)


def fitted(songs: list[Song], labels: np.ndarray) -> tuple[Batch, NameModel]:
    batch = featurise(songs, FeatureSchema())
    return batch, fit_name_model(batch, one_hot(labels, 2), document_frequency_idf(batch, FIT.buckets), FIT, seed=0)


def test_idf_is_scikit_learns_smoothed_idf_of_the_same_songs() -> None:
    """A token counts once per song it is in, however often it recurs there."""
    songs, _ = library()
    batch = featurise(songs, FeatureSchema())
    counts = csr_matrix((np.ones(len(batch.name_ids)), (batch.name_rows(), batch.name_ids % FIT.buckets)),
                        shape=(len(songs), FIT.buckets))
    reference = TfidfTransformer().fit(counts)
    assert np.allclose(document_frequency_idf(batch, FIT.buckets), reference.idf_, atol=1e-5)


def test_name_words_and_characters_carry_the_genre() -> None:
    """Title words learnt from training songs decide unseen titles' genres."""
    songs, labels = library()
    _, model = fitted(songs, labels)
    probabilities = model.probabilities(featurise([Song("baila conmigo corazón", ("Nadie",)),
                                                   Song("highway thunder", ("Nobody",))], FeatureSchema()))
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert probabilities[0].argmax() == GENRES.index("latin")
    assert probabilities[1].argmax() == GENRES.index("rock")


def test_artist_held_out_folds_never_show_a_song_its_own_artist() -> None:
    """Held out by artist, "Zorblax means rock" cannot be learnt; seen, it can."""
    songs, labels = library()
    batch, seen_model = fitted(songs, labels)
    zorblax = np.array([s.artists[0] == "Zorblax" for s in songs])
    rock = GENRES.index("rock")
    _, held_out = artist_held_out_name_model(batch, one_hot(labels, 2), FIT, seed=0)
    seen = seen_model.probabilities(batch)
    assert seen[zorblax, rock].mean() - held_out[zorblax, rock].mean() > 0.2


def test_the_shipped_name_model_is_the_mean_of_the_fold_models_and_calibrated() -> None:
    """The folds' mean model still reads titles right, and its held-out probabilities are distributions."""
    songs, labels = library()
    batch = featurise(songs, FeatureSchema())
    model, held_out = artist_held_out_name_model(batch, one_hot(labels, 2), FIT, seed=0)
    assert np.allclose(held_out.sum(axis=1), 1.0, atol=1e-5)
    probabilities = model.probabilities(featurise([Song("corazón noche", ("Nadie",))], FeatureSchema()))
    assert probabilities[0].argmax() == GENRES.index("latin")


def test_folds_with_too_few_songs_give_even_probabilities_not_an_error() -> None:
    """Data too small to fill every fold gives even probabilities where a fold had nothing to learn."""
    songs, labels = library()
    batch = featurise(songs[:3], FeatureSchema())
    _, few = artist_held_out_name_model(batch, one_hot(np.array([0, 0, 1]), 2), NameFit(buckets=1 << 12, folds=4),
                                        seed=0)
    assert few.shape == (3, 2)
    assert np.allclose(few.sum(axis=1), 1.0, atol=1e-5)
