"""The weekly refresh's outbox: DMs queued with the refresh's end, kept until their outcome is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Database
from storage.records import RefreshDm, RunOutcome, RunStatus, RunTrigger
from tests.storage.conftest import link

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


async def sorted_and_claimed(db: Database, member: int) -> int:
    """The member's weekly refresh claimed and its one sort recorded; returns the run's id."""
    await link(db, member)
    due = await db.schedules.set(member, 1, 9, "UTC", NOW - timedelta(hours=1))
    assert due.next_run is not None and await db.schedules.claim(member, due.next_run, NOW, NOW + timedelta(days=7))
    run_id = await db.runs.start(member, RunTrigger.SCHEDULE)
    await db.runs.finish(run_id, RunOutcome(RunStatus.SUCCEEDED))
    return run_id


async def test_a_finished_refresh_queues_its_dms_and_is_not_run_again_at_the_next_start(db: Database) -> None:
    """finish_refresh queues the DMs, in order and whole, forgets the progress and ends the refresh."""
    run_id = await sorted_and_claimed(db, 1)
    await db.schedules.add_progress(1, "liked", ["t1"], ["p1"])
    summary = RefreshDm(1, (run_id,), embed={"title": "Your weekly genrebot refresh"},
                        attachment_name="genre-mix.png", attachment=b"\x89PNG")
    await db.finish_refresh(1, [summary, RefreshDm(1, (run_id,), content="and one more")])

    queued = await db.refresh_dms.pending()
    assert [(dm.embed, dm.attachment, dm.content, dm.run_ids, dm.tried_at) for dm in queued] == [
        ({"title": "Your weekly genrebot refresh"}, b"\x89PNG", None, (run_id,), None),
        (None, None, "and one more", (run_id,), None),
    ]
    assert await db.schedules.progress(1) == {}
    assert await db.recover_interrupted_runs() == (0, 0), "told, so not sorted again"


async def test_a_dms_outcome_is_recorded_on_its_runs_as_it_leaves_the_outbox(db: Database) -> None:
    """record_refresh_dm sets the runs' DM status and removes the DM; a try's first time is kept."""
    run_id = await sorted_and_claimed(db, 1)
    await db.finish_refresh(1, [RefreshDm(1, (run_id,), content="summary")])
    [dm] = await db.refresh_dms.pending(1)
    await db.refresh_dms.mark_tried(dm.id, NOW)
    await db.refresh_dms.mark_tried(dm.id, NOW + timedelta(minutes=1))
    [tried] = await db.refresh_dms.pending(1)
    assert tried.tried_at == NOW, "the window runs from the first try"
    await db.record_refresh_dm(tried, "closed")
    assert await db.refresh_dms.pending() == []
    run = await db.runs.get(run_id)
    assert run is not None and run.dm_status == "closed"


async def test_unlinking_forgets_the_dms_not_yet_sent(db: Database) -> None:
    """A member who unlinks is not DMed about a refresh later (their run history is gone too)."""
    run_id = await sorted_and_claimed(db, 1)
    await db.finish_refresh(1, [RefreshDm(1, (run_id,), content="summary")])
    await db.unlink_member(1)
    assert await db.refresh_dms.pending() == []
