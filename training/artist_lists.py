"""Reading an artists cell that joins several artists with ", " in a CSV with no artist URIs.

Exportify writes each artist's URI beside the names (and escapes a comma inside a name), so there
a ", " always separates artists. Other exports, Kaggle sets and hand-made files give only the
names, and a name can hold ", " itself ("Earth, Wind & Fire", "Tyler, The Creator"). Read as one
name, "Drake, Quiet Lanterns" is an artist nobody knows: the model treats the song as a stranger's
and library pooling leaves it out of Drake's songs. The rule, per distinct cell, from what the
file itself and the model say about the names:

- a cell the model knows whole as an artist is one artist, whatever its parts;
- otherwise it is a list when it starts with a known artist: a name that is a song's only artist
  elsewhere in the same file, or one the model knows (`Classifier.known_artists`); the longest
  such start is the first artist, and the rest is read the same way (the longest known name at
  each step, else one part);
- a generational suffix ("Jr.", "III") is never an artist: it stays with the name before it.

A cell that does not start with a known artist stays one name: a list of strangers cannot be told
from a stranger's name with a comma in it, and reading it whole is what genrebot always did.
Work is per distinct cell (a library repeats its artists), and the model is asked once, for every
candidate name of the file together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from classifier.text import key_hash, normalise

# Primary-artist keys -> bool, whether the model met each artist (`Classifier.known_artists`).
KnownArtists = Callable[[np.ndarray], np.ndarray]

JOINER = ", "
# The most ", "-separated parts one artist's name is looked for in ("Crosby, Stills, Nash & Young"
# is three): bounds the candidates of a runaway cell of hundreds of parts.
MAX_NAME_PARTS = 4
GENERATIONAL_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v"})


@dataclass(frozen=True)
class CommaLists:
    """How one file's ", "-joined cells are read: the cells read as several artists, and their artists."""

    lists: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, cells: Iterable[str], known_artists: KnownArtists | None = None) -> CommaLists:
        """From the file's distinct artists cells (as cleaned: stripped, placeholders empty) and,
        when given, the model's known-artist check."""
        distinct = set(cells)
        candidates = sorted((cell for cell in distinct if JOINER in cell and ";" not in cell),
                            key=lambda cell: cell.count(JOINER))  # fewer parts first: see `alone`
        if not candidates:
            return cls({})
        parts_of = {cell: [part.strip() for part in cell.split(JOINER)] for cell in candidates}
        known = _known_to_model(parts_of.values(), known_artists)
        # The names that are a song's only artist somewhere in the file: cells without ", " at once,
        # a ", " cell once it is read as one name (its prefixes have fewer parts: read before it).
        alone = {normalise(cell) for cell in distinct if JOINER not in cell}
        alone.discard("")
        lists: dict[str, tuple[str, ...]] = {}
        for cell in candidates:
            artists = _read(parts_of[cell], lambda name: name in known or name in alone, normalise(cell) in known)
            if len(artists) > 1:
                lists[cell] = artists
            else:
                alone.add(normalise(cell))
        return cls(lists)


def _read(parts: list[str], is_artist: Callable[[str], bool], known_whole: bool) -> tuple[str, ...]:
    """One cell's artists (the cell itself when it is not a list)."""
    whole = (JOINER.join(parts),)
    if known_whole:
        return whole
    first = _longest_name(parts, 0, is_artist, shorter_than=len(parts))
    if first is None:
        return whole
    artists = [JOINER.join(parts[:first])]
    start = first
    while start < len(parts):
        end = _longest_name(parts, start, is_artist, shorter_than=len(parts) + 1) or _name_end(parts, start + 1)
        artists.append(JOINER.join(parts[start:end]))
        start = end
    return tuple(artist for artist in artists if artist)


def _longest_name(parts: list[str], start: int, is_artist: Callable[[str], bool], *, shorter_than: int) -> int | None:
    """The end of the longest run of parts from `start` that names an artist (not ending before a
    generational suffix), or None."""
    for end in range(min(start + MAX_NAME_PARTS, shorter_than - 1, len(parts)), start, -1):
        if _name_end(parts, end) == end and is_artist(normalise(JOINER.join(parts[start:end]))):
            return end
    return None


def _name_end(parts: list[str], end: int) -> int:
    """`end` moved past any generational suffixes that follow it (they belong to the name before)."""
    while end < len(parts) and parts[end].casefold() in GENERATIONAL_SUFFIXES:
        end += 1
    return end


def _known_to_model(cells: Iterable[list[str]], known_artists: KnownArtists | None) -> set[str]:
    """Of every run of up to MAX_NAME_PARTS parts (and every whole cell), the normalised names the
    model knows: one call to the model's check for the whole file."""
    if known_artists is None:
        return set()
    names: set[str] = set()
    for parts in cells:
        names.add(normalise(JOINER.join(parts)))
        for start in range(len(parts)):
            for end in range(start + 1, min(start + MAX_NAME_PARTS, len(parts)) + 1):
                names.add(normalise(JOINER.join(parts[start:end])))
    names.discard("")
    ordered = list(names)
    keys = np.fromiter((key_hash(name) for name in ordered), dtype=np.int64, count=len(ordered))
    known = np.asarray(known_artists(keys), dtype=bool)
    return {name for name, is_known in zip(ordered, known, strict=True) if is_known}
