"""Library pooling (classifier/library.py): pure functions over per-track probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.features import FeatureSchema, featurise
from classifier.library import Pooling, library_keys, pool, pooled_chunks
from tests.classifier.test_inference import Song

UNSURE = [0.4, 0.6]
SURE_FIRST = [0.95, 0.05]


def test_songs_of_one_artist_lean_towards_their_artists_genre() -> None:
    """An unsure song by an artist whose other songs are sure flips to their genre."""
    probabilities = np.array([UNSURE, SURE_FIRST, SURE_FIRST], dtype=np.float32)
    keys = np.array([7, 7, 7])
    pooled = pool(probabilities, keys, np.zeros(3, dtype=np.int64), Pooling(artist=0.6))
    assert pooled[0].argmax() == 0


def test_songs_of_other_artists_are_not_pooled() -> None:
    """Pooling never crosses artists (or albums): other artists' songs leave a song alone."""
    probabilities = np.array([UNSURE, SURE_FIRST, SURE_FIRST], dtype=np.float32)
    pooled = pool(probabilities, np.array([1, 2, 2]), np.array([5, 6, 6]), Pooling(artist=0.5, album=0.5))
    assert np.allclose(pooled[0], UNSURE, atol=1e-5)


def test_songs_without_an_artist_are_never_grouped_together() -> None:
    """Key 0 means "no artist": such songs are not one artist."""
    probabilities = np.array([UNSURE, SURE_FIRST], dtype=np.float32)
    pooled = pool(probabilities, np.array([0, 0]), np.array([0, 0]), Pooling(artist=0.9))
    assert np.allclose(pooled, probabilities, atol=1e-5)


def test_pooled_rows_are_probabilities() -> None:
    """Every pooled row sums to one, in float32, one row per song."""
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(5), size=50).astype(np.float32)
    pooled = pool(probabilities, rng.integers(1, 6, 50), rng.integers(1, 20, 50), Pooling(0.4, 0.3))
    assert pooled.shape == (50, 5) and pooled.dtype == np.float32
    assert np.allclose(pooled.sum(axis=1), 1.0, atol=1e-5)


def test_weights_that_sum_past_one_are_refused() -> None:
    """Pooling weights are shares of one."""
    with pytest.raises(ValueError):
        Pooling(artist=0.7, album=0.5)


def test_library_keys_treat_spellings_of_one_artist_as_one() -> None:
    """The pooling key is the features' artist key: case and width do not split an artist."""
    artists, albums = library_keys([Song("a", ("Ｍｏｎｏ",), "Hymn"), Song("b", ("mono ",), "hymn"),
                                    Song("c", ("Other",), "Hymn")])
    assert artists[0] == artists[1] != artists[2]
    assert albums[0] == albums[1] != albums[2]


def test_library_keys_are_the_keys_featurising_gives() -> None:
    """A featurised batch's artist and album keys are `library_keys`' (callers that featurised use them)."""
    songs = [Song("a", ("Ｍｏｎｏ", "Guest"), "Hymn"), Song("b", ("x" * 600,), "y" * 600), Song("c", (), ""),
             Song("d", ("", "Second"), "Album")]
    batch = featurise(songs, FeatureSchema())
    artists, albums = library_keys(songs)
    assert batch.artist_keys.tolist() == artists.tolist() and batch.album_keys.tolist() == albums.tolist()


@pytest.mark.parametrize("weights", [Pooling(artist=0.3, album=0.2), Pooling(artist=0.5, album=0.0), Pooling(0.0, 0.0)])
def test_pooling_in_chunks_equals_pooling_at_once(weights: Pooling) -> None:
    """`pooled_chunks` (a library too big to pool at once) gives `pool`'s result, chunk after chunk."""
    rng = np.random.default_rng(7)
    probabilities = rng.dirichlet(np.ones(12), size=1_000).astype(np.float32)
    artists = rng.integers(0, 40, size=1_000)  # 0: songs with no artist, never grouped
    albums = rng.integers(0, 90, size=1_000)
    whole = pool(probabilities, artists, albums, weights)
    chunked = np.concatenate(list(pooled_chunks(probabilities, artists, albums, weights, rows_per_chunk=128)))
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6)
