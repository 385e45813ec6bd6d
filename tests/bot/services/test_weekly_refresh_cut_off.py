"""A weekly refresh cut off part-way: by Spotify's quota, a restart, the bot stopping, Spotify down or
holding the app back. It is due again (or tried again within the day), runs once, and the try that
finishes tells the whole week; the member's history lists it once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.presenters import refresh_stopped_text
from bot.presenters.sort_reports import weekly_summary
from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from bot.services.weekly_refresh import RefreshDeferred, WeeklyRefreshReport
from bot.services.weekly_retries import RETRY_DELAY, RETRY_WINDOW
from bot.spotify.errors import (
    PlaylistWriteFailed,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from music import LIKED_SONGS, SortSource
from sandbox.library import synthetic_library
from storage.records import RefreshDm, RunStatus, RunTrigger, Schedule
from tests.bot.conftest import ALICE_SONGS, World
from tests.bot.services.conftest import ALICE, NEW_SONGS, due_after_new_likes, run_refresh, sorted_road_trip


async def deferred_tries(world: World, schedule: Schedule, tries: int) -> Schedule:
    """`tries` tries of the refresh, each deferred by the outage the test set up, half an hour
    apart; the schedule as it is due for the next try."""
    for _ in range(tries):
        with pytest.raises(RefreshDeferred):
            await world.services.weekly_refresh.refresh(schedule)
        world.clock.now += RETRY_DELAY
        [schedule] = await world.services.weekly_refresh.due()
    return schedule


async def test_a_refresh_met_by_the_quota_waits_for_the_pause_and_then_runs(world: World) -> None:
    """A weekly refresh stopped by QUOTA_EXCEEDED is paused: nobody is due during the pause, then it runs."""
    schedule = await due_after_new_likes(world)
    world.sandbox.inject(429, 1, retry_after=3_600, reason="QUOTA_EXCEEDED")
    with pytest.raises(SpotifyQuotaExceeded):
        await world.services.weekly_refresh.refresh(schedule)
    assert (await world.services.sorting.recent_runs(ALICE))[0].status == RunStatus.PAUSED
    assert await world.services.weekly_refresh.due() == [], "the scheduler starts nothing during the pause"
    world.clock.now += timedelta(hours=1)
    resumed = await world.services.weekly_refresh.due()
    assert [s.discord_id for s in resumed] == [ALICE]
    refreshed = await world.services.weekly_refresh.refresh(resumed[0])
    assert refreshed is not None and refreshed.reports[0].new_songs == NEW_SONGS


async def held_refresh(world: World, schedule: Schedule) -> tuple[asyncio.Task[WeeklyRefreshReport | None], asyncio.Event]:
    """The refresh started, held while Spotify serves its read of Liked Songs; set the event to go on."""
    reading, release = asyncio.Event(), asyncio.Event()

    async def hold_the_read() -> None:
        reading.set()
        await release.wait()

    world.sandbox.hold_liked_page("alice", 0, hold_the_read)
    refresh = asyncio.create_task(world.services.weekly_refresh.refresh(schedule))
    await reading.wait()
    return refresh, release


async def test_a_refresh_cut_off_by_a_restart_runs_again_after_it(world: World) -> None:
    """The process dies while a due refresh reads Spotify: after the restart the refresh is due
    again and runs once, rather than waiting a week."""
    schedule = await due_after_new_likes(world)
    refresh, release = await held_refresh(world, schedule)
    assert (await world.services.sorting.recent_runs(ALICE))[0].status == RunStatus.RUNNING
    settings = world.services.settings
    await world.services.db.close()  # the process dies here: nothing the refresh does next is recorded
    release.set()
    await asyncio.gather(refresh, return_exceptions=True)
    await world.services.close()
    world.services = await Services.open(settings, clock=world.clock)
    try:
        assert (await world.services.sorting.recent_runs(ALICE))[0].status == RunStatus.FAILED
        due = await world.services.weekly_refresh.due()
        assert [s.discord_id for s in due] == [ALICE], "the cut-off refresh is due again"
        [report] = (await run_refresh(world, due[0])).reports
        assert report.new_songs == NEW_SONGS
        assert await world.services.weekly_refresh.due() == [], "and it runs once"
        moved = await world.services.weekly_refresh.schedule(ALICE)
        assert moved is not None and schedule.next_run is not None
        assert moved.next_run == schedule.next_run + timedelta(weeks=1)
    finally:
        await world.services.close()  # the fixture closes only the services it opened


async def test_a_refresh_stopped_with_the_bot_is_due_again(world: World) -> None:
    """The bot stops (its tasks cancelled) while a weekly refresh reads: the refresh stays due,
    so the first tick after the start runs it, rather than a week late."""
    schedule = await due_after_new_likes(world)
    refresh, release = await held_refresh(world, schedule)
    refresh.cancel()
    await asyncio.gather(refresh, return_exceptions=True)
    release.set()
    due = await world.services.weekly_refresh.due()
    assert [s.discord_id for s in due] == [ALICE]
    assert (await run_refresh(world, due[0])).reports[0].new_songs == NEW_SONGS


async def test_a_schedule_turned_off_during_a_refresh_the_quota_stops_stays_off(world: World) -> None:
    """/schedule off while the refresh runs, then QUOTA_EXCEEDED: the paused refresh does not turn it back on."""
    schedule = await due_after_new_likes(world)
    refresh, release = await held_refresh(world, schedule)
    assert await world.services.weekly_refresh.disable(ALICE)
    world.sandbox.inject(429, 1, retry_after=3_600, reason="QUOTA_EXCEEDED")
    release.set()
    with pytest.raises(SpotifyQuotaExceeded):
        await refresh
    kept = await world.services.weekly_refresh.schedule(ALICE)
    assert kept is not None and not kept.enabled
    world.clock.now += timedelta(hours=2)
    assert await world.services.weekly_refresh.due() == [], "nothing runs after the pause"


async def test_a_schedule_moved_during_a_refresh_the_quota_stops_keeps_its_new_time(world: World) -> None:
    """/schedule set to another day while the refresh runs, then QUOTA_EXCEEDED: the new day stays."""
    schedule = await due_after_new_likes(world)
    refresh, release = await held_refresh(world, schedule)
    moved = await world.services.weekly_refresh.set_schedule(ALICE, weekday=0, hour=7, timezone="UTC")
    world.sandbox.inject(429, 1, retry_after=3_600, reason="QUOTA_EXCEEDED")
    release.set()
    with pytest.raises(SpotifyQuotaExceeded):
        await refresh
    assert await world.services.weekly_refresh.schedule(ALICE) == moved


async def first_try_deferred(world: World, schedule: Schedule) -> datetime:
    """The week's first try meets Spotify down and is deferred (Spotify answers again after it):
    when it began, from which its retries count."""
    began = world.clock.now
    world.sandbox.inject(503, 400)
    with pytest.raises(RefreshDeferred):
        await world.services.weekly_refresh.refresh(schedule)
    world.sandbox.faults.clear()
    return began


async def test_a_refresh_held_back_by_a_long_retry_after_is_due_again_once_it_is_over(world: World) -> None:
    """A 429 asking for an hour: the refresh is deferred to an hour later, not skipped for a week."""
    schedule = await due_after_new_likes(world)
    world.sandbox.inject(429, 1, retry_after=3_600)
    with pytest.raises(RefreshDeferred) as deferred:
        await world.services.weekly_refresh.refresh(schedule)
    assert isinstance(deferred.value.error, SpotifyRateLimited)
    again = await world.services.weekly_refresh.schedule(ALICE)
    assert again is not None and again.next_run == world.clock.now + timedelta(hours=1)
    world.clock.now += timedelta(minutes=59)
    assert await world.services.weekly_refresh.due() == []
    world.clock.now += timedelta(minutes=1)
    assert [s.discord_id for s in await world.services.weekly_refresh.due()] == [ALICE]


async def test_a_refresh_that_meets_spotify_down_while_writing_is_tried_again_later_too(world: World) -> None:
    """Spotify fails (503 past the retries) while the refresh writes a playlist: the failure names the
    playlist (PlaylistWriteFailed), and it is still Spotify being down, so the refresh is deferred
    quietly like one that failed while reading, and the next try finishes the playlist."""
    schedule = await due_after_new_likes(world)
    world.sandbox.inject(503, 400, method="POST", path_prefix="/v1/playlists/")
    with pytest.raises(RefreshDeferred) as deferred:
        await world.services.weekly_refresh.refresh(schedule)
    assert isinstance(deferred.value.error, PlaylistWriteFailed)
    again = await world.services.weekly_refresh.schedule(ALICE)
    assert again is not None and again.next_run == world.clock.now + RETRY_DELAY
    world.sandbox.faults.clear()
    world.clock.now += RETRY_DELAY
    [due] = await world.services.weekly_refresh.due()
    assert (await run_refresh(world, due)).reports[0].total_songs == ALICE_SONGS + NEW_SONGS


async def test_a_refresh_that_meets_spotify_down_a_day_after_its_first_try_waits_for_next_week(world: World) -> None:
    """Retries stop RETRY_WINDOW after the week's first try: the failure is raised and the schedule moves on."""
    schedule = await due_after_new_likes(world)
    assert schedule.next_run is not None
    began = await first_try_deferred(world, schedule)
    world.clock.now = began + RETRY_WINDOW - RETRY_DELAY + timedelta(minutes=1)
    [again] = await world.services.weekly_refresh.due()
    world.sandbox.inject(503, 40)
    with pytest.raises(SpotifyUnavailable):
        await world.services.weekly_refresh.refresh(again)
    moved = await world.services.weekly_refresh.schedule(ALICE)
    assert moved is not None and moved.next_run == schedule.next_run + timedelta(weeks=1)


async def test_a_refresh_tried_again_after_an_outage_reports_the_songs_its_first_try_sorted(world: World) -> None:
    """Spotify goes down on the second source: the retry half an hour later finds nothing new in
    Liked Songs (the first try sorted them), yet the week's summary must still say what the week
    brought: NEW_SONGS new liked songs, each counted once, in the playlists that gained them."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=31, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    world.sandbox.inject(503, 400, path_prefix=f"/v1/playlists/{road_trip.id}")
    with pytest.raises(RefreshDeferred):
        await world.services.weekly_refresh.refresh(schedule)
    world.sandbox.faults.clear()
    world.clock.now += RETRY_DELAY
    [due] = await world.services.weekly_refresh.due()
    liked, playlist = (await run_refresh(world, due)).reports
    assert liked.new_songs == NEW_SONGS and sum(p.new_count for p in liked.playlists) == NEW_SONGS
    assert weekly_summary(liked).startswith(f"{NEW_SONGS} new songs: +")
    assert playlist.new_songs == 20 and playlist.playlists and all(p.created for p in playlist.playlists)


async def test_a_refresh_cut_off_while_writing_and_retried_after_a_restart_still_counts_its_new_songs(world: World) -> None:
    """Spotify goes down while the new liked songs are written, and the bot restarts before the
    retry: the songs were read (so the retry finds none new in Liked Songs), yet the summary the
    retry gives counts the week's NEW_SONGS songs, each in the playlist it joined."""
    schedule = await due_after_new_likes(world)
    world.sandbox.inject(503, 400, method="POST", path_prefix="/v1/playlists/")
    with pytest.raises(RefreshDeferred):
        await world.services.weekly_refresh.refresh(schedule)
    world.sandbox.faults.clear()
    settings = world.services.settings
    await world.services.close()
    world.services = await Services.open(settings, clock=world.clock)
    try:
        world.clock.now += RETRY_DELAY
        [due] = await world.services.weekly_refresh.due()
        [report] = (await run_refresh(world, due)).reports
        assert report.new_songs == NEW_SONGS and sum(p.new_count for p in report.playlists) == NEW_SONGS
        new_uris = {t.uri for t, _ in world.sandbox.users["alice"].liked[:NEW_SONGS]}
        for outcome in report.playlists:  # each song counted in the playlist that holds it
            items = {uri for uri, _ in world.sandbox.playlists[outcome.playlist_id or ""].items}
            assert len(items & new_uris) == outcome.new_count
    finally:
        await world.services.close()


async def test_a_refresh_spotify_stops_for_good_after_a_source_still_reports_the_sources_it_sorted(world: World) -> None:
    """Spotify still down on the playlist a day after the first try: the refresh gives up on it,
    but Liked Songs were sorted, so it returns their report with where it stopped (the DM must not
    read as if nothing happened), and next week counts none of those songs again."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=31, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    assert schedule.next_run is not None
    began = await first_try_deferred(world, schedule)
    world.clock.now = began + RETRY_WINDOW - RETRY_DELAY + timedelta(minutes=1)
    [again] = await world.services.weekly_refresh.due()
    world.sandbox.inject(503, 400, path_prefix=f"/v1/playlists/{road_trip.id}")
    refreshed = await run_refresh(world, again)
    [liked] = refreshed.reports
    assert liked.source == LIKED_SONGS and liked.new_songs == NEW_SONGS
    assert refreshed.stopped is not None and refreshed.stopped.source.playlist_id == road_trip.id
    assert isinstance(refreshed.stopped.error, SpotifyUnavailable)
    world.sandbox.faults.clear()
    world.clock.now = schedule.next_run + timedelta(weeks=1, minutes=1)
    [due] = await world.services.weekly_refresh.due()
    liked_again, playlist = (await run_refresh(world, due)).reports
    assert liked_again.new_songs == 0 and playlist.new_songs == 20


async def test_a_refresh_retried_through_an_outage_is_one_entry_in_the_members_recent_runs(world: World) -> None:
    """Spotify down for three hours: each half-hourly try is in the run history (the operator's view),
    but the member's recent runs show the refresh once, as the try being retried, with their own
    /sort still there; once a try gets through, the week's refresh is its success alone."""
    schedule = await due_after_new_likes(world)
    world.sandbox.inject(503, 10_000)
    schedule = await deferred_tries(world, schedule, 6)
    history = await world.services.db.runs.recent(ALICE, limit=20)
    assert [r.status for r in history] == [RunStatus.DEFERRED] * 6 + [RunStatus.SUCCEEDED]
    assert all(r.error and r.error.startswith("SpotifyUnavailable") for r in history[:6])
    shown = await world.services.sorting.recent_runs(ALICE)
    assert [(r.trigger, r.status) for r in shown] == [
        (RunTrigger.SCHEDULE, RunStatus.DEFERRED), (RunTrigger.COMMAND, RunStatus.SUCCEEDED)
    ]
    world.sandbox.faults.clear()
    await run_refresh(world, schedule)
    shown = await world.services.sorting.recent_runs(ALICE)
    assert [(r.trigger, r.status) for r in shown] == [
        (RunTrigger.SCHEDULE, RunStatus.SUCCEEDED), (RunTrigger.COMMAND, RunStatus.SUCCEEDED)
    ]
    assert len(await world.services.db.runs.recent(ALICE, limit=20)) == 8


async def test_a_try_deferred_before_its_sort_began_is_in_the_run_history_too(world: World) -> None:
    """Spotify down already for the check that the member still follows a playlist source (before any
    sort starts): that try is a deferred run as well, so neither view loses it."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=31, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.db.sort_preferences.save_refresh_sources(ALICE, [SortSource(road_trip.id, "Road Trip")])
    world.sandbox.inject(503, 10_000)
    with pytest.raises(RefreshDeferred):
        await world.services.weekly_refresh.refresh(schedule)
    [latest] = await world.services.db.runs.recent(ALICE, limit=1)
    assert (latest.trigger, latest.status) == (RunTrigger.SCHEDULE, RunStatus.DEFERRED)
    assert latest.error and latest.error.startswith("SpotifyUnavailable")


async def test_the_sources_a_retried_try_sorted_do_not_crowd_the_members_recent_runs(world: World) -> None:
    """Spotify down on the playlist source only: each try sorts Liked Songs again before it meets
    the outage. Those sorts are part of a try that was tried again (their songs go into the final
    summary), so they are deferred runs too: the member sees the refresh once, and their /sort."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=31, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    world.sandbox.inject(503, 10_000, path_prefix=f"/v1/playlists/{road_trip.id}")
    schedule = await deferred_tries(world, schedule, 3)
    history = await world.services.db.runs.recent(ALICE, limit=20)
    assert [r.status for r in history] == [RunStatus.DEFERRED] * 6 + [RunStatus.SUCCEEDED]
    assert history[5].counts and history[5].new_songs == NEW_SONGS  # the first try's Liked Songs, as it ran
    shown = await world.services.sorting.recent_runs(ALICE)
    assert [(r.trigger, r.status) for r in shown] == [
        (RunTrigger.SCHEDULE, RunStatus.DEFERRED), (RunTrigger.COMMAND, RunStatus.SUCCEEDED)
    ]


async def test_a_playlist_emptied_by_a_cut_off_try_is_in_the_summary_of_the_try_that_finishes(world: World) -> None:
    """The member took every song of one genre out of their playlist source: the first try empties
    that genre's playlist, then Spotify fails writing another. The retry finds the playlist already
    empty, yet the week's summary must still say it was emptied (the member would not know why)."""
    schedule, source = await sorted_road_trip(world)
    records = sorted((await world.services.db.playlists.get_all(ALICE, source.key)).values(), key=lambda r: r.track_count)
    emptied, failing = records[0], records[-1]
    playlist = world.sandbox.playlists[source.playlist_id or ""]
    gone = {uri for uri, _ in world.sandbox.playlists[emptied.playlist_id].items}
    gone.add(world.sandbox.playlists[failing.playlist_id].items[0][0])
    playlist.items[:] = [(uri, at) for uri, at in playlist.items if uri not in gone]
    playlist.snapshot += 1
    world.sandbox.inject(503, 10_000, path_prefix=f"/v1/playlists/{failing.playlist_id}/items")
    with pytest.raises(RefreshDeferred):
        await world.services.weekly_refresh.refresh(schedule)
    assert world.sandbox.playlists[emptied.playlist_id].items == []  # the cut-off try emptied it
    world.sandbox.faults.clear()
    world.clock.now += RETRY_DELAY
    [due] = await world.services.weekly_refresh.due()
    [report] = (await run_refresh(world, due)).reports
    assert [o.playlist_id for o in report.emptied] == [emptied.playlist_id]


async def sunday_evening_in_berlin_due(world: World, week_of: datetime) -> Schedule:
    """Alice linked, sorted and scheduled Sundays 18:00 Europe/Berlin in the week before the Sunday `week_of`; that Sunday came."""
    world.clock.now = week_of - timedelta(days=6)  # the Monday before
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))
    schedule = await world.services.weekly_refresh.set_schedule(ALICE, weekday=6, hour=18, timezone="Europe/Berlin")
    assert schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(minutes=1)
    [due] = await world.services.weekly_refresh.due()
    return due


@pytest.mark.parametrize(
    ("sunday", "at_18_local"),
    [  # the Sunday before each change: the next Sunday 18:00 is an hour later (October) or earlier (March) in UTC
        (datetime(2026, 10, 18, tzinfo=UTC), datetime(2026, 10, 18, 16, 0, tzinfo=UTC)),  # CEST, then CET
        (datetime(2027, 3, 21, tzinfo=UTC), datetime(2027, 3, 21, 17, 0, tzinfo=UTC)),  # CET, then CEST
    ],
    ids=["october", "march"],
)
async def test_retries_stop_a_day_after_the_weekly_time_in_the_week_before_a_clock_change(
    world: World, sunday: datetime, at_18_local: datetime
) -> None:
    """Sunday 18:00 in Berlin, Spotify down all evening, the week before the clocks change: the member
    is retried until Monday 18:00 local, RETRY_WINDOW after her first try at the time she chose
    (this week's, not one an hour off: October, March), and then waits for the next Sunday 18:00 local."""
    schedule = await sunday_evening_in_berlin_due(world, sunday)
    assert schedule.next_run == at_18_local
    world.sandbox.inject(503, 100_000)
    world.clock.now = at_18_local
    with pytest.raises(RefreshDeferred):
        await world.services.weekly_refresh.refresh(schedule)
    last_try = at_18_local + RETRY_WINDOW - RETRY_DELAY
    world.clock.now = last_try
    [schedule] = await world.services.weekly_refresh.due()
    with pytest.raises(RefreshDeferred) as deferred:
        await world.services.weekly_refresh.refresh(schedule)
    assert deferred.value.retry_at == at_18_local + RETRY_WINDOW  # Monday 18:00 local, the last try
    world.clock.now = deferred.value.retry_at + timedelta(minutes=1)  # that try meets Spotify down too
    [schedule] = await world.services.weekly_refresh.due()
    with pytest.raises(SpotifyUnavailable):
        await world.services.weekly_refresh.refresh(schedule)
    moved = await world.services.weekly_refresh.schedule(ALICE)
    next_sunday = (at_18_local + timedelta(weeks=1)).astimezone(ZoneInfo("Europe/Berlin"))
    assert moved is not None and moved.next_run is not None
    assert moved.next_run.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None) == datetime(
        next_sunday.year, next_sunday.month, next_sunday.day, 18
    )


async def test_a_retry_reads_only_the_newest_page_of_liked_songs_again(world: World) -> None:
    """Spotify down on the playlist source for two hours: each half-hourly try sorts Liked Songs
    again, but with one request (the first try stored the week's new songs), not a read of the
    whole library every half hour."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=31, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    world.sandbox.inject(503, 10_000, path_prefix=f"/v1/playlists/{road_trip.id}")
    for _ in range(4):
        since = len(world.sandbox.requests)
        schedule = await deferred_tries(world, schedule, 1)
        assert [r.path for r in world.sandbox.requests[since:] if r.path.startswith("/v1/me/tracks")] == ["/v1/me/tracks"]


async def test_a_try_the_quota_stopped_is_folded_into_the_try_after_the_pause(world: World) -> None:
    """Bob's mix (Spotify: 403) fails, then QUOTA_EXCEEDED stops Liked Songs: the try after the pause
    finds Bob's mix failing again and tells it, so the stopped try's failed run is 'deferred' (the
    history keeps it) rather than a second, never-told failure in the member's /status."""
    theirs = world.sandbox.add_playlist("bob", "Bob's mix", synthetic_library(8, seed=32, prefix="bob"))
    schedule = await due_after_new_likes(world)
    await world.services.db.sort_preferences.save_refresh_sources(ALICE, [SortSource(theirs.id, "Bob's mix"), LIKED_SONGS])
    world.sandbox.inject(429, 1, retry_after=3_600, reason="QUOTA_EXCEEDED", path_prefix="/v1/me/tracks")
    with pytest.raises(SpotifyQuotaExceeded):
        await world.services.weekly_refresh.refresh(schedule)
    paused, skipped = await world.services.db.runs.recent(ALICE, limit=2)
    assert (paused.status, skipped.status) == (RunStatus.PAUSED, RunStatus.DEFERRED)
    world.clock.now += timedelta(hours=1)
    [due] = await world.services.weekly_refresh.due()
    refreshed = await run_refresh(world, due)
    assert len(refreshed.failures) == 1 and refreshed.reports[0].new_songs == NEW_SONGS
    shown = [r.status for r in await world.services.sorting.recent_runs(ALICE) if r.trigger == RunTrigger.SCHEDULE]
    assert shown.count(RunStatus.FAILED) == 1, shown


async def test_a_bot_stopped_as_the_refresh_ends_does_not_run_it_again(world: World) -> None:
    """The stop lands while the transaction that ends the refresh commits (its DMs queued, its
    progress cleared): SQLite commits it all the same, so the refresh ended and is not given back,
    which would sort it again at the start and DM the member a second summary."""
    schedule = await due_after_new_likes(world)
    loop = asyncio.get_running_loop()
    ending = False

    def render(member: int, report: WeeklyRefreshReport) -> list[RefreshDm]:
        nonlocal ending
        ending = True  # what SQLite runs next is the transaction that ends the refresh
        return [RefreshDm(member, (), content="summary")]

    def on_statement(statement: str) -> None:  # in aiosqlite's thread, before SQLite runs it
        nonlocal ending
        if ending and statement == "COMMIT":
            ending = False
            loop.call_soon_threadsafe(refresh.cancel)  # lands before the COMMIT's answer does

    await world.services.db.sql._conn.set_trace_callback(on_statement)  # noqa: SLF001 (SQLite's own hook)
    refresh = asyncio.create_task(world.services.weekly_refresh.refresh(schedule, render))
    await asyncio.gather(refresh, return_exceptions=True)
    assert refresh.cancelled() and not ending, "the stop came with the COMMIT"
    assert [dm.content for dm in await world.services.db.refresh_dms.pending(ALICE)] == ["summary"]
    assert await world.services.weekly_refresh.due() == [], "the refresh ended: not due again"
    await world.services.db.recover_interrupted_runs()
    assert await world.services.weekly_refresh.due() == [], "nor after a restart"


async def test_a_refresh_run_late_after_the_bot_was_down_is_still_retried_for_a_day(world: World) -> None:
    """The bot was down 30 hours past Alice's weekly time and Spotify fails as it comes back: her
    refresh is retried from then on (not given up at once for a week), for RETRY_WINDOW after that
    first try, and then waits for next week."""
    schedule = await due_after_new_likes(world)
    assert schedule.next_run is not None
    weekly_time = schedule.next_run
    world.clock.now = weekly_time + timedelta(hours=30)
    began = world.clock.now
    world.sandbox.inject(503, 100_000)
    with pytest.raises(RefreshDeferred) as deferred:
        await world.services.weekly_refresh.refresh(schedule)
    assert deferred.value.retry_at == began + RETRY_DELAY
    world.clock.now = began + RETRY_WINDOW - RETRY_DELAY
    [schedule] = await world.services.weekly_refresh.due()
    with pytest.raises(RefreshDeferred) as deferred:
        await world.services.weekly_refresh.refresh(schedule)
    assert deferred.value.retry_at == began + RETRY_WINDOW, "the last try"
    world.clock.now = deferred.value.retry_at + timedelta(minutes=1)
    [schedule] = await world.services.weekly_refresh.due()
    with pytest.raises(SpotifyUnavailable):
        await world.services.weekly_refresh.refresh(schedule)
    moved = await world.services.weekly_refresh.schedule(ALICE)
    assert moved is not None and moved.next_run == weekly_time + timedelta(weeks=1)


async def test_a_refresh_run_late_is_not_retried_into_next_weeks_time(world: World) -> None:
    """The bot was down almost a week: Alice's late refresh meets Spotify down 20 minutes before her
    next weekly time. A retry would land on that time, which is next week's refresh: this one gives
    up, and next week's runs at its own time."""
    schedule = await due_after_new_likes(world)
    assert schedule.next_run is not None
    next_week = schedule.next_run + timedelta(weeks=1)
    world.clock.now = next_week - timedelta(minutes=20)
    world.sandbox.inject(503, 100_000)
    with pytest.raises(SpotifyUnavailable):
        await world.services.weekly_refresh.refresh(schedule)
    moved = await world.services.weekly_refresh.schedule(ALICE)
    assert moved is not None and moved.next_run == next_week


async def test_a_long_retry_after_that_ends_the_retries_after_one_try_is_told_as_spotify_asking_to_wait(
    world: World,
) -> None:
    """Alice's refresh runs late, 40 minutes before her next weekly time; Liked Songs are sorted, then
    Spotify answers Road Trip with a 429 asking to wait 30 hours. One try, no retry fits: the DM says
    Spotify asked to wait longer than the retries last, not that it kept failing all day."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=34, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    assert schedule.next_run is not None
    next_week = schedule.next_run + timedelta(weeks=1)
    world.clock.now = next_week - timedelta(minutes=40)
    world.sandbox.inject(429, 1_000, retry_after=30 * 3_600, path_prefix=f"/v1/playlists/{road_trip.id}")
    refreshed = await run_refresh(world, schedule)
    stopped = refreshed.stopped
    assert stopped is not None and stopped.retries is not None and isinstance(stopped.error, SpotifyRateLimited)
    assert stopped.retries.asked_to_wait and stopped.retries.tried_once
    told = refresh_stopped_text(stopped)
    assert "Spotify asked genrebot to wait longer than I keep retrying" in told and "all day" not in told


async def test_a_refresh_spotify_failed_through_every_retry_says_for_how_long(world: World) -> None:
    """Spotify down on Road Trip from the first try to the last, a day later: the DM says it kept
    failing through that many hours of retries."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=35, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    began = await first_try_deferred(world, schedule)
    world.clock.now = began + RETRY_WINDOW - RETRY_DELAY + timedelta(minutes=1)
    [again] = await world.services.weekly_refresh.due()
    world.sandbox.inject(503, 400, path_prefix=f"/v1/playlists/{road_trip.id}")
    stopped = (await run_refresh(world, again)).stopped
    assert stopped is not None and stopped.retries is not None and not stopped.retries.asked_to_wait
    assert "Spotify kept failing on it for 24 hours of retries" in refresh_stopped_text(stopped)
