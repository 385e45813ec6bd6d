"""The weekly refresh: what a refresh does and the sources it sorts (when it is due in a member's
own time zone: test_weekly_schedule.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.presenters import refresh_failures_text
from bot.presenters.sort_reports import weekly_summary
from bot.services.errors import NotLinked
from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from bot.services.weekly_refresh import (
    MAX_REFRESH_SOURCES,
    RETRY_DELAY,
    RETRY_WINDOW,
    RefreshDeferred,
    WeeklyRefreshReport,
)
from bot.services.weekly_schedule import InvalidSchedule
from bot.spotify.errors import (
    NeedsRelink,
    PlaylistNotFollowed,
    PlaylistNotReadable,
    PlaylistWriteFailed,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from music import LIKED_SONGS, SortSource, Track
from sandbox.library import synthetic_library
from sandbox.records import spotify_id
from storage.records import RunStatus, RunTrigger, Schedule
from tests.bot.conftest import ALICE_SONGS, World

ALICE = 111
NEW_SONGS = 14


async def due_after_new_likes(world: World) -> Schedule:
    """Alice sorted, scheduled Fridays 18:00 Berlin, liked NEW_SONGS songs, and her time came."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))  # the choices it repeats
    schedule = await world.services.weekly_refresh.set_schedule(ALICE, weekday=4, hour=18, timezone="Europe/Berlin")
    world.sandbox.like("alice", synthetic_library(NEW_SONGS, seed=77, prefix="week"))
    assert schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(minutes=1)
    due = await world.services.weekly_refresh.due()
    assert [s.discord_id for s in due] == [ALICE]
    return due[0]


async def deferred_tries(world: World, schedule: Schedule, tries: int) -> Schedule:
    """`tries` tries of the refresh, each deferred by the outage the test set up, half an hour
    apart; the schedule as it is due for the next try."""
    for _ in range(tries):
        with pytest.raises(RefreshDeferred):
            await world.services.weekly_refresh.refresh(schedule)
        world.clock.now += RETRY_DELAY
        [schedule] = await world.services.weekly_refresh.due()
    return schedule


async def run_refresh(world: World, schedule: Schedule) -> WeeklyRefreshReport:
    """The refresh of a schedule no other tick claimed."""
    refreshed = await world.services.weekly_refresh.refresh(schedule)
    assert refreshed is not None
    return refreshed


async def test_refresh_reads_only_the_newest_page_and_adds_songs_at_the_top(world: World) -> None:
    """One page of Liked Songs read; per playlist a followed check, one insert at the top, its details."""
    schedule = await due_after_new_likes(world)
    log_start = len(world.sandbox.requests)
    [report] = (await run_refresh(world, schedule)).reports
    made = world.sandbox.requests[log_start:]
    assert [r.path for r in made if r.method == "GET" and r.path.startswith("/v1/me/tracks")] == ["/v1/me/tracks"]
    assert not [r for r in made if r.method == "PUT" and r.path.endswith("/items")], "no playlist rewritten"
    assert len(made) <= 1 + 3 * len(report.playlists)
    new_uris = {t.uri for t, _ in world.sandbox.users["alice"].liked[:NEW_SONGS]}
    for outcome in report.playlists:
        assert outcome.playlist_id is not None  # not a dry run: every playlist exists
        items = [u for u, _ in world.sandbox.playlists[outcome.playlist_id].items]
        assert len(items) == outcome.count
        assert set(items[: outcome.new_count]) <= new_uris


async def test_refresh_sorts_every_new_song_into_a_playlist(world: World) -> None:
    """With the member's saved options (min size 1), each new song joins exactly one playlist."""
    [report] = (await run_refresh(world, await due_after_new_likes(world))).reports
    assert report.new_songs == NEW_SONGS and report.total_songs == ALICE_SONGS + NEW_SONGS
    assert sum(p.new_count for p in report.playlists) == NEW_SONGS and report.unsorted == 0


async def test_a_member_who_never_linked_cannot_set_a_schedule(world: World) -> None:
    """set_schedule refuses a member who never linked with NotLinked (the /link hint), not a database error."""
    with pytest.raises(NotLinked):
        await world.services.weekly_refresh.set_schedule(ALICE, weekday=4, hour=18, timezone="UTC")
    assert await world.services.weekly_refresh.schedule(ALICE) is None


async def test_a_member_who_unlinked_cannot_set_a_schedule(world: World) -> None:
    """After /unlink, set_schedule refuses with NotLinked and stores no schedule that could never run."""
    await world.link(ALICE, "alice")
    assert await world.services.linking.unlink(ALICE)
    with pytest.raises(NotLinked):
        await world.services.weekly_refresh.set_schedule(ALICE, weekday=4, hour=18, timezone="UTC")
    assert await world.services.weekly_refresh.schedule(ALICE) is None


async def test_refresh_moves_the_schedule_on_a_week(world: World) -> None:
    """After a refresh the member is no longer due, and the next run is a week later."""
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.refresh(schedule)
    assert await world.services.weekly_refresh.due() == []
    moved = await world.services.weekly_refresh.schedule(ALICE)
    assert moved is not None and schedule.next_run is not None
    assert moved.next_run == schedule.next_run + timedelta(weeks=1)


async def test_a_due_refresh_started_twice_at_once_runs_once(world: World) -> None:
    """Two ticks (or two processes) finding the same due refresh: one runs it, the other is told it was taken."""
    schedule = await due_after_new_likes(world)
    runs_before = len(await world.services.sorting.recent_runs(ALICE, limit=50))
    results = await asyncio.gather(
        world.services.weekly_refresh.refresh(schedule), world.services.weekly_refresh.refresh(schedule)
    )
    assert sorted(r is None for r in results) == [False, True]
    assert len(await world.services.sorting.recent_runs(ALICE, limit=50)) == runs_before + 1


async def test_a_member_who_never_chose_refreshes_liked_songs(world: World) -> None:
    """Without a choice, the weekly refresh sorts Liked Songs alone."""
    assert await world.services.weekly_refresh.sources(ALICE) == [LIKED_SONGS]


async def test_refresh_sorts_each_chosen_source_into_its_own_playlists(world: World) -> None:
    """Liked Songs and a playlist chosen: one report each, the playlist's songs new ones included."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=31, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    refreshed = await run_refresh(world, schedule)
    liked, playlist = refreshed.reports
    assert liked.source == LIKED_SONGS and liked.new_songs == NEW_SONGS
    assert playlist.source.playlist_id == road_trip.id and playlist.total_songs == 20
    assert all(o.name.endswith(" · Road Trip · genrebot") for o in playlist.playlists)
    assert not refreshed.failures


async def test_a_source_that_cannot_be_read_is_reported_and_the_others_still_run(world: World) -> None:
    """A chosen playlist that is no longer the member's (Spotify: 403) fails alone; Liked Songs are sorted."""
    theirs = world.sandbox.add_playlist("bob", "Bob's mix", synthetic_library(8, seed=32, prefix="bob"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(theirs.id, "Bob's mix"))
    refreshed = await run_refresh(world, schedule)
    assert [r.source for r in refreshed.reports] == [LIKED_SONGS]
    [failure] = refreshed.failures
    assert failure.source.playlist_id == theirs.id and isinstance(failure.error, PlaylistNotReadable)


async def test_a_playlist_source_the_member_deleted_is_not_sorted_and_the_dm_says_why(world: World) -> None:
    """Deleting a playlist in Spotify only unfollows it, and Spotify still serves it: the refresh
    must not go on filling "Rock · Road Trip · genrebot" from a playlist the member threw away."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=33, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    world.sandbox.unfollow("alice", road_trip.id)
    refreshed = await run_refresh(world, schedule)
    assert [r.source for r in refreshed.reports] == [LIKED_SONGS]
    [failure] = refreshed.failures
    assert failure.source.playlist_id == road_trip.id and isinstance(failure.error, PlaylistNotFollowed)
    assert not [p for p in world.sandbox.playlists_of("alice") if "Road Trip · genrebot" in p.name]
    assert "“Road Trip” is no longer in your Spotify library" in refresh_failures_text(refreshed.failures)


async def test_a_playlist_source_the_member_deleted_is_a_failed_run_in_their_history(world: World) -> None:
    """The DM is not the only place that says so: a member whose DMs are closed finds the skipped
    source in /status as a failed weekly run beside the Liked Songs one, as a source Spotify refuses is."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=33, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    world.sandbox.unfollow("alice", road_trip.id)
    await run_refresh(world, schedule)
    skipped, liked = (await world.services.sorting.recent_runs(ALICE, limit=2))
    assert liked.status == RunStatus.SUCCEEDED and skipped.status == RunStatus.FAILED
    assert skipped.trigger == RunTrigger.SCHEDULE and skipped.finished_at is not None
    assert skipped.error is not None and "PlaylistNotFollowed" in skipped.error and road_trip.id in skipped.error


async def test_a_member_whose_link_needs_renewing_is_told_once_and_refreshed_again_after_linking(world: World) -> None:
    """Spotify stopped honouring Alice's authorisation: the refresh fails once (the DM asks her to
    /link); after that she is not due, so no "link again" DM comes every week, and once she links
    again the refresh she missed is due at once."""
    schedule = await due_after_new_likes(world)
    world.sandbox.revoke_refresh_tokens("alice")
    world.sandbox.expire_access_tokens()
    with pytest.raises(NeedsRelink):
        await world.services.weekly_refresh.refresh(schedule)
    world.clock.now += timedelta(weeks=3)
    assert await world.services.weekly_refresh.due() == [], "no refresh (and no DM) until she links again"
    await world.link(ALICE, "alice")
    due = await world.services.weekly_refresh.due()
    assert [s.discord_id for s in due] == [ALICE]
    assert (await run_refresh(world, due[0])).reports[0].new_songs == NEW_SONGS


async def test_sources_are_added_once_and_at_most_five(world: World) -> None:
    """Adding a source twice keeps one; a sixth source is refused with the way out."""
    for n in range(MAX_REFRESH_SOURCES - 1):
        await world.services.weekly_refresh.add_source(ALICE, SortSource(f"id{n}", f"List {n}"))
    again = await world.services.weekly_refresh.add_source(ALICE, SortSource("id0", "List 0 renamed"))
    assert len(again) == MAX_REFRESH_SOURCES and again[1].name == "List 0 renamed"
    with pytest.raises(InvalidSchedule, match="/schedule remove"):
        await world.services.weekly_refresh.add_source(ALICE, SortSource("id9", "One too many"))


async def test_removing_a_source_by_value_or_name_and_never_the_last(world: World) -> None:
    """A source goes by its suggestion value or its name; the last one stays, with /schedule off named."""
    await world.services.weekly_refresh.add_source(ALICE, SortSource("x" * 22, "Road Trip"))
    assert await world.services.weekly_refresh.remove_source(ALICE, "liked") == [SortSource("x" * 22, "Road Trip")]
    with pytest.raises(InvalidSchedule, match="/schedule off"):
        await world.services.weekly_refresh.remove_source(ALICE, "road trip")
    with pytest.raises(InvalidSchedule, match="isn't one of"):
        await world.services.weekly_refresh.remove_source(ALICE, "Party")


async def sorted_road_trip(world: World) -> tuple[Schedule, SortSource]:
    """Alice's own 30-song playlist, sorted once (every genre a playlist), chosen for her refresh, due."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(30, seed=33, prefix="road"))
    source = SortSource(road_trip.id, "Road Trip")
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1), source=source)  # the choices it repeats
    await world.services.weekly_refresh.add_source(ALICE, source)
    await world.services.weekly_refresh.remove_source(ALICE, "liked")
    schedule = await world.services.weekly_refresh.set_schedule(ALICE, weekday=4, hour=18, timezone="UTC")
    assert schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(minutes=1)
    return schedule, source


def playlist_item_writes(world: World, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in world.sandbox.requests[since:]
            if r.method in ("PUT", "POST") and r.path.endswith("/items")]


def add_songs_by_new_artists(world: World, source: SortSource) -> list[Track]:
    """Six songs by new artists and albums added to the end of the playlist source: pooling over the
    library cannot move an earlier song to another genre, whatever the shipped model decides."""
    added = [
        replace(t, artists=(f"Newcomer {i}",), artist_ids=(spotify_id(f"artist:newcomer {i}"),), album=f"First Album {i}")
        for i, t in enumerate(synthetic_library(6, seed=34, prefix="added"))
    ]
    world.sandbox.add_tracks(added)
    playlist = world.sandbox.playlists[source.playlist_id or ""]
    playlist.items.extend((t.uri, world.clock.now) for t in added)
    playlist.snapshot += 1
    return added


async def test_songs_added_at_the_end_of_a_playlist_source_are_appended_not_rewritten(world: World) -> None:
    """Six songs by new artists added to the end of the source: each genre playlist gets only its new songs, at its end.

    New artists and albums, so pooling over the library cannot move an earlier song to another genre
    (which would rightly rewrite the playlist it leaves) whatever the shipped model decides."""
    schedule, source = await sorted_road_trip(world)
    added = add_songs_by_new_artists(world, source)
    existing = set(world.sandbox.playlists)
    since = len(world.sandbox.requests)
    [report] = (await run_refresh(world, schedule)).reports
    assert report.new_songs == 6 and report.total_songs == 36
    # A new song in a genre the source had no playlist for gets a new playlist (filled by one PUT).
    writes = [w for w in playlist_item_writes(world, since) if w.split("/")[3] in existing]
    assert writes and all(w.startswith("POST") for w in writes), "no earlier genre playlist was rewritten"
    for outcome in report.playlists:
        items = [uri for uri, _ in world.sandbox.playlists[outcome.playlist_id or ""].items]
        assert len(items) == outcome.count and {t.uri for t in added} >= set(items[len(items) - outcome.new_count :])


async def test_an_append_to_a_playlist_the_member_shortened_by_hand_still_lands(world: World) -> None:
    """Genre playlists recorded before genrebot kept snapshot ids, from which the member then removed a
    song by hand: Spotify refuses an append where the record puts their end (403 "Index out of
    bounds"), so each such playlist is written whole instead and the refresh still succeeds."""
    schedule, source = await sorted_road_trip(world)
    db = world.services.db
    for record in (await db.playlists.get_all(ALICE, source.key)).values():  # as an older release left them
        await db.playlists.upsert(replace(record, snapshot_id=None, track_ids=None, details_digest=None))
        genre_playlist = world.sandbox.playlists[record.playlist_id]
        genre_playlist.items.pop(0)  # the member removes a song by hand
        genre_playlist.snapshot += 1
    added = add_songs_by_new_artists(world, source)
    [report] = (await run_refresh(world, schedule)).reports
    assert report.new_songs == 6 and report.total_songs == 36
    gained = [o for o in report.playlists if o.new_count and not o.created]
    assert gained, "some earlier genre playlist gained songs"
    for outcome in gained:  # written whole: its new songs at the end, nothing missing
        items = [uri for uri, _ in world.sandbox.playlists[outcome.playlist_id or ""].items]
        assert len(items) == outcome.count and {t.uri for t in added} >= set(items[len(items) - outcome.new_count :])


async def test_an_unchanged_playlist_source_writes_no_songs(world: World) -> None:
    """A week without changes to the source: its genre playlists are left as they are."""
    schedule, _ = await sorted_road_trip(world)
    since = len(world.sandbox.requests)
    [report] = (await run_refresh(world, schedule)).reports
    assert report.new_songs == 0 and playlist_item_writes(world, since) == []


async def test_a_song_removed_from_a_playlist_source_leaves_its_genre_playlist(world: World) -> None:
    """A removal cannot be an append: the genre playlist that held the song is rewritten without it."""
    schedule, source = await sorted_road_trip(world)
    playlist = world.sandbox.playlists[source.playlist_id or ""]
    removed_uri, _ = playlist.items.pop(3)
    playlist.snapshot += 1
    [report] = (await run_refresh(world, schedule)).reports
    assert report.total_songs == 29
    held = {uri for o in report.playlists for uri, _ in world.sandbox.playlists[o.playlist_id or ""].items}
    assert removed_uri not in held and len(held) == 29
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


async def test_a_refresh_that_meets_spotify_down_a_day_after_its_time_waits_for_next_week(world: World) -> None:
    """Retries stop RETRY_WINDOW after the weekly time: the failure is raised and the schedule moves on."""
    schedule = await due_after_new_likes(world)
    assert schedule.next_run is not None
    world.clock.now = schedule.next_run + RETRY_WINDOW - RETRY_DELAY + timedelta(minutes=1)
    world.sandbox.inject(503, 40)
    with pytest.raises(SpotifyUnavailable):
        await world.services.weekly_refresh.refresh(schedule)
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
    """Spotify still down on the playlist a day after the weekly time: the refresh gives up on it,
    but Liked Songs were sorted, so it returns their report with where it stopped (the DM must not
    read as if nothing happened), and next week counts none of those songs again."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=31, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.weekly_refresh.add_source(ALICE, SortSource(road_trip.id, "Road Trip"))
    assert schedule.next_run is not None
    world.clock.now = schedule.next_run + RETRY_WINDOW - RETRY_DELAY + timedelta(minutes=1)
    world.sandbox.inject(503, 400, path_prefix=f"/v1/playlists/{road_trip.id}")
    refreshed = await run_refresh(world, schedule)
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
