"""Featurising tracks (classifier/features.py): batches, the audio-free view, the numeric block, album keys."""

from __future__ import annotations

import numpy as np

from classifier.features import (
    AUDIO_FEATURES,
    META_FEATURES,
    FeatureSchema,
    featurise,
    hide_audio,
)
from tests.classifier.test_inference import DESPACITO, ENTER_SANDMAN, Song

AUDIO = {"danceability": 0.5, "energy": 0.9, "key": 4, "loudness": -5.0, "mode": 1, "speechiness": 0.05,
         "acousticness": 0.01, "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.4, "tempo": 120.0}


def test_subset_of_a_batch_equals_featurising_those_tracks_alone() -> None:
    """Picking rows of a batch gives exactly the batch of those tracks, tokens included."""
    schema = FeatureSchema()
    tracks = [DESPACITO, ENTER_SANDMAN, Song("Hey Jude", ("The Beatles",), "Hey Jude", "1968")]
    picked = featurise(tracks, schema).subset(np.array([2, 0]))
    alone = featurise([tracks[2], tracks[0]], schema)
    for field in ("token_ids", "token_offsets", "artist_keys", "album_keys", "numeric", "bins", "name_ids",
                  "name_offsets"):
        assert np.array_equal(getattr(picked, field), getattr(alone, field)), field


def test_hiding_audio_matches_a_track_without_audio_features() -> None:
    """The metadata-only view of a song with audio equals featurising it without audio."""
    schema = FeatureSchema()
    with_audio = Song("Song", ("Band",), "Album", "2001", 200000, False, AUDIO)
    without = Song("Song", ("Band",), "Album", "2001", 200000, False, None)
    hidden, plain = hide_audio(featurise([with_audio], schema)), featurise([without], schema)
    assert np.array_equal(hidden.numeric, plain.numeric) and np.array_equal(hidden.bins, plain.bins)
    assert not hidden.audio_present.any()


def test_an_impossible_duration_is_flagged_missing_not_zero() -> None:
    """A 1-second duration sets the "missing" flag, as no duration does; a real one does not."""
    batch = featurise([Song("Song", ("Band",), "", None, 1000, None), Song("Song", ("Band",), "", None, None, None),
                       Song("Song", ("Band",), "", None, 200_000, None)], FeatureSchema())
    assert batch.numeric[:, META_FEATURES.index("duration_missing")].tolist() == [1.0, 1.0, 0.0]


def test_release_date_and_explicit_flag_do_not_reach_the_model() -> None:
    """Each training set has only one of the two (the 30k set dates, the 114 set explicit), so they
    would tell the network which data set a song is from, and every real song has both: the same
    song with, without or with either of them is the same input."""
    variants = [Song("Song", ("Band",), "Album", date, 200_000, flag, AUDIO)
                for date in (None, "1975", "2021-03-04") for flag in (None, False, True)]
    batch = featurise(variants, FeatureSchema())
    for field in (batch.numeric, batch.bins, batch.token_ids.reshape(len(variants), -1)):
        assert (field == field[0]).all()


def test_audio_counts_only_when_at_least_half_the_features_are_there() -> None:
    """Four of eleven audio features are too few to use; all eleven are used."""
    few = {name: AUDIO[name] for name in list(AUDIO_FEATURES)[:4]}
    batch = featurise([Song("a", ("b",), audio_features=few), Song("a", ("b",), audio_features=AUDIO)],
                      FeatureSchema())
    assert batch.audio_present.tolist() == [False, True]


def test_an_audio_value_no_spotify_feature_can_have_reads_as_missing() -> None:
    """Key -1 (Spotify's "no key detected"), an infinite tempo, a loudness of +40 dB: each is
    featurised as that feature missing, as the data loader reads them in training, never as a
    number the network met nowhere (an infinite one made every probability NaN)."""
    schema = FeatureSchema(bin_edges=[[0.5]] * (len(AUDIO_FEATURES) + 1))
    for feature, value in (("key", -1), ("tempo", float("inf")), ("tempo", float("-inf")), ("loudness", 40.0)):
        odd = featurise([Song("Song", ("Band",), "Album", None, 200000, None, {**AUDIO, feature: value})], schema)
        absent = {k: v for k, v in AUDIO.items() if k != feature}
        plain = featurise([Song("Song", ("Band",), "Album", None, 200000, None, absent)], schema)
        assert np.array_equal(odd.numeric, plain.numeric) and np.array_equal(odd.bins, plain.bins), (feature, value)
        assert odd.audio_present.all()


def test_one_artist_spelled_two_ways_has_one_key_and_their_albums_one_album_key() -> None:
    """Features, splits and pooling share the artist key; an album is keyed by artist too."""
    batch = featurise([Song("x", ("Ｍｏｎｏ",), "Hymn"), Song("y", ("mono",), "HYMN"), Song("z", ("Other",), "Hymn")],
                      FeatureSchema())
    assert batch.artist_keys[0] == batch.artist_keys[1] != batch.artist_keys[2]
    assert batch.album_keys[0] == batch.album_keys[1] != batch.album_keys[2]
