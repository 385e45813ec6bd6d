"""The text keys every part shares (classifier/text.py)."""

from __future__ import annotations

from classifier.text import (
    MAX_ARTISTS,
    MAX_TEXT_CHARS,
    album_key_hash,
    capped,
    capped_artists,
    primary_artist,
)


def test_artist_key_ignores_case_width_and_surrounding_space() -> None:
    """'Ｍｏｎｏ ', 'MONO' and 'mono' are one artist; an empty first name falls to the next."""
    assert primary_artist(["Ｍｏｎｏ "]) == primary_artist(["MONO"]) == primary_artist(["mono"])
    assert primary_artist(["", "Mono"]) == "mono"



def test_a_runaway_name_is_cut_and_an_ordinary_one_left_as_it_is() -> None:
    """A 50 MB cell in a CSV costs what its first MAX_TEXT_CHARS characters cost."""
    assert capped("x" * (50 * MAX_TEXT_CHARS)) == "x" * MAX_TEXT_CHARS
    assert capped("Hey Jude") == "Hey Jude" and capped(None) is None


def test_artists_are_capped_in_number_and_length_and_a_missing_name_reads_empty() -> None:
    ordinary = ("Don Omar", "Lucenzo")
    assert capped_artists(ordinary) is ordinary  # nothing to cut: no copy
    crowd = capped_artists([f"Artist {i}" for i in range(3 * MAX_ARTISTS)])
    assert len(crowd) == MAX_ARTISTS and crowd[-1] == f"Artist {MAX_ARTISTS - 1}"
    assert capped_artists(("y" * (2 * MAX_TEXT_CHARS), None)) == ("y" * MAX_TEXT_CHARS, "")  # type: ignore[arg-type]


def test_two_artists_greatest_hits_are_two_albums_and_no_album_is_none() -> None:
    assert album_key_hash(("Queen",), "Greatest Hits") != album_key_hash(("ABBA",), "Greatest Hits")
    assert album_key_hash(("Queen",), "Greatest Hits") == album_key_hash(("QUEEN ",), "greatest hits")
    assert album_key_hash(("Queen",), "") == album_key_hash(("Queen",), None) == 0
