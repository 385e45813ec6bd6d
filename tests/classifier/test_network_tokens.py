"""The network's name tokens (classifier/network_tokens.py): the ids, in the order, that the
shipped network was trained on, whatever shortcut computes them."""

from __future__ import annotations

import re
import unicodedata
import zlib

from classifier.features import FeatureSchema, artist_token_counts, featurise
from classifier.network_tokens import tokeniser
from tests.classifier.test_inference import Song

NAMES = ("Hey Jude", "", "   ", "a", "Obsesión (feat. Ozuna)", "東京フラッシュ", "x_y 9 ÉCOLE", "Ｍｏｎｏ Café del Mar")


def one_by_one(prefix: str, text: str, *, word_pairs: bool) -> list[int]:
    """The recipe in plain Python, one gram at a time: per word crc32 of "<kind> <word>", then of
    "<KIND> <gram>" for its character 3-grams, then 4-grams (padded by a space); then a title's
    word pairs."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold().strip())
    ids = []
    for word in words:
        padded = f" {word} "
        ids.append(zlib.crc32(f"{prefix} {word}".encode()))
        for n in (3, 4):
            ids += [zlib.crc32(f"{prefix.upper()} {padded[i : i + n]}".encode()) for i in range(len(padded) - n + 1)]
    if word_pairs:
        ids += [zlib.crc32(f"{prefix}b {a} {b}".encode()) for a, b in zip(words, words[1:], strict=False)]
    return ids


def test_each_kind_of_name_gets_the_recipes_ids_in_the_recipes_order() -> None:
    for prefix, word_pairs in (("t", True), ("l", False), ("a", False)):
        ids, counts = tokeniser(prefix, word_pairs=word_pairs)(NAMES)
        expected = [one_by_one(prefix, name, word_pairs=word_pairs) for name in NAMES]
        assert counts.tolist() == [len(e) for e in expected]
        assert ids.tolist() == [i for e in expected for i in e]


def test_a_song_reads_title_then_album_then_artists_folded_into_the_models_table() -> None:
    """The artists' tokens come last (training hides them to show an artist the network never met),
    and a song credited to several artists says so."""
    song = Song("Hey Jude", ("The Beatles", "Billy Preston"), "Hey Jude")
    buckets = FeatureSchema().hash_buckets
    expected = (one_by_one("t", "Hey Jude", word_pairs=True) + one_by_one("l", "Hey Jude", word_pairs=False)
                + one_by_one("a", "The Beatles Billy Preston", word_pairs=False) + [zlib.crc32(b"n multi-artist")])
    assert featurise([song], FeatureSchema()).token_ids.tolist() == [i % buckets for i in expected]
    assert artist_token_counts([song]).tolist() == [len(one_by_one("a", "The Beatles Billy Preston",
                                                                  word_pairs=False)) + 1]


def test_a_song_without_any_name_has_the_empty_token_alone() -> None:
    batch = featurise([Song("", ()), Song("  ", ("",)), Song("", ("", ""))], FeatureSchema())
    empty = zlib.crc32(b"<empty>") % FeatureSchema().hash_buckets
    assert batch.token_lengths().tolist() == [1, 1, 1]
    assert batch.token_ids.tolist()[:2] == [empty, empty]
    assert batch.token_ids[2] == zlib.crc32(b"n multi-artist") % FeatureSchema().hash_buckets
