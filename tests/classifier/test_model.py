"""The genre network (classifier/model.py): the folded network classifying uses gives the network's answers."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import torch

from classifier import Classifier
from classifier.features import AUDIO_FEATURES, featurise, hide_audio
from classifier.model import ROWS_PER_CHUNK, FoldedNet, KnownRows
from music import Track
from sandbox.library import demo_library, synthetic_library


def mixed_library() -> list[Track]:
    """Demo songs (artists and albums the model knows) spread among made-up ones, half with audio
    features, over more than one chunk of the folded network's dense pass."""
    rng = random.Random(5)
    tracks = synthetic_library(2 * ROWS_PER_CHUNK, seed=9) + demo_library()
    rng.shuffle(tracks)
    return [replace(t, audio_features={name: rng.random() for name in AUDIO_FEATURES}) if i % 2 else t
            for i, t in enumerate(tracks)]


def folded_and_expected_logits(*, bfloat16: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(FoldedNet's logits, GenreNet.forward's) for the mixed library, with audio and without."""
    parts = Classifier.load().parts
    batch = featurise(mixed_library(), parts.schema)
    pairs = []
    for view in (batch, hide_audio(batch)):
        names = parts.names.probabilities(view)
        artists = KnownRows(*parts.artists.known_features(view.artist_keys))
        albums = KnownRows(*parts.albums.known_features(view.album_keys))
        assert len(artists.rows) > 20 and len(albums.rows) > 20 and artists.rows[-1] > ROWS_PER_CHUNK
        with torch.inference_mode():
            expected = parts.net.eval()(parts.inputs(view, name_probabilities=names))[0].numpy()
        folded = FoldedNet.of(parts.net, names.shape[1], bfloat16=bfloat16).logits(
            view.token_ids, view.token_offsets, view.numeric, names, artists, albums, view.bins)
        pairs.append((folded, expected))
    return pairs


def test_the_folded_network_gives_the_networks_logits() -> None:
    """In float32, `FoldedNet.logits` equals `GenreNet.forward` on the dense inputs, up to float rounding, audio or not."""
    for folded, expected in folded_and_expected_logits(bfloat16=False):
        assert np.abs(folded - expected).max() < 1e-4
        assert np.array_equal(folded.argmax(axis=1), expected.argmax(axis=1))


def test_a_bfloat16_trunk_moves_logits_by_hundredths_and_nearly_no_decision() -> None:
    """The trunk in bfloat16 (what CPUs with it in hardware run) stays within a few hundredths of
    the float32 logits, and picks the same genre for at least 99 % of 8,000 made-up and demo songs
    (on the real data sets, 99.97 % or more: model card)."""
    for folded, expected in folded_and_expected_logits(bfloat16=True):
        assert 1e-4 < np.abs(folded - expected).max() < 0.05  # bfloat16's rounding, not float32's
        assert np.mean(folded.argmax(axis=1) == expected.argmax(axis=1)) >= 0.99


def test_known_features_are_each_known_artists_genre_shares_and_song_count() -> None:
    """The artist table's known rows: each known artist's genre counts over their total, then log(1 + total)."""
    parts = Classifier.load().parts
    table = parts.artists
    keys = featurise(mixed_library(), parts.schema).artist_keys
    positions, values = table.known_features(keys)
    assert np.array_equal(positions, np.flatnonzero(np.isin(keys, table.keys)))
    for position, row in zip(positions, values, strict=True):
        entry = int(np.searchsorted(table.keys, keys[position]))
        counts = np.zeros(table.n_genres)
        span = slice(table.indptr[entry], table.indptr[entry + 1])
        np.add.at(counts, table.genres[span], table.counts[span])
        assert np.allclose(row, [*(counts / counts.sum()), np.log1p(counts.sum())], atol=1e-6)
