"""Training steps (training/train.py): token dropout, validation, the held-out genre tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from classifier.features import FeatureSchema, featurise
from classifier.taxonomy import Taxonomy
from tests.classifier.test_inference import DESPACITO, ENTER_SANDMAN
from training.cli import SHIPPED_TAXONOMY
from training.data import SongRow
from training.train import (
    count_genres,
    drop_tokens,
    split_validation,
    tune_blend,
)
from training.tuning import tune_sharpness


def test_token_dropout_keeps_at_least_one_token_per_song() -> None:
    """Even at a 100 % rate every song keeps its first token, so no bag is empty."""
    batch = featurise([DESPACITO, ENTER_SANDMAN], FeatureSchema())
    dropped = drop_tokens(batch, 1.0, np.random.default_rng(0))
    assert list(dropped.token_lengths()) == [1, 1]
    assert list(dropped.token_ids) == list(batch.token_ids[batch.token_offsets])


def test_token_dropout_hides_about_the_given_share() -> None:
    """At 20 % about a fifth of the n-grams go, each song's from its own tokens."""
    batch = featurise([DESPACITO, ENTER_SANDMAN] * 200, FeatureSchema())
    dropped = drop_tokens(batch, 0.2, np.random.default_rng(0))
    assert 0.75 < len(dropped.token_ids) / len(batch.token_ids) < 0.85
    assert set(dropped.token_ids[: dropped.token_offsets[1]]) <= set(batch.token_ids[: batch.token_offsets[1]])


def test_validation_holds_out_whole_artists_and_some_songs_of_known_ones() -> None:
    """Unseen-artist validation rows share no artist with training; seen ones all do."""
    artists = np.array([i % 50 + 1 for i in range(1000)])
    split = split_validation(artists, 0.2, np.random.default_rng(0))
    train_artists = set(artists[split.train].tolist())
    assert not set(artists[split.unseen].tolist()) & train_artists
    assert set(artists[split.seen].tolist()) <= train_artists
    assert len(np.intersect1d(split.train, split.all)) == 0


def test_a_training_song_never_sees_its_own_label_in_its_artists_genres() -> None:
    """Held-out genre tables: a song's artist features come from the artist's other songs only."""
    keys = np.array([7, 7, 9])
    targets = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    table, features = count_genres(keys, targets, np.arange(3), folds=3, rng=np.random.default_rng(1))
    for row in range(3):
        others = [r for r in range(3) if keys[r] == keys[row] and r != row]
        if features[row, :2].sum() > 0:
            assert others and (features[row, :2] > 0).tolist() == (targets[others].sum(0) > 0).tolist()
    assert table.features(np.array([7]))[0, :2].tolist() == [0.5, 0.5]


def test_an_artist_without_other_training_songs_reads_as_unknown() -> None:
    """A lone song's artist features are zeros (what an unseen artist looks like)."""
    _, features = count_genres(np.array([3, 4]), np.eye(2, dtype=np.float32), np.arange(2), folds=2,
                               rng=np.random.default_rng(0))
    assert not features.any()



def test_blend_weights_are_tuned_per_kind_of_song() -> None:
    """Where only the names are right (new artists) the blend leans on them; where only the
    network is right (known artists) it keeps the network."""
    taxonomy = Taxonomy.load(Path("training/taxonomy.json"))
    n, genres = 200, len(taxonomy.genres)
    truth = np.arange(n) % 4 * 7  # four genres in four different families
    def peaked(genre: np.ndarray, peak: float) -> np.ndarray:
        out = np.full((n, genres), (1 - peak) / genres, dtype=np.float32)
        out[np.arange(n), genre] += peak
        return out

    known = np.arange(n) < n // 2
    # Each is confidently wrong where the other is (less confidently) right: only a weight past
    # one half lets the names win for new artists.
    network = np.where(known[:, None], peaked(truth, 0.6), peaked(truth + 3, 0.9))
    names = np.where(known[:, None], peaked(truth + 3, 0.9), peaked(truth, 0.6))
    label_sets: list[tuple[int, ...]] = [(int(g),) for g in truth]
    blend = tune_blend([network, network], names, known, [np.ones(n, dtype=bool), np.zeros(n, dtype=bool)],
                       label_sets, taxonomy)
    assert blend.known_artist_with_audio < 0.5 and blend.known_artist_without_audio < 0.5
    assert blend.new_artist_with_audio > 0.5 and blend.new_artist_without_audio > 0.5


def test_the_decision_sharpness_is_tuned_to_stop_many_genre_families_taking_unsure_songs() -> None:
    """Validation songs of a one-genre family, unsure between it and a seven-genre family's thin genres: sharpening wins."""
    taxonomy = Taxonomy.load(SHIPPED_TAXONOMY)
    sizes = np.bincount(taxonomy.genre_family)
    one = int(np.flatnonzero(taxonomy.genre_family == sizes.argmin())[0])
    many = [int(g) for g in np.flatnonzero(taxonomy.genre_family == sizes.argmax())[:7]]
    views = np.full((40, len(taxonomy.genres)), 1e-4, dtype=np.float32)
    views[:20, one], views[:20, many] = 0.3, 0.1  # truly `one`, unsure
    views[20:, many[0]], views[20:, one] = 0.6, 0.1  # truly many[0], sure
    views /= views.sum(axis=1, keepdims=True)
    labels = [(one,)] * 20 + [(many[0],)] * 20
    batch = featurise([SongRow(f"song {i}", (f"artist {i}",), f"album {i}", "2001", 200_000, False, None)
                       for i in range(40)], FeatureSchema())
    power, _ = tune_sharpness([views], batch, labels, taxonomy)
    assert power > 1.0
