"""What members read: the weekly summary line and the replies to expected failures."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.presenters import error_message, weekly_summary
from bot.services.errors import AlreadyRunning, NotLinked
from bot.services.playlist_plan import UnknownGenre
from bot.services.sorting import PlaylistOutcome, SortReport
from bot.services.weekly_refresh import InvalidSchedule
from bot.spotify.errors import (
    NeedsRelink,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
)


def report(new_songs: int, new_counts: dict[str, int]) -> SortReport:
    playlists = [PlaylistOutcome(key, key, f"id-{key}", None, 50, n, created=False) for key, n in new_counts.items()]
    return SortReport(run_id=1, discord_id=1, model_version="m", playlists=playlists, unsorted=0, not_chosen=0,
                      total_songs=300, new_songs=new_songs, classified=new_songs, dry_run=False, genre_mix={},
                      chart_png=b"")


def test_weekly_summary_counts_new_songs_per_genre_largest_first() -> None:
    """'14 new songs: +8 Latin, +6 Rock': genres with new songs, most first."""
    assert weekly_summary(report(14, {"rock": 6, "latin": 8, "pop": 0})) == "14 new songs: +8 Latin, +6 Rock"


def test_weekly_summary_of_a_quiet_week() -> None:
    """No new likes: the playlists are up to date."""
    assert weekly_summary(report(0, {"rock": 0, "pop": 0})) == (
        "No new liked songs this week; your 2 playlists are up to date."
    )


def test_weekly_summary_when_no_new_song_was_sorted() -> None:
    """New likes that all stayed unsorted are counted, and said to be unsorted."""
    assert weekly_summary(report(1, {"rock": 0})) == "1 new song, none confident enough to sort"


@pytest.mark.parametrize(
    "error",
    [
        NotLinked(), AlreadyRunning(), InvalidSchedule("hour must be between 0 and 23"), NeedsRelink(),
        UserNotRegistered(), SpotifyQuotaExceeded(3600), SpotifyRateLimited(5), SpotifyUnavailable(),
        UnknownGenre(["polka"], ["Rock", "Pop"]),
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


def test_unknown_genres_are_escaped_and_the_valid_ones_listed() -> None:
    """A hostile genre name can neither format nor ping; the valid genres follow."""
    message = error_message(UnknownGenre(["@everyone **x**"], ["Rock", "Pop"]))
    assert message == "I don't know the genre(s) @\u200beveryone \\*\\*x\\*\\*. Pick from: Rock, Pop."


def test_the_rate_limit_reply_says_how_long_to_wait() -> None:
    """The flood reply names the seconds left."""
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(15, 30), 12.4)
    assert error_message(cooldown) == "Easy there! Please wait 12 seconds before the next command."
