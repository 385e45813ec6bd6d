"""The weekly schedule's texts: the sources it sorts, read as a sentence."""

from __future__ import annotations

from bot.presenters.account import sources_text
from music import LIKED_SONGS, SortSource

ROAD_TRIP = SortSource("r" * 22, "Road Trip")


def test_a_list_of_sources_reads_as_a_sentence() -> None:
    """'Liked Songs and Road Trip'."""
    assert sources_text([LIKED_SONGS]) == "Liked Songs"
    assert sources_text([LIKED_SONGS, ROAD_TRIP, SortSource("p" * 22, "Party")]) == "Liked Songs, Road Trip and Party"
