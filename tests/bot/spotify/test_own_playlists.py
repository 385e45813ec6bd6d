"""genrebot's tag in a playlist description, and names and descriptions within Spotify's limits."""

from __future__ import annotations

import html

from bot.spotify.own_playlists import (
    MAX_PLAYLIST_ITEMS,
    PlaylistSlot,
    addable,
    fit_name,
    slot_of_tag,
    split_into_parts,
    tag_of,
    tagged_description,
)
from sandbox.api.objects import escaped_description


def test_a_tag_survives_spotifys_html_escaping() -> None:
    """Any key, with any characters, reads back from the description Spotify answers."""
    for slot in (PlaylistSlot("rock"), PlaylistSlot("r&b/neo soul's"), PlaylistSlot("música <latina>", 3),
                 PlaylistSlot("rock", 2, "playlist:37i9dQZF1DXcBWIGoYBM5M")):
        answered = escaped_description(tagged_description("Songs & more", slot))
        assert tag_of(answered) == slot.tag


def test_a_description_without_a_tag_belongs_to_no_slot() -> None:
    """The member's own playlists, even named like ours, carry no slot."""
    assert tag_of("Rock songs I like [genrebot]") is None and tag_of(None) is None


def test_a_long_multi_line_description_becomes_one_line_of_300_ending_in_the_tag() -> None:
    """Spotify answers 500 past 300 characters or at a line break; the tag is always kept whole."""
    slot = PlaylistSlot("x" * 400, 2)
    text = tagged_description("first line\nsecond line " + "y" * 500, slot)
    assert len(text) <= 300 and "\n" not in text and text.endswith(slot.tag)
    assert html.unescape(text).startswith("first line second line")


def test_names_fit_100_characters_and_continuations_are_numbered() -> None:
    """"Rock · genrebot (2)"; a very long name is cut to leave room for the number."""
    assert fit_name("Rock · genrebot", 2) == "Rock · genrebot (2)"
    long = fit_name("N" * 150, 12)
    assert len(long) == 100 and long.endswith("… (12)")


def test_songs_are_split_into_parts_of_10000() -> None:
    """10,001 songs make two parts, in order; no songs still make one empty part."""
    parts = split_into_parts([str(i) for i in range(MAX_PLAYLIST_ITEMS + 1)])
    assert [len(p) for p in parts] == [MAX_PLAYLIST_ITEMS, 1] and parts[1] == [str(MAX_PLAYLIST_ITEMS)]
    assert split_into_parts([]) == [[]]


def test_local_files_are_never_written() -> None:
    """Spotify refuses spotify:local: URIs in an add or a replace; songs and episodes stay."""
    assert addable(["spotify:track:a", "spotify:local:Me:Home:Hum:64", "spotify:episode:b"]) == [
        "spotify:track:a", "spotify:episode:b"
    ]


def test_a_key_too_long_to_show_is_tagged_by_its_hash() -> None:
    """Different long keys get different short tags; the same key always the same one."""
    long_a, long_b = PlaylistSlot("progressive " * 40), PlaylistSlot("progressive " * 41)
    assert len(long_a.tag) < 40 and long_a.tag != long_b.tag and long_a.tag == PlaylistSlot("progressive " * 40).tag


def test_the_same_genre_from_two_sources_has_two_tags() -> None:
    """Rock sorted from Liked Songs and Rock sorted from a playlist are different playlists."""
    liked, road_trip = PlaylistSlot("rock"), PlaylistSlot("rock", source="playlist:37i9dQZF1DXcBWIGoYBM5M")
    assert liked.tag == "[genrebot:rock]" and road_trip.tag == "[genrebot:rock@playlist%3A37i9dQZF1DXcBWIGoYBM5M]"


def test_a_tag_reads_back_as_the_slot_it_was_made_from() -> None:
    """What lets a lost database find an older model's playlist under the key it reads as now."""
    for slot in (PlaylistSlot("rap"), PlaylistSlot("rock/hard rock"), PlaylistSlot("r&b/neo soul's:x@y", 3),
                 PlaylistSlot("rock", 2, "playlist:37i9dQZF1DXcBWIGoYBM5M")):
        assert slot_of_tag(slot.tag) == slot
    for unreadable in (PlaylistSlot("progressive " * 40).tag, "[genrebot:rock:1]", "[genrebot:rock:two]", "[genrebot:]",
                       "[other:rock]"):
        assert slot_of_tag(unreadable) is None
