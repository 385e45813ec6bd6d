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


# Graphemes that are more than one code point: a ZWJ family, a flag (two regional indicators), a
# thumbs-up with a skin tone, an accent as a combining mark, a keycap.
_CLUSTERS = ("👨\u200d👩\u200d👧", "🇯🇵", "👍🏽", "e\u0301", "1\ufe0f\u20e3")


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_long_name_is_cut_between_graphemes_never_inside_an_emoji_or_a_flag() -> None:
    """Whatever lands on the cut, the name keeps whole graphemes before its "…" (no half flag,
    no family cut at its joiner, no skin tone without its hand)."""
    for cluster in _CLUSTERS:
        for lead in range(80, 101):
            graphemes = ["a"] * lead + [cluster] * 30
            name = fit_name("".join(graphemes))
            kept = name.removesuffix("…")
            assert name.endswith("…")
            assert any(kept.rstrip() == "".join(graphemes[:k]) for k in range(len(graphemes) + 1)), (cluster, lead)


def test_a_name_of_emoji_fits_100_even_counted_as_utf16_units() -> None:
    """Spotify does not say how it counts its 100: an emoji is one code point but two UTF-16 units,
    so a name is kept within 100 either way."""
    for name in ("😀" * 150, "Rock · " + "🇯🇵" * 70, "👨\u200d👩\u200d👧" * 40):
        fitted = fit_name(name, 3)
        assert _utf16_units(fitted) <= 100 and fitted.endswith("… (3)")


def test_control_and_invisible_characters_are_left_out_of_names_and_descriptions() -> None:
    """A NUL, a bell, a zero-width space or a right-to-left override (which would show
    "· genrebot" backwards) never reaches Spotify; emoji joiners and letters do."""
    name = fit_name("Road\x00 trip\u200b\u202e 2019\x07 \ufeff👨\u200d👩\u200d👧 · genrebot")
    assert name == "Road trip 2019 👨\u200d👩\u200d👧 · genrebot"
    text = tagged_description("Songs\u2066 from\u200f my\x1b library", PlaylistSlot("rock"))
    assert text == "Songs from my library [genrebot:rock]"


def test_a_lone_surrogate_never_reaches_spotify() -> None:
    """Half an emoji's UTF-16 pair (JSON can carry one as "\\ud83d"; it is no character, and no UTF-8 encoder
    takes it) is left out of a name and a description."""
    assert fit_name("Rock \ud83d· genrebot") == "Rock · genrebot"
    assert tagged_description("Songs\udc00", PlaylistSlot("rock")).encode("utf-8")
