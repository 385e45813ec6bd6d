"""Run history: start, outcome, DM status, and runs a restart interrupted."""

from __future__ import annotations

from storage import Database
from storage.records import RunOutcome, RunStatus, RunTrigger


async def test_a_started_run_is_running_until_it_finishes(db: Database) -> None:
    """start() records a run in status 'running' with its trigger."""
    run_id = await db.runs.start(1, RunTrigger.SCHEDULE)
    run = await db.runs.get(run_id)
    assert run is not None and (run.status, run.trigger, run.finished_at) == (
        RunStatus.RUNNING, RunTrigger.SCHEDULE, None
    )


async def test_a_finished_run_records_its_outcome(db: Database) -> None:
    """finish() stores status, counts, new songs and unsorted from the outcome, and a finish time."""
    run_id = await db.runs.start(1, RunTrigger.COMMAND)
    await db.runs.finish(
        run_id, RunOutcome(RunStatus.SUCCEEDED, counts={"rock": 9}, new_songs=3, new_counts={"rock": 3}, unsorted=2)
    )
    run = await db.runs.get(run_id)
    assert run is not None and run.finished_at is not None
    assert (run.status, dict(run.counts), run.new_songs, dict(run.new_counts), run.unsorted, run.error) == (
        RunStatus.SUCCEEDED, {"rock": 9}, 3, {"rock": 3}, 2, None
    )


async def test_a_failed_outcome_keeps_its_error_and_no_counts(db: Database) -> None:
    """RunOutcome.failed records the error with empty counts."""
    run_id = await db.runs.start(1, RunTrigger.COMMAND)
    await db.runs.finish(run_id, RunOutcome.failed("SpotifyUnavailable: try later"))
    run = await db.runs.get(run_id)
    assert run is not None
    assert (run.status, run.error, dict(run.counts), run.new_songs) == (
        RunStatus.FAILED, "SpotifyUnavailable: try later", {}, 0
    )


async def test_a_failed_run_keeps_the_error_id_its_traceback_was_logged_under(db: Database) -> None:
    """set_error_id records the id a bug's traceback has in the log; other runs have none."""
    run_id = await db.runs.start(1, RunTrigger.COMMAND)
    other = await db.runs.start(1, RunTrigger.COMMAND)
    await db.runs.finish(run_id, RunOutcome.failed("KeyError"))
    await db.runs.set_error_id(run_id, "0badf00d")
    run, untouched = await db.runs.get(run_id), await db.runs.get(other)
    assert run is not None and untouched is not None
    assert (run.error, run.error_id, untouched.error_id) == ("KeyError", "0badf00d", None)


async def test_a_paused_outcome_is_recorded_as_paused(db: Database) -> None:
    """RunOutcome.paused records status 'paused' with the reason."""
    run_id = await db.runs.start(1, RunTrigger.SCHEDULE)
    await db.runs.finish(run_id, RunOutcome.paused("SpotifyQuotaExceeded: daily quota"))
    run = await db.runs.get(run_id)
    assert run is not None and (run.status, run.error) == (RunStatus.PAUSED, "SpotifyQuotaExceeded: daily quota")


async def test_the_dm_status_of_a_run_is_kept(db: Database) -> None:
    """set_dm_status records whether the weekly summary reached the member."""
    run_id = await db.runs.start(1, RunTrigger.SCHEDULE)
    await db.runs.set_dm_status(run_id, "closed")
    run = await db.runs.get(run_id)
    assert run is not None and run.dm_status == "closed"


async def test_recent_runs_are_the_members_newest_first(db: Database) -> None:
    """recent() lists one member's runs, newest first, up to the limit."""
    ids = [await db.runs.start(1, RunTrigger.COMMAND) for _ in range(4)]
    await db.runs.start(2, RunTrigger.COMMAND)
    assert [r.id for r in await db.runs.recent(1, limit=3)] == ids[::-1][:3]


async def test_runs_left_running_are_marked_failed_at_start_up(db: Database) -> None:
    """fail_interrupted marks every 'running' run failed with a reason and counts them."""
    run_id = await db.runs.start(1, RunTrigger.SCHEDULE)
    done = await db.runs.start(1, RunTrigger.COMMAND)
    await db.runs.finish(done, RunOutcome(RunStatus.SUCCEEDED))
    assert await db.runs.fail_interrupted() == 1
    run = await db.runs.get(run_id)
    assert run is not None and run.status == RunStatus.FAILED and run.error == "interrupted by a restart"


async def test_a_members_recent_runs_show_a_retried_refresh_once(db: Database) -> None:
    """recent_for_member lists the newest deferred try of a refresh still being retried, no older
    try, and none once a later weekly run came; recent() keeps every try."""
    sorted_by_hand = await db.runs.start(1, RunTrigger.COMMAND)
    await db.runs.finish(sorted_by_hand, RunOutcome(RunStatus.SUCCEEDED))
    tries = []
    for _ in range(3):
        before = await db.runs.latest_id(1, RunTrigger.SCHEDULE)
        sorted_first = await db.runs.start(1, RunTrigger.SCHEDULE)
        await db.runs.finish(sorted_first, RunOutcome(RunStatus.SUCCEEDED, counts={"rock": 3}))
        tries.append(await db.runs.start(1, RunTrigger.SCHEDULE))
        await db.runs.finish(tries[-1], RunOutcome.failed("SpotifyUnavailable: 503"))
        assert await db.runs.defer(1, before, "tried again at 2026-03-01 12:30 UTC") == 2
    assert [r.id for r in await db.runs.recent_for_member(1)] == [tries[-1], sorted_by_hand]
    retried, first = await db.runs.get(tries[-1]), await db.runs.get(tries[-1] - 1)
    assert retried is not None and (retried.status, retried.error) == (
        RunStatus.DEFERRED, "SpotifyUnavailable: 503; tried again at 2026-03-01 12:30 UTC"
    )
    assert first is not None and (first.status, first.error, dict(first.counts)) == (
        RunStatus.DEFERRED, "tried again at 2026-03-01 12:30 UTC", {"rock": 3}
    )
    done = await db.runs.start(1, RunTrigger.SCHEDULE)
    await db.runs.finish(done, RunOutcome(RunStatus.SUCCEEDED))
    assert [r.id for r in await db.runs.recent_for_member(1)] == [done, sorted_by_hand]
    assert len(await db.runs.recent(1, limit=10)) == 8
