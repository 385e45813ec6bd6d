"""The name model's tokens: the issue's reference recipe (word 1-2-grams and character 2- to
5-grams of every whitespace-separated token, punctuation kept), the same ids whichever kind of
name they come from, as 32-bit CRC hashes the name model folds into its table.

A name's character grams are most of its tokens, so they are hashed with numpy over a whole batch
(`_tokenise`, with `classifier.hashing.gram_crcs`), and each name's ids are kept across batches
(`classifier.hashing.TokenCache`).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from classifier.hashing import TokenCache, gram_crcs
from classifier.text import normalise

_NAME_WORD = re.compile(r"\b\w\w+\b", re.UNICODE)  # scikit-learn's default token pattern
_GRAM_CRC = zlib.crc32(b"c")  # crc32(b"c" + gram) == crc32(gram, _GRAM_CRC): no concatenation per gram
_WORD_CRC = zlib.crc32(b"w ")


@lru_cache(maxsize=1 << 16)  # about 1 kB an entry: a bot's cache stays under 100 MB
def _char_gram_ids(token: str) -> tuple[int, ...]:
    """A whitespace-separated token's character 2- to 5-grams, padded by a space on each side
    (scikit-learn's "char_wb"), as 32-bit hashes: crc32 of "c" + the gram's UTF-8. For tokens
    with characters beyond ASCII, whose grams are characters, not bytes (`name_model_ids` hashes
    ASCII tokens' grams with numpy)."""
    padded = f" {token} "
    return tuple([zlib.crc32(padded[i : i + n].encode(), _GRAM_CRC) for n in (2, 3, 4, 5)
                  for i in range(len(padded) - n + 1)])


EMPTY_NAME_ID = zlib.crc32(b"<empty>")  # the name-model token of a song without any name


def _tokenise(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The name model's tokens of many names (titles, albums, artists) at once, flat, and each
    name's count: its words of two or more characters and their pairs, and every
    whitespace-separated token's character n-grams, the same ids whichever kind of name they come
    from (a new artist's album says "reggaeton" the way other songs' titles did). 32-bit hashes;
    the name model folds them into its table. A name's ids come out in no particular order: the
    name model reads a bag.

    Every ASCII whitespace token's grams, padded by a space each side, are hashed together by
    `gram_crcs`. Other tokens (accents, other scripts: their grams are characters, not bytes) and
    the words and word pairs stay per token in Python."""
    ids: list[int] = []
    owners: list[int] = []
    padded: list[bytes] = []
    padded_owners: list[int] = []
    for index, raw in enumerate(texts):
        text = normalise(raw)
        if not text:
            continue
        words = _NAME_WORD.findall(text)
        found = [zlib.crc32(w.encode(), _WORD_CRC) for w in words]
        found += [zlib.crc32(f"b {a} {b}".encode()) for a, b in zip(words, words[1:], strict=False)]
        for token in text.split():
            if token.isascii():
                padded.append(f" {token} ".encode())
                padded_owners.append(index)
            else:
                found += _char_gram_ids(token)
        ids += found
        owners += [index] * len(found)
    grams = gram_crcs(padded, _GRAM_CRC, range(2, 6))
    all_ids = np.concatenate([np.asarray(ids, dtype=np.int64), grams.ids])
    all_owners = np.concatenate([np.asarray(owners, dtype=np.int64),
                                 np.asarray(padded_owners, dtype=np.int64)[grams.token]])
    order = np.argsort(all_owners, kind="stable")
    return all_ids[order], np.bincount(all_owners, minlength=len(texts))


_CACHE = TokenCache(1 << 16, _tokenise)


def name_model_ids(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The name model's tokens of many names (titles, albums, artists) at once, flat, and each
    name's count (see `_tokenise`), through the process's cache of names already seen."""
    return _CACHE.ids(texts)
