"""The name model's tokens: the issue's reference recipe (word 1-2-grams and character 2- to
5-grams of every whitespace-separated token, punctuation kept), the same ids whichever kind of
name they come from, as 32-bit CRC hashes the name model folds into its table.

A name's character grams are most of its tokens, so they are hashed with numpy over a whole batch
(`_tokenise`), and each name's ids are kept across batches (`NameIdCache`): a library repeats its
artists and albums, and a bot sees the same names every week.
"""

from __future__ import annotations

import itertools
import re
import threading
import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

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


def _crc_table() -> np.ndarray:
    """zlib's CRC-32 table (reflected polynomial 0xEDB88320), for CRCs computed with numpy."""
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0xEDB88320), table >> 1)
    return table


_CRC_TABLE = _crc_table()


def _tokenise(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The name model's tokens of many names (titles, albums, artists) at once, flat, and each
    name's count: its words of two or more characters and their pairs, and every
    whitespace-separated token's character n-grams, the same ids whichever kind of name they come
    from (a new artist's album says "reggaeton" the way other songs' titles did). 32-bit hashes;
    the name model folds them into its table. A name's ids come out in no particular order: the
    name model reads a bag.

    A name's character n-grams are most of its tokens, and hashing them one by one in Python was
    half of featurising a song. Here every ASCII whitespace token of every text is laid end to end,
    padded by a space each side, and CRC-32 runs over all start positions at once, one byte per
    step for five steps: after step n, each start's state is the CRC of its n-gram, kept where
    the n-gram does not run past its token. The same ids as zlib's CRC, so a model trained before
    reads them unchanged. Other tokens (accents, other scripts: their grams are characters, not
    bytes) and the words and word pairs stay per token in Python."""
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
    gram_ids, gram_owners = _ascii_gram_ids(padded, padded_owners)
    all_ids = np.concatenate([np.asarray(ids, dtype=np.int64), gram_ids])
    all_owners = np.concatenate([np.asarray(owners, dtype=np.int64), gram_owners])
    order = np.argsort(all_owners, kind="stable")
    return all_ids[order], np.bincount(all_owners, minlength=len(texts))


def _ascii_gram_ids(tokens: list[bytes], owners: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The 2- to 5-byte grams of these padded ASCII tokens as crc32(gram, _GRAM_CRC), with the
    owner of each (int64 arrays)."""
    if not tokens:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    data = np.frombuffer(b"".join(tokens) + bytes(4), dtype=np.uint8)
    size = len(data) - 4
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    ends = np.cumsum(lengths)
    room = np.repeat(ends, lengths) - np.arange(size)  # bytes from each start to its token's end
    owner = np.repeat(np.asarray(owners, dtype=np.int64), lengths)
    state = np.full(size, _GRAM_CRC ^ 0xFFFFFFFF, dtype=np.uint32)
    found_ids, found_owners = [], []
    for step in range(5):
        state = _CRC_TABLE[(state ^ data[step : step + size]) & 0xFF] ^ (state >> 8)
        if step:
            fits = room > step
            found_ids.append((state[fits] ^ np.uint32(0xFFFFFFFF)).astype(np.int64))
            found_owners.append(owner[fits])
    return np.concatenate(found_ids), np.concatenate(found_owners)



class NameIdCache:
    """Each name's name-model ids, kept for up to `size` names (the oldest dropped first), so a
    batch tokenises only the names no earlier batch had. Safe to share between threads: the bot
    classifies in executor threads. About half a kilobyte a name: 1 << 16 names stay under 40 MB."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: dict[str, bytes] = {}  # a name -> its ids as uint32 bytes, oldest first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()

    def name_model_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """What `_tokenise` gives for these texts (each text's ids in the same order), tokenising
        only the ones not already kept."""
        with self._lock:
            known = [self._ids.get(text) for text in texts]
        new = [text for text, ids in zip(texts, known, strict=True) if ids is None]
        if new:
            new_ids, new_counts = _tokenise(new)
            raw = new_ids.astype(np.uint32).tobytes()
            ends = np.cumsum(new_counts) * 4
            fresh = {text: raw[start:end] for text, start, end
                     in zip(new, (ends - new_counts * 4).tolist(), ends.tolist(), strict=True)}
            known = [fresh[text] if ids is None else ids for text, ids in zip(texts, known, strict=True)]
            with self._lock:
                self._ids.update(fresh)
                overflow = len(self._ids) - self.size
                for text in list(itertools.islice(self._ids, max(overflow, 0))):
                    del self._ids[text]
        ids = np.frombuffer(b"".join(known), dtype=np.uint32).astype(np.int64)  # type: ignore[arg-type]
        counts = np.fromiter(map(len, known), dtype=np.int64, count=len(known)) // 4  # type: ignore[arg-type]
        return ids, counts


_CACHE = NameIdCache(1 << 16)


def name_model_ids(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The name model's tokens of many names (titles, albums, artists) at once, flat, and each
    name's count (see `_tokenise`), through the process's cache of names already seen."""
    return _CACHE.name_model_ids(texts)
