"""What members read: the weekly summary line, a sort's title and what it skipped, the genre
lists, and the replies to expected failures, each within Discord's limits."""

from __future__ import annotations

from collections.abc import Callable

import discord
import pytest
from discord import app_commands

from bot.presenters.account import sources_text
from bot.presenters.errors import error_message
from bot.presenters.genres import family_embed, genres_embed
from bot.presenters.sort_reports import (
    known_artists_text,
    skipped_text,
    sort_embed,
    sort_title,
    weekly_embed,
    weekly_summary,
)
from bot.services.errors import AlreadyRunning, NotLinked, SourceRefused, UnknownSource
from bot.services.genre_names import UnknownGenre
from bot.services.known_artists import KnownArtists
from bot.services.sorting import PlaylistOutcome, SortReport
from bot.services.weekly_refresh import InvalidSchedule
from bot.spotify.client import SKIPPED_EPISODE, SKIPPED_LOCAL
from bot.spotify.errors import (
    NeedsRelink,
    OwnerPremiumRequired,
    PlaylistNotFound,
    PlaylistNotReadable,
    PlaylistWriteFailed,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
)
from classifier import Classifier, Taxonomy
from music import LIKED_SONGS, SortSource


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
        "Nothing new in Road Trip this week; your 1 playlists are up to date."
    )


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


def test_a_list_of_sources_reads_as_a_sentence() -> None:
    """'Liked Songs and Road Trip'."""
    assert sources_text([LIKED_SONGS]) == "Liked Songs"
    assert sources_text([LIKED_SONGS, ROAD_TRIP, SortSource("p" * 22, "Party")]) == "Liked Songs, Road Trip and Party"


def test_someone_elses_playlist_is_refused_naming_it_its_owner_and_the_way_out() -> None:
    """The reply names the playlist and owner (escaped) and says what the member can do instead."""
    message = error_message(PlaylistNotReadable("x" * 22, "@everyone hits", "Bob"))
    assert message is not None and message.startswith("“@\u200beveryone hits” belongs to Bob.")
    assert "own or collaborate on" in message and "copy" in message


def test_a_playlist_write_failing_midway_says_what_the_playlist_holds_now() -> None:
    """Put back: its old songs are there. Not put back: it may be incomplete until the next sort finishes it
    (never "nothing was changed"); the name is escaped."""
    restored = error_message(PlaylistWriteFailed("Rock · genrebot", restored=True)) or ""
    assert "“Rock · genrebot”" in restored and "previous songs back" in restored
    unfinished = error_message(PlaylistWriteFailed("@everyone · genrebot", restored=False)) or ""
    assert "“@\u200beveryone · genrebot”" in unfinished and "may be missing some songs" in unfinished
    assert "next /sort" in unfinished and "Nothing was changed" not in unfinished


def test_weekly_summary_when_no_new_song_was_sorted() -> None:
    """New likes that all stayed unsorted are counted, and said to be unsorted."""
    assert weekly_summary(report(1, {"rock": 0})) == "1 new song, none confident enough to sort"


@pytest.mark.parametrize(
    "error",
    [
        NotLinked(), AlreadyRunning(), InvalidSchedule("hour must be between 0 and 23"), NeedsRelink(),
        UserNotRegistered(), SpotifyQuotaExceeded(3600), SpotifyRateLimited(5), SpotifyUnavailable(),
        UnknownGenre(["polka"], ["Pop", "Punk"]), PlaylistNotReadable("x" * 22, "Hits", "Bob"),
        PlaylistNotFound("x" * 22), UnknownSource("Road"), SourceRefused("That's one of the playlists I made."),
        OwnerPremiumRequired(), PlaylistWriteFailed("Rock · genrebot", restored=True),
        app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30), 12.0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_expected_failure_has_a_reply(error: Exception) -> None:
    """Each typed failure maps to its own short text, never the exception's class name."""
    message = error_message(error)
    assert message and type(error).__name__ not in message and len(message) < 400


def test_a_bug_has_no_reply_of_its_own() -> None:
    """Anything untyped gets None, so the tree apologises with an error id instead."""
    assert error_message(KeyError("token")) is None


def test_unknown_genres_are_escaped_and_close_names_suggested() -> None:
    """A hostile genre name can neither format nor ping; the closest names follow, not the whole list."""
    message = error_message(UnknownGenre(["@everyone **x**"], ["Rock", "R&B & Soul"]))
    assert message == ("I don't know the genre @\u200beveryone \\*\\*x\\*\\*. Did you mean Rock, R&B & Soul? "
                       "`/genres` lists them all.")


def test_an_unknown_genre_reply_fits_a_message_however_long_the_names() -> None:
    """Thirty 5,000-character names still make a reply under Discord's 2,000 characters."""
    message = error_message(UnknownGenre(["x" * 5000] * 30, ["Rock"] * 5))
    assert message is not None and len(message) <= 2000


def within_discords_embed_limits(embed: discord.Embed) -> bool:
    fields_ok = all(1 <= len(f.name or "") <= 256 and 1 <= len(f.value or "") <= 1024 for f in embed.fields)
    return (len(embed) <= 6000 and len(embed.fields) <= 25 and len(embed.description or "") <= 4096
            and len(embed.title or "") <= 256 and fields_ok)


def test_the_genre_list_of_the_shipped_model_fits_one_embed_and_names_every_family() -> None:
    """/genres: a field per family of the real taxonomy, its genres listed, within Discord's limits."""
    classifier = Classifier.load()
    embed = genres_embed(classifier.taxonomy, classifier.version)
    assert within_discords_embed_limits(embed)
    assert [f.name for f in embed.fields] == [classifier.taxonomy.label(f, "family") for f in classifier.taxonomy]
    assert sum(len((f.value or "").split(", ")) for f in embed.fields) == len(classifier.taxonomy.genres)


def test_a_taxonomy_far_bigger_than_an_embed_is_cut_to_fit() -> None:
    """60 families of 30 long-named genres: 25 fields, 'more families', every field cut with '…and N more'."""
    big = Taxonomy([{"key": f"family-{f}", "label": f"Family number {f} " + "x" * 60,
                     "genres": [{"key": f"g{f}-{g}", "label": f"Genre {g} of family {f} " + "y" * 40} for g in range(30)]}
                    for f in range(60)])
    embed = genres_embed(big, "v")
    assert within_discords_embed_limits(embed) and len(embed.fields) == 25
    assert embed.fields[-1].name == "36 more families" and "more" in (embed.fields[0].value or "")


def test_a_familys_genres_fit_one_embed() -> None:
    """/genres family: each of the shipped model's families opens within the limits, listing all its genres."""
    taxonomy = Classifier.load().taxonomy
    for family in taxonomy:
        embed = family_embed(taxonomy, family, "v")
        assert within_discords_embed_limits(embed)
        assert (embed.description or "").count("**") == 2 * len(taxonomy[family])


def test_the_rate_limit_reply_says_how_long_to_wait() -> None:
    """The flood reply names the seconds left."""
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(15, 30), 12.4)
    assert error_message(cooldown) == "Easy there! Please wait 12 seconds before the next command."


def test_a_lapsed_owner_premium_is_explained_not_something_went_wrong() -> None:
    """The Premium refusal names what the bot owner must fix, in its own reply."""
    message = error_message(OwnerPremiumRequired()) or ""
    assert "Premium" in message and "bot owner" in message and "went wrong" not in message


def test_a_quota_stop_says_when_without_calling_the_sort_paused() -> None:
    """A /sort stopped by the quota does not resume by itself, so the reply says when to run it again."""
    message = error_message(SpotifyQuotaExceeded(3600)) or ""
    assert "<t:" in message and "/sort again" in message and "paused" not in message


def test_the_known_artists_line_says_how_many_songs_are_by_artists_the_model_knows() -> None:
    """180 of 239 known: the member reads both counts and which songs to check."""
    assert known_artists_text(KnownArtists(songs=239, known=180)) == (
        "I know the artists of 180 of these 239 songs. The other 59 are by artists new to me, so I went by their "
        "titles, albums and years, and any other songs of yours by those artists: they're the likeliest to be in "
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
    embed = build(full)
    assert within_discords_embed_limits(embed) and "more" in (embed.description or "").splitlines()[-1]
