"""The network's name tokens: each word of a song's title, album and artists, its character 3- and
4-grams (padded by a space each side), and the title's word pairs, each kind of name apart (a word
in a title is not the same token as in an artist's name), as 32-bit CRC hashes the model folds
into its table (`FeatureSchema.hash_buckets` rows).

A word's token ids are crc32 of "<kind> <word>" and of "<KIND> <gram>" ("t", "l", "a"; a title's
word pair "tb <word> <word>"): the ids the shipped network was trained on. Each kind of name is
tokenised per batch, every ASCII word's grams by one numpy CRC pass (`classifier.hashing`), and
each name's ids are kept across batches, so a library costs little more than its distinct names.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from classifier.hashing import TokenCache, Tokeniser, gram_crcs
from classifier.ragged import offsets_of, positions
from classifier.text import normalise

_WORD = re.compile(r"\w+", re.UNICODE)
MULTI_ARTIST_ID = zlib.crc32(b"n multi-artist")  # a song credited to more than one artist
EMPTY_ID = zlib.crc32(b"<empty>")  # the token of a song without any name


@lru_cache(maxsize=1 << 14)
def _character_word_ids(prefix: str, word: str) -> tuple[int, ...]:
    """A word with characters beyond ASCII, whose grams are characters, not bytes: its ids hashed
    one by one."""
    padded = f" {word} "
    grams = [padded[i : i + 3] for i in range(len(padded) - 2)] + [padded[i : i + 4] for i in range(len(padded) - 3)]
    upper = prefix.upper() + " "
    return (zlib.crc32(f"{prefix} {word}".encode()), *(zlib.crc32((upper + gram).encode()) for gram in grams))


def tokeniser(prefix: str, *, word_pairs: bool) -> Tokeniser:
    """Many names of one kind at once: each name's ids in order (per word: the word, its 3-grams,
    its 4-grams; then the word pairs), flat, and each name's count."""
    word_seed = zlib.crc32(f"{prefix} ".encode())
    gram_seed = zlib.crc32(f"{prefix.upper()} ".encode())
    pair_seed = zlib.crc32(f"{prefix}b ".encode())

    def tokenise(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        # Units, in order: an ASCII word (hashed below, with numpy) or a block of ids hashed here.
        unit_lengths: list[int] = []
        unit_text: list[int] = []
        ascii_units: list[int] = []
        ascii_words: list[bytes] = []  # padded
        ascii_word_ids: list[int] = []
        block_units: list[int] = []
        blocks: list[int] = []
        block_lengths: list[int] = []
        for index, text in enumerate(texts):
            words = _WORD.findall(normalise(text))
            for word in words:
                if word.isascii():
                    ascii_units.append(len(unit_lengths))
                    ascii_words.append(f" {word} ".encode())
                    ascii_word_ids.append(zlib.crc32(word.encode(), word_seed))
                    unit_lengths.append(2 * len(word))  # the word, its L 3-grams and L - 1 4-grams
                else:
                    ids = _character_word_ids(prefix, word)
                    block_units.append(len(unit_lengths))
                    blocks += ids
                    block_lengths.append(len(ids))
                    unit_lengths.append(len(ids))
                unit_text.append(index)
            if word_pairs and len(words) > 1:
                block_units.append(len(unit_lengths))
                blocks += [zlib.crc32(f"{a} {b}".encode(), pair_seed) for a, b in zip(words, words[1:], strict=False)]
                block_lengths.append(len(words) - 1)
                unit_lengths.append(len(words) - 1)
                unit_text.append(index)
        starts = offsets_of(unit_lengths)
        out = np.empty(int(sum(unit_lengths)), dtype=np.int64)
        if ascii_units:
            word_starts = starts[np.asarray(ascii_units, dtype=np.int64)]
            out[word_starts] = ascii_word_ids
            grams = gram_crcs(ascii_words, gram_seed, range(3, 5))
            word_lengths = np.fromiter(map(len, ascii_words), dtype=np.int64, count=len(ascii_words)) - 2
            after = np.where(grams.size == 3, 1, 1 + word_lengths[grams.token])  # 4-grams follow the L 3-grams
            out[word_starts[grams.token] + after + grams.start] = grams.ids
        if block_units:
            lengths = np.asarray(block_lengths, dtype=np.int64)
            flat, _ = positions(starts[np.asarray(block_units, dtype=np.int64)], lengths, np.arange(len(lengths)))
            out[flat] = blocks
        counts = np.bincount(np.asarray(unit_text, dtype=np.int64), weights=unit_lengths, minlength=len(texts))
        return out, counts.astype(np.int64)

    return tokenise


TITLES = TokenCache(1 << 16, tokeniser("t", word_pairs=True))
ALBUMS = TokenCache(1 << 15, tokeniser("l", word_pairs=False))
ARTISTS = TokenCache(1 << 15, tokeniser("a", word_pairs=False))  # a song's artists, joined by spaces
