"""Fitting the stacked name model (training/names.py): what it learns from names, how it is held out."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from classifier.features import FeatureSchema, featurise
from training.names import artist_held_out_probabilities, fit_name_model

GENRES = ["latin", "rock"]
TITLE_WORDS = {"latin": "corazón fuego baila amor noche", "rock": "thunder highway stone guitar night"}
BUCKETS = 1 << 12


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


def test_name_words_and_characters_carry_the_genre() -> None:
    """Title words learnt from training songs decide unseen titles' genres."""
    songs, labels = library()
    model = fit_name_model(featurise(songs, FeatureSchema()), labels, 2, BUCKETS, seed=0)
    probabilities = model.probabilities(featurise([Song("baila conmigo corazón", ("Nadie",)),
                                                   Song("highway thunder", ("Nobody",))], FeatureSchema()))
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert probabilities[0].argmax() == GENRES.index("latin")
    assert probabilities[1].argmax() == GENRES.index("rock")


def test_artist_held_out_folds_never_show_a_song_its_own_artist() -> None:
    """Held out by artist, "Zorblax means rock" cannot be learnt; seen, it can."""
    songs, labels = library()
    batch = featurise(songs, FeatureSchema())
    zorblax = np.array([s.artists[0] == "Zorblax" for s in songs])
    rock = GENRES.index("rock")
    held_out, _ = artist_held_out_probabilities(batch, labels, 2, BUCKETS, seed=0)
    seen = fit_name_model(batch, labels, 2, BUCKETS, seed=0).probabilities(batch)
    assert seen[zorblax, rock].mean() - held_out[zorblax, rock].mean() > 0.2


def test_held_out_probabilities_are_calibrated_by_one_temperature() -> None:
    """The fold models' temperature is returned so the final model is fitted with it."""
    songs, labels = library()
    probabilities, temperature = artist_held_out_probabilities(featurise(songs, FeatureSchema()), labels, 2, BUCKETS,
                                                               seed=0)
    assert temperature > 0 and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_folds_with_a_single_class_give_even_probabilities_not_an_error() -> None:
    """Folds too small to learn from give even probabilities instead of failing."""
    songs, labels = library()
    few, _ = artist_held_out_probabilities(featurise(songs[:3], FeatureSchema()), np.array([0, 0, 1]), 2, BUCKETS,
                                           seed=0, folds=4)
    assert few.shape == (3, 2)
    assert np.allclose(few.sum(axis=1), 1.0, atol=1e-5)
