"""The weekly refresh: what a refresh does and the sources it sorts (when it is due in a member's
own time zone: test_weekly_schedule.py; a refresh cut off and run again: test_weekly_refresh_cut_off.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.presenters import refresh_failures_text
from bot.services.errors import NotLinked
from bot.services.weekly_refresh import MAX_REFRESH_SOURCES
from bot.services.weekly_schedule import InvalidSchedule
from bot.spotify.errors import NeedsRelink, PlaylistNotFollowed, PlaylistNotReadable
from music import LIKED_SONGS, SortSource, Track
from sandbox.library import synthetic_library
from sandbox.records import spotify_id
from storage.records import LinkStatus, RunStatus, RunTrigger
from tests.bot.conftest import ALICE_SONGS, World
from tests.bot.services.conftest import ALICE, NEW_SONGS, due_after_new_likes, run_refresh, sorted_road_trip


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


async def test_a_source_that_failed_before_a_later_step_failed_outright_is_still_reported(world: World) -> None:
    """Bob's mix (Spotify: 403) fails first, then Spotify refuses (403) the write of Liked Songs'
    new songs: nothing was sorted, yet the failed source must still reach the DM (and its run the
    DM's outcome), beside where the refresh stopped."""
    theirs = world.sandbox.add_playlist("bob", "Bob's mix", synthetic_library(8, seed=32, prefix="bob"))
    schedule = await due_after_new_likes(world)
    await world.services.db.sort_preferences.save_refresh_sources(ALICE, [SortSource(theirs.id, "Bob's mix"), LIKED_SONGS])
    world.sandbox.inject(403, 400, method="POST", path_prefix="/v1/playlists/")
    refreshed = await run_refresh(world, schedule)
    assert refreshed.reports == []
    [failure] = refreshed.failures
    assert failure.source.playlist_id == theirs.id and failure.run_id is not None
    assert refreshed.stopped is not None and refreshed.stopped.source == LIKED_SONGS
    assert refreshed.stopped.run_id is not None and refreshed.stopped.run_id != failure.run_id


async def test_a_step_refused_before_its_sort_began_is_a_failed_run_in_the_history(world: World) -> None:
    """Alice revoked genrebot's access; her refresh's first step (is Road Trip still hers?) finds
    it out before any sort starts: the refresh still records a failed weekly run, which the DM
    saying "link again" reports on (/status and the operator's history show the refresh happened)."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(20, seed=33, prefix="road"))
    schedule = await due_after_new_likes(world)
    await world.services.db.sort_preferences.save_refresh_sources(ALICE, [SortSource(road_trip.id, "Road Trip")])
    runs_before = await world.services.weekly_refresh.latest_run(ALICE)
    world.sandbox.revoke_refresh_tokens("alice")
    world.sandbox.expire_access_tokens()
    with pytest.raises(NeedsRelink):
        await world.services.weekly_refresh.refresh(schedule)
    [latest] = await world.services.db.runs.recent(ALICE, limit=1)
    assert (latest.trigger, latest.status) == (RunTrigger.SCHEDULE, RunStatus.FAILED)
    assert latest.error is not None and latest.error.startswith("NeedsRelink")
    assert await world.services.weekly_refresh.failed_run_since(ALICE, runs_before) == latest.id


async def test_a_refresh_whose_link_was_already_marked_broken_records_a_failed_run(world: World) -> None:
    """The link was found broken after the refresh was found due (a /sort a moment before): the
    sort refuses before it starts (NeedsRelink), and the refresh is a failed run all the same."""
    schedule = await due_after_new_likes(world)
    runs_before = await world.services.weekly_refresh.latest_run(ALICE)
    await world.services.db.users.set_status(ALICE, LinkStatus.NEEDS_RELINK)
    with pytest.raises(NeedsRelink):
        await world.services.weekly_refresh.refresh(schedule)
    assert await world.services.weekly_refresh.failed_run_since(ALICE, runs_before) is not None
