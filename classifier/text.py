"""The text keys every part agrees on: how long a name may be, how a name is normalised, and
which artist and album a song belongs to.

Features, the training splits, library pooling and the tests all read a song's primary artist and
album through these, so "Ｍｏｎｏ " and "mono" are one artist everywhere.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Sequence
from functools import lru_cache

# Real titles, albums and artist names are far shorter; a runaway field (a 50 MB cell in a CSV) is
# cut here so it costs kilobytes, not gigabytes of n-grams.
MAX_TEXT_CHARS = 512
MAX_ARTISTS = 32


def capped(text: str | None) -> str | None:
    """`text` cut to MAX_TEXT_CHARS characters (what featurisation reads of any one name)."""
    return text[:MAX_TEXT_CHARS] if text is not None and len(text) > MAX_TEXT_CHARS else text


def capped_artists(artists: Sequence[str]) -> tuple[str, ...]:
    """At most MAX_ARTISTS artists, each cut to MAX_TEXT_CHARS characters (None read as "")."""
    if (type(artists) is tuple and len(artists) <= MAX_ARTISTS and None not in artists
            and max(map(len, artists), default=0) <= MAX_TEXT_CHARS):
        return artists  # already within the caps (the usual case): no copy
    return tuple(capped(a) or "" for a in list(artists)[:MAX_ARTISTS])


def normalise(text: str | None) -> str:
    if not text:
        return ""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def primary_artist(artists: Sequence[str]) -> str:
    """The one artist key used everywhere (features, splits, library pooling): the first
    non-empty artist name, NFKC-normalised, case-folded and stripped."""
    for artist in artists:
        name = normalise(artist)
        if name:
            return name
    return ""


def key_hash(text: str) -> int:
    """A stable non-zero 32-bit id for an artist or album key (0 means "none")."""
    return zlib.crc32(text.encode()) + 1 if text else 0


@lru_cache(maxsize=1 << 16)
def artist_key_hash(artists: tuple[str, ...]) -> int:
    return key_hash(primary_artist(artists))


@lru_cache(maxsize=1 << 16)
def album_key_hash(artists: tuple[str, ...], album: str | None) -> int:
    """Albums are keyed by artist too: two artists' "Greatest Hits" are different albums (cached:
    a library repeats its albums)."""
    return album_key(primary_artist(artists), normalise(album))


def album_key(primary: str, album: str) -> int:
    """`album_key_hash` from the primary artist and album name, both already normalised."""
    return key_hash(primary + "\x1f" + album) if album else 0
