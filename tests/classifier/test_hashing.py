"""What both tokenisers share (classifier/hashing.py): CRC-32 of many grams at once, and the cache
of names already tokenised."""

from __future__ import annotations

import random
import threading
import zlib
from collections.abc import Sequence

import numpy as np

from classifier import name_tokens
from classifier.hashing import TokenCache, gram_crcs


def test_every_gram_hashed_at_once_is_zlibs_crc32_of_that_gram() -> None:
    """Tokens of every length (shorter than the grams too), any bytes, any seed."""
    rng = random.Random(7)
    tokens = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12))) for _ in range(300)]
    for seed, sizes in ((0, range(2, 6)), (zlib.crc32(b"T "), range(3, 5)), (123456789, range(1, 2))):
        grams = gram_crcs(tokens, seed, sizes)
        expected = sorted((size, token, start, zlib.crc32(tokens[token][start : start + size], seed))
                          for size in sizes for token in range(len(tokens))
                          for start in range(len(tokens[token]) - size + 1))
        got = list(zip(grams.size.tolist(), grams.token.tolist(), grams.start.tolist(), grams.ids.tolist(), strict=True))
        assert got == expected  # grouped by size, then in order of start


def per_name(ids: np.ndarray, counts: np.ndarray) -> list[list[int]]:
    return [part.tolist() for part in np.split(ids, np.cumsum(counts)[:-1])] if len(counts) else []


class RecordingTokeniser:
    """The name model's real tokeniser, noting which names each call was given."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append(list(texts))
        return name_tokens._tokenise(texts)


def test_a_name_seen_in_an_earlier_batch_is_not_tokenised_again() -> None:
    """A library's second batch repeats its artists and albums: only its new names are tokenised,
    and every name gets the ids it gets fresh."""
    tokenise = RecordingTokeniser()
    cache = TokenCache(100, tokenise)
    cache.ids(["Danza Kuduro", "Don Omar Lucenzo", "Meet the Orphans"])
    batch = ["Meet the Orphans", "Dutty Love", "", "Don Omar Lucenzo"]
    ids, counts = cache.ids(batch)
    assert tokenise.calls[-1] == ["Dutty Love", ""]
    assert per_name(ids, counts) == per_name(*name_tokens._tokenise(batch))


def test_the_cache_keeps_at_most_its_size_dropping_the_oldest_names() -> None:
    tokenise = RecordingTokeniser()
    cache = TokenCache(2, tokenise)
    for name in ("Hey Jude", "Let It Be", "Yesterday"):
        cache.ids([name])
    assert len(cache) == 2
    cache.ids(["Yesterday", "Let It Be"])
    cache.ids(["Hey Jude"])
    assert tokenise.calls == [["Hey Jude"], ["Let It Be"], ["Yesterday"], ["Hey Jude"]]


def test_threads_sharing_a_small_cache_each_get_exactly_their_names_tokens() -> None:
    """The bot classifies in executor threads: while names are kept and dropped under them, every
    thread still gets each of its names' own ids."""
    names = [f"Song {i} (feat. Artista {i % 7})" for i in range(40)] + ["Café del Mar", "東京フラッシュ", ""]
    expected = dict(zip(names, per_name(*name_tokens._tokenise(names)), strict=True))
    cache, start = TokenCache(8, name_tokens._tokenise), threading.Barrier(4)
    wrong: list[str] = []

    def classify(seed: int) -> None:
        rng = np.random.default_rng(seed)
        start.wait()
        for _ in range(200):
            batch = [names[i] for i in rng.choice(len(names), size=6, replace=False)]
            got = per_name(*cache.ids(batch))
            wrong.extend(name for name, ids in zip(batch, got, strict=True) if ids != expected[name])

    threads = [threading.Thread(target=classify, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [] and len(cache) <= 8
