"""The name model's tokens (classifier/name_tokens.py): what each name gives, the same in a batch
as alone, and the ids the shipped model was trained on."""

from __future__ import annotations

import re
import zlib

import numpy as np

from classifier.features import FeatureSchema, featurise
from classifier.name_tokens import EMPTY_NAME_ID
from tests.classifier.test_inference import Song


def song_tokens(*songs: Song) -> list[list[int]]:
    """Each song's name-model token ids, as `featurise` gives them."""
    batch = featurise(list(songs), FeatureSchema())
    ends = np.append(batch.name_offsets[1:], len(batch.name_ids))
    return [batch.name_ids[start:end].tolist() for start, end in zip(batch.name_offsets, ends, strict=True)]


def test_the_name_models_tokens_are_the_same_whichever_name_a_word_is_in() -> None:
    """A word says the same to the name model in a title, an album or an artist's name ("reggaeton"
    in a new artist's album reads as it did in other songs' titles); the network keeps them apart."""
    in_title = Song("Reggaeton Mix", ("Nadie",), "", None)
    in_album = Song("", ("Nadie",), "Reggaeton Mix", None)
    in_title_names, in_album_names = song_tokens(in_title, in_album)
    assert sorted(in_title_names) == sorted(in_album_names)
    network = [sorted(featurise([song], FeatureSchema()).token_ids.tolist()) for song in (in_title, in_album)]
    assert network[0] != network[1]


def test_the_name_model_reads_punctuation_and_short_grams_that_the_network_does_not() -> None:
    """Character 2- to 5-grams of whitespace-separated tokens, punctuation kept: "(feat." and
    "Op. 9" carry style. A title differing only in its punctuation gives other name-model tokens."""
    plain, dotted = song_tokens(Song("Nocturne Op 9", ("Chopin",), "", None),
                                Song("Nocturne Op. 9", ("Chopin",), "", None))
    assert set(dotted) - set(plain)
    empty, short = song_tokens(Song("", (), "", None), Song("ab", (), "", None))
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
    together = song_tokens(*songs)
    alone = [song_tokens(song)[0] for song in songs]
    assert [sorted(ids) for ids in together] == [sorted(ids) for ids in alone]
    assert together[1] == together[3] == [EMPTY_NAME_ID]
    assert len(together[0]) > 40


def test_name_model_token_ids_are_crc32_of_their_text_for_every_script() -> None:
    """The ids the shipped name model was trained on: crc32 of "w " + a word and of "c" + a
    character gram, whatever the shortcut taken for ASCII names."""
    for title in ("Ai Se Eu Te Pego", "Obsesión", "東京フラッシュ", "(feat. Ozuna)", "Café del Mar"):
        ids = song_tokens(Song(title, (), "", None))[0]
        padded = [f" {token} " for token in title.casefold().split()]
        grams = {zlib.crc32(("c" + p[i : i + n]).encode()) for p in padded for n in range(2, 6)
                 for i in range(len(p) - n + 1)}
        assert grams <= set(ids), title
        words = re.findall(r"\b\w\w+\b", title.casefold())
        assert {zlib.crc32(("w " + w).encode()) for w in words} <= set(ids), title
