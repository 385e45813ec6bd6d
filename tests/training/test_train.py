"""Training steps (training/train.py): token dropout and the validation split."""

from __future__ import annotations

import numpy as np

from classifier.features import FeatureSchema, featurise
from tests.classifier.test_inference import DESPACITO, ENTER_SANDMAN
from training.train import drop_tokens, split_validation


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
    first = set(dropped.token_ids[: dropped.token_offsets[1]])
    assert first <= set(batch.token_ids[: batch.token_offsets[1]])


def test_validation_holds_out_whole_artists_and_some_songs_of_known_ones() -> None:
    """Unseen-artist validation rows share no artist with training; seen ones all do."""
    artists = np.array([f"artist {i % 50}" for i in range(1000)])
    split = split_validation(artists, 0.2, np.random.default_rng(0))
    train_artists = set(artists[split.train])
    assert not set(artists[split.unseen]) & train_artists
    assert set(artists[split.seen]) <= train_artists
    assert len(np.intersect1d(split.train, split.all)) == 0
