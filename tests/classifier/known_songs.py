"""Songs by artists the shipped model met in training, and by artists it never met, for tests of
what genrebot tells a member about them. Whether an artist is in the model's table is read here
by set membership on its keys, not through `Classifier.known_artists` (the code under test)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classifier import Classifier
from classifier.text import key_hash, primary_artist
from music import Track
from sandbox.library import demo_library


def by_artists_in_the_table(classifier: Classifier, tracks: Sequence[Track]) -> list[Track]:
    """The tracks whose primary artist's key is among the model's artist table's keys."""
    keys = np.array([key_hash(primary_artist(t.artists)) for t in tracks], dtype=np.int64)
    return [t for t, known in zip(tracks, np.isin(keys, classifier.parts.artists.keys), strict=True) if known]


def demo_songs_by_known_artists(classifier: Classifier, count: int) -> list[Track]:
    """`count` songs of the demo library by artists the model met in training."""
    songs = by_artists_in_the_table(classifier, demo_library())[:count]
    assert len(songs) == count, f"the demo library has {len(songs)} songs by artists this model met, not {count}"
    return songs
