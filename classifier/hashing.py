"""What both tokenisers share: CRC-32 over many short byte strings at once with numpy, and a
bounded cache from a name to its token ids.

A name's character grams are most of its tokens, and hashing them one by one in Python was most of
featurising a song the first time it was seen. `gram_crcs` lays every token of a batch end to end
and runs CRC-32 over all start positions at once, one byte per step: after step n, each start's
state is the CRC of its (n + 1)-byte gram. The ids are zlib's `crc32`, so models trained on ids
computed one gram at a time read these unchanged.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def _crc_table() -> np.ndarray:
    """zlib's CRC-32 table (reflected polynomial 0xEDB88320), for CRCs computed with numpy."""
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0xEDB88320), table >> 1)
    return table


_CRC_TABLE = _crc_table()


@dataclass(frozen=True)
class Grams:
    """Hashed grams, grouped by size (smallest first), then in order of their start."""

    ids: np.ndarray  # int64: crc32(gram, the seed), 32 bits
    token: np.ndarray  # int64: which token each gram is from
    start: np.ndarray  # int64: where in its token the gram starts
    size: np.ndarray  # int64: the gram's length in bytes


def gram_crcs(tokens: Sequence[bytes], seed: int, sizes: range) -> Grams:
    """Every `sizes`-byte gram of each token (those that fit in it) as `zlib.crc32(gram, seed)`."""
    if not tokens:
        empty = np.zeros(0, dtype=np.int64)
        return Grams(empty, empty, empty, empty)
    longest = sizes[-1]
    data = np.frombuffer(b"".join(tokens) + bytes(longest), dtype=np.uint8)
    size = len(data) - longest
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    ends = np.cumsum(lengths)
    token = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
    start = np.arange(size, dtype=np.int64) - np.repeat(ends - lengths, lengths)
    room = np.repeat(lengths, lengths) - start  # bytes from each start to its token's end
    state = np.full(size, seed ^ 0xFFFFFFFF, dtype=np.uint32)
    ids, owners, starts, gram_sizes = [], [], [], []
    for step in range(longest):
        state = _CRC_TABLE[(state ^ data[step : step + size]) & 0xFF] ^ (state >> 8)
        if step + 1 in sizes:
            fits = room > step
            ids.append((state[fits] ^ np.uint32(0xFFFFFFFF)).astype(np.int64))
            owners.append(token[fits])
            starts.append(start[fits])
            gram_sizes.append(np.full(len(starts[-1]), step + 1, dtype=np.int64))
    return Grams(np.concatenate(ids), np.concatenate(owners), np.concatenate(starts), np.concatenate(gram_sizes))


Tokeniser = Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]]


class TokenCache:
    """Each text's token ids from `tokenise` (flat ids, each text's count), kept for up to `size`
    texts (the oldest dropped first), so a batch tokenises only the texts no earlier batch had: a
    library repeats its artists and albums, and a bot sees the same names every week. Safe to share
    between threads (the bot classifies in executor threads). Ids are kept as 32-bit values, about
    half a kilobyte a name."""

    def __init__(self, size: int, tokenise: Tokeniser) -> None:
        self.size = size
        self._tokenise = tokenise
        self._ids: dict[str, bytes] = {}  # a text -> its ids as uint32 bytes, oldest first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()

    def ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """What `tokenise` gives for these texts (each text's ids in its order), tokenising only
        the ones not already kept."""
        with self._lock:
            known = [self._ids.get(text) for text in texts]
        new = [text for text, ids in zip(texts, known, strict=True) if ids is None]
        if new:
            new_ids, new_counts = self._tokenise(new)
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
