"""Members' weekly refresh schedules, which of them are due, and what an unfinished refresh did."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from datetime import datetime

from storage.records import LinkStatus, RefreshProgress, RunStatus, RunTrigger, Schedule
from storage.sql import SqlHandle, to_optional_datetime

_COLUMNS = "discord_id, enabled, weekday, hour, timezone, last_run, next_run, retrying_since"


class ScheduleRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def set(self, discord_id: int, weekday: int, hour: int, timezone: str, next_run: datetime) -> Schedule:
        """Enable (or move) the member's schedule; the last run is kept."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                f"""INSERT INTO schedules ({_COLUMNS}) VALUES (?, 1, ?, ?, ?, NULL, ?, NULL)
                    ON CONFLICT (discord_id) DO UPDATE SET enabled = 1, unfinished = 0, weekday = excluded.weekday,
                      hour = excluded.hour, timezone = excluded.timezone, next_run = excluded.next_run""",  # noqa: S608
                (discord_id, weekday, hour, timezone, next_run.timestamp()),
            )
            row = await tx.fetchone(f"SELECT {_COLUMNS} FROM schedules WHERE discord_id = ?", (discord_id,))  # noqa: S608
        assert row is not None  # just written in this transaction
        return _schedule(row)

    async def disable(self, discord_id: int) -> None:
        """Turn the schedule off; what an unfinished refresh did goes with it (no try will finish it)."""
        async with self.sql.transaction() as tx:
            await tx.execute("UPDATE schedules SET enabled = 0, unfinished = 0 WHERE discord_id = ?", (discord_id,))
            await tx.execute("DELETE FROM refresh_progress WHERE discord_id = ?", (discord_id,))

    async def get(self, discord_id: int) -> Schedule | None:
        row = await self.sql.fetchone(f"SELECT {_COLUMNS} FROM schedules WHERE discord_id = ?", (discord_id,))  # noqa: S608
        return _schedule(row) if row else None

    async def due(self, now: datetime) -> list[Schedule]:
        """Enabled schedules whose next run is at or before `now`, earliest first; not those of
        members whose link needs renewing (told once, by the refresh that found it out): their
        run waits, and is due at once when they link again."""
        rows = await self.sql.fetchall(
            f"""SELECT {_COLUMNS} FROM schedules WHERE enabled = 1 AND next_run <= ? AND discord_id NOT IN (
                    SELECT discord_id FROM users WHERE status = ?)
                ORDER BY next_run""",  # noqa: S608
            (now.timestamp(), LinkStatus.NEEDS_RELINK.value),
        )
        return [_schedule(row) for row in rows]

    async def claim(self, discord_id: int, due_at: datetime, ran_at: datetime, next_run: datetime) -> bool:
        """Take a due run: move the schedule on, if it still says `due_at`, and mark it unfinished
        (until `finished`). False if another tick (or a change of schedule) got there first, so
        each due run is started exactly once."""
        async with self.sql.transaction() as tx:
            claimed = await tx.execute(
                """UPDATE schedules SET last_run = ?, next_run = ?, unfinished = 1
                   WHERE discord_id = ? AND enabled = 1 AND next_run = ?""",
                (ran_at.timestamp(), next_run.timestamp(), discord_id, due_at.timestamp()),
            )
        return claimed == 1

    async def unclaim(
        self, discord_id: int, claimed_next_run: datetime, due_at: datetime, *, retrying_since: datetime | None = None,
    ) -> bool:
        """Give a claimed run back, due at `due_at`, if the schedule is as the claim left it: not
        if the member turned it off or moved it since (their choice stands), nor if the refresh
        ended already (`finished`: a stop that lands as its end commits). True if given back.
        A run given back to be retried keeps when its retries began (`retrying_since`)."""
        async with self.sql.transaction() as tx:
            given_back = await tx.execute(
                """UPDATE schedules SET next_run = ?, retrying_since = COALESCE(?, retrying_since)
                   WHERE discord_id = ? AND enabled = 1 AND unfinished = 1 AND next_run = ?""",
                (due_at.timestamp(), None if retrying_since is None else retrying_since.timestamp(),
                 discord_id, claimed_next_run.timestamp()),
            )
            await self.finished(discord_id)
        return given_back == 1

    async def finished(self, discord_id: int) -> None:
        """The claimed refresh ended (told, given back, or failed): a start-up does not run it again."""
        async with self.sql.transaction() as tx:
            await tx.execute("UPDATE schedules SET unfinished = 0 WHERE discord_id = ?", (discord_id,))

    async def rerun_interrupted(self) -> int:
        """Make due again each enabled schedule whose weekly run a dead process left 'running', or
        left unfinished (sorted, its DMs not yet queued): its claim moved it a week on, so the
        refresh runs once at the next tick instead of a week late (carrying what the cut-off try
        did, `add_progress`). Call it before those runs are marked failed; returns how many."""
        async with self.sql.transaction() as tx:
            return await tx.execute(
                """UPDATE schedules SET next_run = COALESCE(last_run, next_run), unfinished = 0
                   WHERE enabled = 1 AND (unfinished = 1 OR discord_id IN (
                       SELECT discord_id FROM runs WHERE status = ? AND trigger = ?))""",
                (RunStatus.RUNNING.value, RunTrigger.SCHEDULE.value),
            )

    async def add_progress(
        self, discord_id: int, source: str, new_ids: Collection[str], created_playlists: Collection[str],
        emptied_playlists: Collection[str] = (),
    ) -> None:
        """Add to what the unfinished weekly refresh did to `source` (kept until `clear_progress`)."""
        async with self.sql.transaction() as tx:
            row = await tx.fetchone(
                "SELECT new_ids, created, emptied FROM refresh_progress WHERE discord_id = ? AND source = ?",
                (discord_id, source),
            )
            kept = _progress(row) if row else RefreshProgress()
            await tx.execute(
                """INSERT INTO refresh_progress (discord_id, source, new_ids, created, emptied) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (discord_id, source) DO UPDATE SET new_ids = excluded.new_ids,
                     created = excluded.created, emptied = excluded.emptied""",
                (
                    discord_id,
                    source,
                    json.dumps(sorted(kept.new_ids | set(new_ids))),
                    json.dumps(sorted(kept.created_playlists | set(created_playlists))),
                    json.dumps(sorted(kept.emptied_playlists | set(emptied_playlists))),
                ),
            )

    async def progress(self, discord_id: int) -> dict[str, RefreshProgress]:
        """Per source key, what the member's unfinished weekly refresh did so far ({} if none)."""
        rows = await self.sql.fetchall(
            "SELECT source, new_ids, created, emptied FROM refresh_progress WHERE discord_id = ?", (discord_id,)
        )
        return {row["source"]: _progress(row) for row in rows}

    async def clear_progress(self, discord_id: int, *, keep: str | None = None) -> None:
        """The refresh finished (its summary carries what the earlier tries did): forget them,
        but for the source `keep` (one the summary could not tell about)."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                "DELETE FROM refresh_progress WHERE discord_id = ? AND source IS NOT ?", (discord_id, keep)
            )

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM schedules WHERE discord_id = ?", (discord_id,))
            await tx.execute("DELETE FROM refresh_progress WHERE discord_id = ?", (discord_id,))


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(
        discord_id=int(row["discord_id"]),
        enabled=bool(row["enabled"]),
        weekday=row["weekday"],
        hour=row["hour"],
        timezone=row["timezone"],
        last_run=to_optional_datetime(row["last_run"]),
        next_run=to_optional_datetime(row["next_run"]),
        retrying_since=to_optional_datetime(row["retrying_since"]),
    )


def _progress(row: sqlite3.Row) -> RefreshProgress:
    return RefreshProgress(
        frozenset(json.loads(row["new_ids"])), frozenset(json.loads(row["created"])), frozenset(json.loads(row["emptied"]))
    )
