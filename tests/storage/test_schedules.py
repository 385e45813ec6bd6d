"""Weekly schedules: when they are due, and moving them on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage import Database
from storage.records import RefreshProgress, RunOutcome, RunStatus, RunTrigger
from tests.storage.conftest import link

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


async def test_a_schedule_whose_time_has_come_is_due(db: Database) -> None:
    """A schedule with next_run in the past is listed by due(now); one in the future is not."""
    await link(db, 1)
    await link(db, 2)
    await db.schedules.set(1, 1, 9, "UTC", NOW - timedelta(days=21))
    await db.schedules.set(2, 1, 9, "UTC", NOW + timedelta(hours=1))
    assert [s.discord_id for s in await db.schedules.due(NOW)] == [1]


async def test_claiming_a_schedule_moves_it_to_its_next_time(db: Database) -> None:
    """After a claim the schedule is not due until its next run."""
    await link(db, 1)
    due = await db.schedules.set(1, 1, 9, "UTC", NOW - timedelta(days=21))
    assert due.next_run is not None
    assert await db.schedules.claim(1, due.next_run, NOW, NOW + timedelta(days=7))
    assert await db.schedules.due(NOW) == []
    assert [s.discord_id for s in await db.schedules.due(NOW + timedelta(days=7))] == [1]


async def test_a_disabled_schedule_is_never_due(db: Database) -> None:
    """disable() keeps the row but due() ignores it."""
    await link(db, 1)
    await db.schedules.set(1, 1, 9, "UTC", NOW - timedelta(days=1))
    await db.schedules.disable(1)
    assert await db.schedules.due(NOW + timedelta(days=30)) == []
    schedule = await db.schedules.get(1)
    assert schedule is not None and not schedule.enabled


async def test_moving_a_schedule_keeps_when_it_last_ran(db: Database) -> None:
    """set() on an existing schedule changes day, hour and zone but not last_run."""
    await link(db, 1)
    await db.schedules.set(1, 1, 9, "UTC", NOW)
    assert await db.schedules.claim(1, NOW, NOW, NOW + timedelta(days=7))
    moved = await db.schedules.set(1, 4, 18, "Europe/Paris", NOW + timedelta(days=3))
    assert (moved.weekday, moved.hour, moved.timezone, moved.last_run) == (4, 18, "Europe/Paris", NOW)


async def test_a_due_schedule_is_claimed_once_by_concurrent_ticks(db: Database) -> None:
    """Two ticks claiming the same due schedule: exactly one gets it."""
    await link(db, 1)
    due = await db.schedules.set(1, 1, 9, "UTC", NOW - timedelta(hours=1))
    assert due.next_run is not None
    claims = await asyncio.gather(
        db.schedules.claim(1, due.next_run, NOW, NOW + timedelta(days=7)),
        db.schedules.claim(1, due.next_run, NOW, NOW + timedelta(days=7)),
    )
    assert sorted(claims) == [False, True]


async def test_a_schedule_moved_since_it_was_seen_due_is_not_claimed(db: Database) -> None:
    """A claim names the run time it saw; if the member changed the schedule since, the claim fails."""
    await link(db, 1)
    seen = await db.schedules.set(1, 1, 9, "UTC", NOW - timedelta(hours=1))
    await db.schedules.set(1, 3, 9, "UTC", NOW + timedelta(days=2))
    assert seen.next_run is not None
    assert not await db.schedules.claim(1, seen.next_run, NOW, NOW + timedelta(days=7))


async def test_a_weekly_run_left_running_by_a_dead_process_makes_its_schedule_due_again(db: Database) -> None:
    """At start-up the schedule of a cut-off weekly run is due again, and that of one sorted but not
    yet told (its DMs not queued); other schedules are not."""
    for member in (1, 2, 3, 4, 5):
        await link(db, member)
        due = await db.schedules.set(member, 1, 9, "UTC", NOW - timedelta(hours=1))
        assert due.next_run is not None
        assert await db.schedules.claim(member, due.next_run, NOW, NOW + timedelta(days=7))
    await db.runs.start(1, RunTrigger.SCHEDULE)  # cut off by the process's death
    await db.runs.start(2, RunTrigger.COMMAND)  # a /sort cut off: its schedule already ran
    await db.schedules.finished(2)
    await db.runs.start(3, RunTrigger.SCHEDULE)
    await db.schedules.disable(3)  # turned off since: stays off
    finished = await db.runs.start(4, RunTrigger.SCHEDULE)
    await db.runs.finish(finished, RunOutcome.failed("Spotify isn't answering"))
    await db.schedules.finished(4)  # its failure ended the refresh
    sorted_untold = await db.runs.start(5, RunTrigger.SCHEDULE)
    await db.runs.finish(sorted_untold, RunOutcome(RunStatus.SUCCEEDED))  # the process died before its DMs were queued
    assert await db.recover_interrupted_runs() == (2, 3)
    assert [s.discord_id for s in await db.schedules.due(NOW)] == [1, 5]
    assert [r.status for r in await db.runs.recent(1)] == [RunStatus.FAILED]
    assert await db.recover_interrupted_runs() == (0, 0), "due again once, not at every start"


async def test_a_claimed_run_given_back_is_due_again_unless_the_member_changed_the_schedule(db: Database) -> None:
    """unclaim restores a claimed run; after /schedule off or a move it changes nothing."""
    for member in (1, 2, 3):
        await link(db, member)
        due = await db.schedules.set(member, 1, 9, "UTC", NOW - timedelta(hours=1))
        assert due.next_run is not None
        assert await db.schedules.claim(member, due.next_run, NOW, NOW + timedelta(days=7))
    await db.schedules.disable(2)
    moved = await db.schedules.set(3, 4, 18, "UTC", NOW + timedelta(days=3))
    given_back = [await db.schedules.unclaim(m, NOW + timedelta(days=7), NOW - timedelta(hours=1)) for m in (1, 2, 3)]
    assert given_back == [True, False, False]
    assert [s.discord_id for s in await db.schedules.due(NOW)] == [1]
    assert await db.schedules.get(3) == moved


async def test_what_an_unfinished_refresh_did_adds_up_per_source_until_cleared(db: Database) -> None:
    """Each try's new songs and made (or emptied) playlists join the earlier tries' for that source;
    clearing forgets them, and so do turning the schedule off and unlinking."""
    await link(db, 1)
    await db.schedules.add_progress(1, "liked", ["a", "b"], ["p1"], ["p9"])
    await db.schedules.add_progress(1, "liked", ["b", "c"], [], ["p8"])
    await db.schedules.add_progress(1, "playlist:x", ["d"], [])
    assert await db.schedules.progress(1) == {
        "liked": RefreshProgress(frozenset({"a", "b", "c"}), frozenset({"p1"}), frozenset({"p8", "p9"})),
        "playlist:x": RefreshProgress(frozenset({"d"})),
    }
    await db.schedules.clear_progress(1)
    assert await db.schedules.progress(1) == {}
    await db.schedules.set(1, 1, 9, "UTC", NOW)
    await db.schedules.add_progress(1, "liked", ["a"], [])
    await db.schedules.disable(1)
    assert await db.schedules.progress(1) == {}
    await db.schedules.add_progress(1, "liked", ["a"], [])
    await db.unlink_member(1)
    assert await db.schedules.progress(1) == {}
