"""A member's account texts: /status's recent runs, and the weekly schedule's sources read as a
sentence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.presenters.account import (
    link_failed_reply,
    linked_dm,
    linked_reply,
    refresh_stopped_text,
    sources_text,
    status_embed,
)
from bot.services.errors import LinkEnded, WrongDiscordAccount
from bot.services.linking import LinkedAccount
from bot.services.playlist_plan import SortOptions
from bot.services.weekly_refresh import RefreshStopped
from bot.spotify.errors import NeedsRelink, SpotifyUnavailable
from music import LIKED_SONGS, SortSource
from storage.records import LinkStatus, Run, RunStatus, RunTrigger, Schedule, User
from tests.bot.conftest import World
from tests.bot.presenters.discord_markdown import live_markdown, live_mentions, shown_text
from tests.bot.presenters.embed_limits import within_discords_embed_limits
from tests.bot.presenters.test_limits import hostile_texts

ALICE = 111
ROAD_TRIP = SortSource("r" * 22, "Road Trip")


def test_a_list_of_sources_reads_as_a_sentence() -> None:
    """'Liked Songs and Road Trip'."""
    assert sources_text([LIKED_SONGS]) == "Liked Songs"
    assert sources_text([LIKED_SONGS, ROAD_TRIP, SortSource("p" * 22, "Party")]) == "Liked Songs, Road Trip and Party"


def test_a_link_refused_for_another_discord_account_names_both_as_discord_shows_them() -> None:
    """Random mixes of markdown, links, mentions and line breaks in either member's names: the /link
    reply names them as typed (each on one line), nothing formatted and nobody pinged."""
    names = [name for name in hostile_texts(1200, seed=1401) if name.strip() and len(name) <= 32]  # Discord's rule
    for name, username in zip(names[::2], names[1::2], strict=False):
        failure = WrongDiscordAccount(name=name, username=username, member_name=username, member_username=name,
                                      discord_id=123456789012345678)
        reply = link_failed_reply(failure)
        assert shown_text(reply) == "❌ " + failure.describe(lambda typed: " ".join(typed.split())), reply
        assert live_markdown(reply) == [] and live_mentions(reply) == [], reply


def failed_run(error: str) -> Run:
    started = datetime(2026, 3, 1, 12, tzinfo=UTC)
    return Run(id=1, discord_id=123456789012345678, trigger=RunTrigger.COMMAND, started_at=started,
               finished_at=started, status=RunStatus.FAILED, counts={}, new_songs=0, new_counts={},
               unsorted=0, error=error, dm_status=None)


def test_a_long_run_error_is_shortened_with_an_ellipsis_never_cut_mid_escape() -> None:
    """A run error written for the member, full of underscores, wherever the cut falls: /status shows its
    start and '…', every underscore as written, no stray backslash, and only the status's own bold."""
    user = User(123456789012345678, "s" * 22, "Ada", datetime(2026, 3, 1, tzinfo=UTC), (), LinkStatus.LINKED, 1)
    for pad in range(16):
        error = "the playlist was refused: " + "x" * pad + " ".join(["bad snapshot_id or item_uri"] * 8)
        embed = status_embed(user, [failed_run(error)], None)
        runs = next(f.value or "" for f in embed.fields if f.name == "Recent runs")
        said = shown_text(runs).partition(" · **failed** · ")[2]
        assert said.endswith("…") and error.startswith(said[:-1]), (pad, runs)
        assert "\\" not in shown_text(runs) and live_markdown(runs) == ["*"] * 4, (pad, runs)
        assert within_discords_embed_limits(embed)


def recent_runs_shown(user: User | None, runs: list[Run]) -> str:
    embed = status_embed(user, runs, None)
    return shown_text(next(f.value or "" for f in embed.fields if f.name == "Recent runs"))


async def test_status_says_why_a_sort_failed_in_words_never_as_an_exception(world: World) -> None:
    """A sort Spotify's outage stopped: /status says Spotify wasn't answering, not the class name and
    status code the run history keeps for the operator."""
    await world.link(ALICE, "alice")
    world.sandbox.inject(503, 40)
    with pytest.raises(SpotifyUnavailable):
        await world.services.sorting.sort(ALICE, SortOptions())
    runs = await world.services.sorting.recent_runs(ALICE)
    shown = recent_runs_shown(await world.services.linking.member(ALICE), runs)
    assert "**failed** · Spotify wasn't answering" in shown, shown
    assert "SpotifyUnavailable" not in shown and "503" not in shown, shown


def test_status_shows_no_python_error_name_and_keeps_messages_written_for_the_member() -> None:
    """A bug's exception name is 'something went wrong on genrebot's side'; a stopped link's message,
    a restart and any Spotify refusal read as words."""
    user = User(123456789012345678, "s" * 22, "Ada", datetime(2026, 3, 1, tzinfo=UTC), (), LinkStatus.LINKED, 1)
    written = str(LinkEnded())
    shown = recent_runs_shown(user, [
        failed_run("KeyError"), failed_run("SpotifyRefused: Spotify answered 400: Invalid base62 id"),
        failed_run("interrupted by a restart"), failed_run(written),
    ])
    assert "KeyError" not in shown and "SpotifyRefused" not in shown and "base62" not in shown, shown
    assert "something went wrong on genrebot's side" in shown and "Spotify refused a request" in shown, shown
    assert "interrupted by a restart" in shown and written[:100] in shown, shown


def test_a_long_spotify_account_id_is_shortened_in_the_link_reply_and_dm() -> None:
    """Spotify documents no length for an account id either: 1,900 characters still leave the /link
    reply and the DM short, the id's start shown with '…'."""
    account = LinkedAccount(123456789012345678, "Ada", "a1" * 950)
    for text in (linked_reply(account), linked_dm(account)):
        shown_id = text.partition("`")[2].partition("`")[0]
        assert shown_id.endswith("…") and account.spotify_id.startswith(shown_id[:-1]) and len(shown_id) >= 20, text
        assert len(text) <= 500


def test_a_refresh_being_retried_says_so_and_when_it_is_tried_next() -> None:
    """A weekly refresh's deferred try (Spotify down): /status says it is being retried, why in words,
    and when the next try is (the schedule's next run), not 'deferred' and the class name."""
    user = User(123456789012345678, "s" * 22, "Ada", datetime(2026, 3, 1, tzinfo=UTC), (), LinkStatus.LINKED, 1)
    deferred = replace(failed_run("SpotifyUnavailable: Spotify answered 503; tried again at 2026-03-01 12:30 UTC"),
                       trigger=RunTrigger.SCHEDULE, status=RunStatus.DEFERRED)
    retry_at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    schedule = Schedule(deferred.discord_id, True, 6, 12, "UTC", deferred.started_at, retry_at)
    embed = status_embed(user, [deferred], schedule)
    shown = shown_text(next(f.value or "" for f in embed.fields if f.name == "Recent runs"))
    assert (f"schedule · **retrying** · Spotify wasn't answering · next try <t:{int(retry_at.timestamp())}:R>"
            in shown), shown
    assert "SpotifyUnavailable" not in shown and "deferred" not in shown, shown


def test_a_refresh_stopped_by_a_broken_link_does_not_promise_next_week() -> None:
    """A link found broken stops the refresh until the member links again (none is due before,
    `ScheduleRepository.due`): the DM says so, not "I'll sort it again next week"."""
    text = refresh_stopped_text(RefreshStopped(LIKED_SONGS, NeedsRelink("refresh token revoked")))
    assert "/link" in text and "next week" not in text and "first weekly refresh after you link again" in text
    assert "next week" in refresh_stopped_text(RefreshStopped(LIKED_SONGS, SpotifyUnavailable("503")))


def test_a_refresh_stopped_before_any_summary_does_not_point_at_summaries_above() -> None:
    """Only sources it could not read came before the failure: no "summaries above" to speak of."""
    text = refresh_stopped_text(RefreshStopped(LIKED_SONGS, SpotifyUnavailable("503")), after_summaries=False)
    assert text.startswith("Weekly refresh: I stopped at Liked Songs: ") and "summaries" not in text
