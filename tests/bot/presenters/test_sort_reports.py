"""What a sort tells the member: the weekly summary line, a sort's title, what it skipped and how
many songs are by artists the model knows, each reply within Discord's limits."""

from __future__ import annotations

from collections.abc import Callable

import discord
import pytest

from bot.presenters.sort_reports import (
    EMPTIED_NOTE,
    known_artists_text,
    result_elsewhere_text,
    skipped_text,
    sort_embed,
    sort_title,
    weekly_embed,
    weekly_summary,
)
from bot.services.known_artists import KnownArtists
from bot.services.sorting import PlaylistOutcome, SortReport
from bot.spotify.client import SKIPPED_EPISODE, SKIPPED_LOCAL, SKIPPED_UNAVAILABLE, SKIPPED_UNLISTED
from music import LIKED_SONGS, SortSource
from tests.bot.presenters.embed_limits import within_discords_embed_limits


def report(new_songs: int, new_counts: dict[str, int], source: SortSource = LIKED_SONGS) -> SortReport:
    playlists = [PlaylistOutcome(key, key, f"id-{key}", None, 50, n, created=False) for key, n in new_counts.items()]
    return SortReport(run_id=1, discord_id=1, model_version="m", playlists=playlists, unsorted=0, not_chosen=0,
                      total_songs=300, new_songs=new_songs, classified=new_songs, dry_run=False, genre_mix={},
                      chart_png=b"", source=source)


ROAD_TRIP = SortSource("r" * 22, "Road Trip")


def test_weekly_summary_counts_new_songs_per_genre_largest_first() -> None:
    """'14 new songs: +8 Latin, +6 Rock': genres with new songs, most first."""
    assert weekly_summary(report(14, {"rock": 6, "latin": 8, "pop": 0})) == "14 new songs: +8 Latin, +6 Rock"


def test_weekly_summary_of_a_quiet_week() -> None:
    """No new likes: the playlists are up to date."""
    assert weekly_summary(report(0, {"rock": 0, "pop": 0})) == (
        "No new liked songs this week; your 2 playlists are up to date."
    )


def test_weekly_summary_of_a_quiet_week_in_a_playlist_names_it() -> None:
    """A playlist source with nothing new is named in the quiet-week line."""
    assert weekly_summary(report(0, {"rock": 0}, ROAD_TRIP)) == (
        "Nothing new in Road Trip this week; your playlist is up to date."
    )


def test_a_quiet_week_without_a_playlist_claims_none_and_says_why() -> None:
    """No playlist (no genre reached the minimum size): the DM neither speaks of '0 playlists up to
    date' nor drops the reason the sort reply gives."""
    quiet = report(0, {})
    assert weekly_summary(quiet) == "No new liked songs this week."
    assert (weekly_embed(quiet).description or "").splitlines() == [
        "No new liked songs this week.", "", "No genre had enough songs for a playlist."
    ]


def test_the_title_says_which_source_was_sorted() -> None:
    """Liked Songs keep their title; a playlist's title names it, escaped."""
    assert sort_title(report(0, {})) == "Sorted 300 liked songs"
    assert sort_title(report(0, {}, SortSource("x" * 22, "**Road** Trip"))) == "Sorted 300 songs from \\*\\*Road\\*\\* Trip"


def test_what_was_skipped_is_counted_by_reason() -> None:
    """Local files and episodes are named with why they were skipped; repeated songs are mentioned."""
    skipped = report(0, {}, ROAD_TRIP)
    skipped.skipped, skipped.duplicates = {SKIPPED_LOCAL: 1, SKIPPED_EPISODE: 2}, 1
    assert skipped_text(skipped) == (
        "2 podcast episodes (not songs), 1 local file (not on Spotify), 1 repeated entry (sorted once)"
    )
    assert skipped_text(report(0, {})) is None


def test_weekly_summary_when_no_new_song_was_sorted() -> None:
    """New likes that all stayed unsorted are counted, and said to be unsorted."""
    assert weekly_summary(report(1, {"rock": 0})) == "1 new song, none confident enough to sort"


def test_the_known_artists_line_says_how_many_songs_are_by_artists_the_model_knows() -> None:
    """180 of 239 known: the member reads both counts and which songs to check."""
    assert known_artists_text(KnownArtists(songs=239, known=180)) == (
        "I know the artists of 180 of these 239 songs. The other 59 are by artists new to me, so I went by their "
        "titles and albums, and any other songs of yours by those artists: they're the likeliest to be in "
        "the wrong playlist."
    )


def test_one_unknown_song_and_no_known_artist_read_as_plain_sentences() -> None:
    """One song by a new artist is 'it', not 'the other 1 are'; with no known artist there is no 'of'."""
    assert "The other one is by an artist new to me" in (known_artists_text(KnownArtists(9, 8)) or "")
    assert (known_artists_text(KnownArtists(1_500, 0)) or "").startswith("All 1,500 of these songs are by artists new")
    assert (known_artists_text(KnownArtists(1, 0)) or "").startswith("This song is by an artist new to me")


def test_the_sort_reply_says_nothing_of_artists_when_nine_in_ten_are_known() -> None:
    """The field shows below 90 % known artists, and only then."""
    told, quiet = report(0, {"rock": 0}), report(0, {"rock": 0})
    told.known_artists, quiet.known_artists = KnownArtists(300, 269), KnownArtists(300, 270)
    assert [f.value for f in sort_embed(told).fields if f.name == "Artists new to me"] == [
        known_artists_text(told.known_artists)]
    assert "Artists new to me" not in [f.name for f in sort_embed(quiet).fields]


def test_the_weekly_summary_tells_about_new_artists_as_the_sort_reply_does() -> None:
    """The weekly DM summarises a sort: it carries the same known-artists field."""
    weekly = report(14, {"rock": 6, "latin": 8})
    weekly.known_artists = KnownArtists(314, 120)
    fields = {f.name: f.value for f in weekly_embed(weekly).fields}
    assert fields["Artists new to me"] == known_artists_text(weekly.known_artists)


def test_the_reply_names_the_playlists_it_emptied_apart_from_those_it_filled() -> None:
    """A family fallen short of the minimum: its playlist is not listed as written, nor hidden."""
    emptied = report(0, {"rock": 0})
    emptied.emptied = [PlaylistOutcome("gospel", "Gospel & Christian · genrebot", "id-g", "https://open.spotify.com/playlist/g",
                                       0, 0, created=False, emptied=True)]
    embed = sort_embed(emptied)
    assert "Gospel" not in (embed.description or "")
    assert [f.value for f in embed.fields if f.name == "Emptied"] == [
        f"{EMPTIED_NOTE}\n[Gospel & Christian · genrebot](https://open.spotify.com/playlist/g)"]
    assert "Emptied" not in [f.name for f in sort_embed(report(0, {"rock": 0})).fields]


@pytest.mark.parametrize("build", [sort_embed, weekly_embed], ids=["sort", "weekly"])
def test_a_sort_reply_with_every_field_and_hundreds_of_playlists_fits_one_embed(
    build: Callable[[SortReport], discord.Embed],
) -> None:
    """124 long-named playlists (the list cut to 4,096 characters), a long skipped list, the
    shared-playlists note and the known-artists line: the whole embed within Discord's 6,000."""
    full = report(5, {f"{'genre-' * 15}{i}": 1 for i in range(124)}, SortSource("x" * 22, "R" * 300))
    full.skipped = {f"reason {i} " + "x" * 40: i + 1 for i in range(20)}
    full.not_chosen, full.duplicates, full.collaborative_playlists_hidden = 7, 2, True
    full.known_artists = KnownArtists(1_000_000, 1)
    full.emptied = [PlaylistOutcome(f"{'gone-' * 15}{i}", "G" * 100, f"id-{i}", "https://open.spotify.com/playlist/" + "x" * 22,
                                    0, 0, created=False, emptied=True) for i in range(124)]
    embed = build(full)
    assert within_discords_embed_limits(embed) and "more" in (embed.description or "").splitlines()[-1]


@pytest.mark.parametrize(("dm_status", "where"), [("sent", "by DM"), ("closed", "/status"), ("left", "/status"),
                                                  ("failed", "/status")])
def test_a_result_discord_refused_in_the_reply_says_what_was_done_why_and_where_it_went(dm_status: str,
                                                                                       where: str) -> None:
    """The text-only reply names the sort, the missing permission and where the details are, in one message."""
    text = result_elsewhere_text(report(3, {"rock": 3}, SortSource("p" * 22, "x" * 5000 + "@everyone")), dm_status,
                                 ["Attach Files"])
    assert text.startswith("Sorted 300 songs from") and "Attach Files" in text and where in text
    assert len(text) <= 2000 and "x" * 100 not in text


def test_liked_songs_spotify_counts_but_does_not_list_are_named_so() -> None:
    """Not an internal reason word: the member reads what happened to those songs."""
    unlisted = report(0, {})
    unlisted.skipped = {SKIPPED_UNLISTED: 2, SKIPPED_UNAVAILABLE: 1}
    assert skipped_text(unlisted) == (
        "2 songs Spotify counts but did not list, 1 unavailable song (no longer on Spotify)"
    )
