"""The name model's tokens (classifier/name_tokens.py): what each name gives, the same in a batch
as alone, the ids the shipped model was trained on, and the cache of names already tokenised."""

from __future__ import annotations

import re
import threading
import zlib

import numpy as np
import pytest

from classifier import name_tokens
from classifier.features import FeatureSchema, featurise
from classifier.name_tokens import EMPTY_NAME_ID, NameIdCache
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


def per_name(ids: np.ndarray, counts: np.ndarray) -> list[list[int]]:
    return [part.tolist() for part in np.split(ids, np.cumsum(counts)[:-1])] if len(counts) else []


@pytest.fixture
def tokenised(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The names each call of the real tokeniser was given."""
    calls: list[list[str]] = []
    tokenise = name_tokens._tokenise

    def recording(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        calls.append(list(texts))
        return tokenise(texts)

    monkeypatch.setattr(name_tokens, "_tokenise", recording)
    return calls


def test_a_name_seen_in_an_earlier_batch_is_not_tokenised_again(tokenised: list[list[str]]) -> None:
    """A library's second batch repeats its artists and albums: only its new names are tokenised,
    and every name gets the ids it gets fresh."""
    cache = NameIdCache(100)
    cache.name_model_ids(["Danza Kuduro", "Don Omar Lucenzo", "Meet the Orphans"])
    ids, counts = cache.name_model_ids(["Meet the Orphans", "Dutty Love", "", "Don Omar Lucenzo"])
    assert tokenised[-1] == ["Dutty Love", ""]
    assert per_name(ids, counts) == per_name(*name_tokens._tokenise(["Meet the Orphans", "Dutty Love", "",
                                                                       "Don Omar Lucenzo"]))


def test_the_cache_keeps_at_most_its_size_dropping_the_oldest_names(tokenised: list[list[str]]) -> None:
    cache = NameIdCache(2)
    for name in ("Hey Jude", "Let It Be", "Yesterday"):
        cache.name_model_ids([name])
    assert len(cache) == 2
    cache.name_model_ids(["Yesterday", "Let It Be"])
    cache.name_model_ids(["Hey Jude"])
    assert tokenised == [["Hey Jude"], ["Let It Be"], ["Yesterday"], ["Hey Jude"]]


def test_threads_sharing_a_small_cache_each_get_exactly_their_names_tokens() -> None:
    """The bot classifies in executor threads: while names are kept and dropped under them, every
    thread still gets each of its names' own ids."""
    names = [f"Song {i} (feat. Artista {i % 7})" for i in range(40)] + ["Café del Mar", "東京フラッシュ", ""]
    expected = dict(zip(names, per_name(*name_tokens._tokenise(names)), strict=True))
    cache, start = NameIdCache(8), threading.Barrier(4)
    wrong: list[str] = []

    def classify(seed: int) -> None:
        rng = np.random.default_rng(seed)
        start.wait()
        for _ in range(200):
            batch = [names[i] for i in rng.choice(len(names), size=6, replace=False)]
            got = per_name(*cache.name_model_ids(batch))
            wrong.extend(name for name, ids in zip(batch, got, strict=True) if ids != expected[name])

    threads = [threading.Thread(target=classify, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [] and len(cache) <= 8
