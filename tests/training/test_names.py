"""Fitting the stacked name model (training/names.py): what it learns from names, how it is held out."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from training.names import fit_name_model, out_of_fold_probabilities

GENRES = ["latin", "rock"]
TITLE_WORDS = {"latin": "corazón fuego baila amor noche", "rock": "thunder highway stone guitar night"}


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
    model = fit_name_model(songs, labels, n_classes=2, seed=0)
    probabilities = model.probabilities([Song("baila conmigo corazón", ("Nadie",)), Song("highway thunder", ("Nobody",))])
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert probabilities[0].argmax() == GENRES.index("latin")
    assert probabilities[1].argmax() == GENRES.index("rock")


def test_artist_grouped_folds_never_show_a_song_its_own_artist() -> None:
    """Artist-grouped out-of-fold probabilities cannot use the artist's own name."""
    songs, labels = library()
    artists = np.array([s.artists[0] for s in songs])
    rock = GENRES.index("rock")
    zorblax = artists == "Zorblax"
    by_song = out_of_fold_probabilities(songs, labels, 2, seed=0)
    by_artist = out_of_fold_probabilities(songs, labels, 2, seed=0, groups=artists)
    # Random folds let the model learn "Zorblax means rock" from the artist's other songs;
    # artist-grouped folds hide the whole artist, so only the (uninformative) titles remain.
    assert by_song[zorblax, rock].mean() > 0.8
    assert by_song[zorblax, rock].mean() - by_artist[zorblax, rock].mean() > 0.2


def test_out_of_fold_with_too_little_data_is_even_not_an_error() -> None:
    """Folds too small to learn from give even probabilities instead of failing."""
    songs, labels = library()
    few = out_of_fold_probabilities(songs[:3], np.array([0, 0, 1]), 2, seed=0, folds=4)
    assert few.shape == (3, 2)
    assert np.allclose(few.sum(axis=1), 1.0, atol=1e-5)
