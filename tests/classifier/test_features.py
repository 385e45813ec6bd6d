"""Featurising tracks (classifier/features.py): batches, the audio-free view, the artist key."""

from __future__ import annotations

import re
import zlib

import numpy as np

from classifier.features import (
    AUDIO_FEATURES,
    EMPTY_NAME_ID,
    META_FEATURES,
    FeatureSchema,
    featurise,
    hide_audio,
    primary_artist,
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


def test_artist_key_ignores_case_width_and_surrounding_space() -> None:
    """'Ｍｏｎｏ ', 'MONO' and 'mono' are one artist; an empty first name falls to the next."""
    assert primary_artist(["Ｍｏｎｏ "]) == primary_artist(["MONO"]) == primary_artist(["mono"])
    assert primary_artist(["", "Mono"]) == "mono"


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


def test_one_artist_spelled_two_ways_has_one_key_and_their_albums_one_album_key() -> None:
    """Features, splits and pooling share the artist key; an album is keyed by artist too."""
    batch = featurise([Song("x", ("Ｍｏｎｏ",), "Hymn"), Song("y", ("mono",), "HYMN"), Song("z", ("Other",), "Hymn")],
                      FeatureSchema())
    assert batch.artist_keys[0] == batch.artist_keys[1] != batch.artist_keys[2]
    assert batch.album_keys[0] == batch.album_keys[1] != batch.album_keys[2]


def name_tokens(*songs: Song) -> list[list[int]]:
    """Each song's name-model token ids, as `featurise` gives them."""
    batch = featurise(list(songs), FeatureSchema())
    ends = np.append(batch.name_offsets[1:], len(batch.name_ids))
    return [batch.name_ids[start:end].tolist() for start, end in zip(batch.name_offsets, ends, strict=True)]


def test_the_name_models_tokens_are_the_same_whichever_name_a_word_is_in() -> None:
    """A word says the same to the name model in a title, an album or an artist's name ("reggaeton"
    in a new artist's album reads as it did in other songs' titles); the network keeps them apart."""
    in_title = Song("Reggaeton Mix", ("Nadie",), "", None)
    in_album = Song("", ("Nadie",), "Reggaeton Mix", None)
    in_title_names, in_album_names = name_tokens(in_title, in_album)
    assert sorted(in_title_names) == sorted(in_album_names)
    network = [sorted(featurise([song], FeatureSchema()).token_ids.tolist()) for song in (in_title, in_album)]
    assert network[0] != network[1]


def test_the_name_model_reads_punctuation_and_short_grams_that_the_network_does_not() -> None:
    """Character 2- to 5-grams of whitespace-separated tokens, punctuation kept: "(feat." and
    "Op. 9" carry style. A title differing only in its punctuation gives other name-model tokens."""
    plain, dotted = name_tokens(Song("Nocturne Op 9", ("Chopin",), "", None),
                                Song("Nocturne Op. 9", ("Chopin",), "", None))
    assert set(dotted) - set(plain)
    empty, short = name_tokens(Song("", (), "", None), Song("ab", (), "", None))
    # "ab": the word, its 2-grams " a" "ab" "b ", 3-grams " ab" "ab " and 4-gram " ab "
    assert empty == [EMPTY_NAME_ID] and len(short) == 1 + 3 + 2 + 1


def test_each_song_gets_the_same_name_model_tokens_in_a_batch_as_alone() -> None:
    """Names are tokenised once per batch (each distinct name once, ASCII grams hashed with numpy
    over the whole batch): songs sharing an album or artist, songs without any name (or only
    spaces) between them, and mixed scripts still get exactly their own tokens."""
    songs = [Song("Danza Kuduro", ("Don Omar", "Lucenzo"), "Meet the Orphans", None),
             Song("", (), "", None),
             Song("Dutty Love", ("Don Omar", "Natti Natasha"), "Meet the Orphans", None),
             Song("   ", ("  ",), "", None),
             Song("Café del Mar", ("Energy 52",), "Café del Mar", None),
             Song("東京フラッシュ", ("Vaundy",), "strobo", None),
             Song("Danza Kuduro", ("Don Omar", "Lucenzo"), "Meet the Orphans", None)]
    together = name_tokens(*songs)
    alone = [name_tokens(song)[0] for song in songs]
    assert [sorted(ids) for ids in together] == [sorted(ids) for ids in alone]
    assert together[1] == together[3] == [EMPTY_NAME_ID]
    assert len(together[0]) > 40


def test_name_model_token_ids_are_crc32_of_their_text_for_every_script() -> None:
    """The ids the shipped name model was trained on: crc32 of "w " + a word and of "c" + a
    character gram, whatever the shortcut taken for ASCII names."""
    for title in ("Ai Se Eu Te Pego", "Obsesión", "東京フラッシュ", "(feat. Ozuna)", "Café del Mar"):
        ids = name_tokens(Song(title, (), "", None))[0]
        padded = [f" {token} " for token in title.casefold().split()]
        grams = {zlib.crc32(("c" + p[i : i + n]).encode()) for p in padded for n in range(2, 6)
                 for i in range(len(p) - n + 1)}
        assert grams <= set(ids), title
        words = re.findall(r"\b\w\w+\b", title.casefold())
        assert {zlib.crc32(("w " + w).encode()) for w in words} <= set(ids), title
