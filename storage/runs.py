"""The history of sorts and refreshes: one row per run, from start to its outcome."""

from __future__ import annotations

import json
import sqlite3

from storage.records import Run, RunOutcome, RunStatus, RunTrigger
from storage.sql import SqlHandle, now, to_datetime, to_optional_datetime

_COLUMNS = (
    "id, discord_id, trigger, started_at, finished_at, status, counts, new_songs, new_counts, unsorted, error, dm_status, error_id"
)


class RunRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def start(self, discord_id: int, trigger: RunTrigger) -> int:
        """A new run in status 'running'; returns its id."""
        async with self.sql.transaction() as tx:
            return await tx.insert(
                "INSERT INTO runs (discord_id, trigger, started_at, status) VALUES (?, ?, ?, ?)",
                (discord_id, trigger.value, now(), RunStatus.RUNNING.value),
            )

    async def finish(self, run_id: int, outcome: RunOutcome) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute(
                """UPDATE runs SET finished_at = ?, status = ?, counts = ?, new_songs = ?, new_counts = ?,
                     unsorted = ?, error = ? WHERE id = ?""",
                (
                    now(),
                    outcome.status.value,
                    json.dumps(dict(outcome.counts)),
                    outcome.new_songs,
                    json.dumps(dict(outcome.new_counts)),
                    outcome.unsorted,
                    outcome.error,
                    run_id,
                ),
            )

    async def defer(self, discord_id: int, after_id: int, note: str) -> int:
        """The member's weekly runs after `after_id` were one try of a refresh that is tried again (a
        failed step, and the steps that sorted before it, whose songs the next try's summary
        tells): status 'deferred', `note` (when) after their error. Returns how many."""
        async with self.sql.transaction() as tx:
            return await tx.execute(
                """UPDATE runs SET status = ?, error = CASE WHEN error IS NULL THEN ? ELSE error || '; ' || ? END
                   WHERE discord_id = ? AND trigger = ? AND id > ? AND status IN (?, ?)""",
                (RunStatus.DEFERRED.value, note, note, discord_id, RunTrigger.SCHEDULE.value, after_id,
                 RunStatus.FAILED.value, RunStatus.SUCCEEDED.value),
            )

    async def latest_id(self, discord_id: int, trigger: RunTrigger) -> int:
        """The id of the member's newest run of `trigger`, 0 if none: the runs a step records after
        it are that step's."""
        row = await self.sql.fetchone(
            "SELECT COALESCE(MAX(id), 0) AS id FROM runs WHERE discord_id = ? AND trigger = ?",
            (discord_id, trigger.value),
        )
        return int(row["id"]) if row else 0

    async def set_error_id(self, run_id: int, error_id: str) -> None:
        """The id a bug that failed the run was logged under, beside its traceback: /status shows it on
        the run's line, so an operator finds the traceback from the member's run history."""
        async with self.sql.transaction() as tx:
            await tx.execute("UPDATE runs SET error_id = ? WHERE id = ?", (error_id, run_id))

    async def set_dm_status(self, run_id: int, status: str) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("UPDATE runs SET dm_status = ? WHERE id = ?", (status, run_id))

    async def get(self, run_id: int) -> Run | None:
        row = await self.sql.fetchone(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,))  # noqa: S608
        return _run(row) if row else None

    async def recent(self, discord_id: int, limit: int = 5) -> list[Run]:
        """The member's latest runs, newest first."""
        rows = await self.sql.fetchall(
            f"SELECT {_COLUMNS} FROM runs WHERE discord_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",  # noqa: S608
            (discord_id, limit),
        )
        return [_run(row) for row in rows]

    async def recent_for_member(self, discord_id: int, limit: int = 5) -> list[Run]:
        """The member's latest runs as /status lists them, newest first: a weekly refresh retried
        through an outage is one entry, its newest deferred try while it is still being retried (no
        weekly run came after it), none once a later try ran. `recent` keeps every try."""
        rows = await self.sql.fetchall(
            f"""SELECT {_COLUMNS} FROM runs WHERE discord_id = ? AND (status != ? OR id = (
                    SELECT MAX(id) FROM runs WHERE discord_id = ? AND trigger = ?))
                ORDER BY started_at DESC, id DESC LIMIT ?""",  # noqa: S608
            (discord_id, RunStatus.DEFERRED.value, discord_id, RunTrigger.SCHEDULE.value, limit),
        )
        return [_run(row) for row in rows]

    async def forget(self, discord_id: int) -> None:
        """Drop the member's run history (what each sort of their library counted)."""
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM runs WHERE discord_id = ?", (discord_id,))

    async def fail_interrupted(self, error: str = "interrupted by a restart") -> int:
        """At start-up no run can be in progress: mark leftovers failed, never 'running' forever."""
        async with self.sql.transaction() as tx:
            return await tx.execute(
                "UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE status = ?",
                (RunStatus.FAILED.value, now(), error, RunStatus.RUNNING.value),
            )


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        discord_id=row["discord_id"],
        trigger=RunTrigger(row["trigger"]),
        started_at=to_datetime(row["started_at"]),
        finished_at=to_optional_datetime(row["finished_at"]),
        status=RunStatus(row["status"]),
        counts=json.loads(row["counts"]),
        new_songs=row["new_songs"],
        new_counts=json.loads(row["new_counts"]),
        unsorted=row["unsorted"],
        error=row["error"],
        dm_status=row["dm_status"],
        error_id=row["error_id"],
    )
