"""The final blend of the network with the name model, and its sharpening for deciding (classifier/names.py)."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.names import NameBlend, geometric_blend, sharpened

NETWORK = np.array([[0.7, 0.2, 0.1]], dtype=np.float32)  # the network says genre 0
NAMES = np.array([[0.1, 0.8, 0.1]], dtype=np.float32)  # the names say genre 1
BLEND = NameBlend(known_artist_with_audio=0.0, known_artist_without_audio=0.1, new_artist_with_audio=0.3,
                  new_artist_without_audio=0.9)


def decide(known: bool, audio: bool) -> int:
    mixed = BLEND.apply(NETWORK, NAMES, np.array([known]), np.array([audio]))
    assert np.allclose(mixed.sum(axis=1), 1.0, atol=1e-6)
    return int(mixed.argmax())


def test_a_song_by_a_new_artist_without_audio_leans_on_the_names() -> None:
    """New artist, no audio: the name model's weight (0.9) decides."""
    assert decide(known=False, audio=False) == 1


def test_a_song_by_a_known_artist_keeps_the_networks_answer() -> None:
    """Known artist, with or without audio: the network (which knows the artist) decides."""
    assert decide(known=True, audio=True) == 0
    assert decide(known=True, audio=False) == 0


def test_each_kind_of_song_gets_its_own_weight() -> None:
    """Weights are looked up per row by (artist known, audio present)."""
    weights = BLEND.weights(np.array([True, True, False, False]), np.array([True, False, True, False]))
    assert weights.tolist() == [0.0, 0.1, 0.3, 0.9]


def test_a_zero_weight_returns_the_network_unchanged() -> None:
    """No blend, no change: an older model without blend weights classifies as before."""
    assert np.array_equal(NameBlend().apply(NETWORK, NAMES, np.array([False]), np.array([False])), NETWORK)
    assert np.allclose(geometric_blend(NETWORK, NAMES, 1.0), NAMES, atol=1e-6)


def test_weights_outside_zero_to_one_are_refused() -> None:
    """A blend weight is a share: a model.json with 1.5 is refused, not extrapolated."""
    with pytest.raises(ValueError, match="between 0 and 1"):
        NameBlend(new_artist_without_audio=1.5)


# One genre of a one-genre family at 0.3 against seven genres of another family at 0.1 each.
UNSURE = np.array([[0.3] + [0.1] * 7], dtype=np.float32)
ONE_GENRE_FAMILY, SEVEN_GENRE_FAMILY = [0], list(range(1, 8))


def test_an_unsure_song_goes_to_the_family_with_more_genres_unless_sharpened() -> None:
    """Summed as they are, seven thin genres (0.7) beat the song's most likely genre (0.3); squared, they do not."""
    as_blended = sharpened(UNSURE, 1.0)[0]
    assert as_blended[SEVEN_GENRE_FAMILY].sum() > as_blended[ONE_GENRE_FAMILY].sum()
    squared = sharpened(UNSURE, 2.0)[0]
    assert squared[ONE_GENRE_FAMILY].sum() > squared[SEVEN_GENRE_FAMILY].sum()


def test_sharpening_keeps_each_songs_order_of_genres() -> None:
    """The genres keep their order; rows still sum to one."""
    rows = np.array([[0.5, 0.2, 0.3], [0.1, 0.6, 0.3]], dtype=np.float32)
    sharp = sharpened(rows, 2.5)
    assert np.allclose(sharp.sum(axis=1), 1.0, atol=1e-6)
    assert (np.argsort(sharp, axis=1) == np.argsort(rows, axis=1)).all()
