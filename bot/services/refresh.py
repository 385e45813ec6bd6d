"""Weekly refreshes: schedules, the member's saved sort choices, and the summary they get.

A member's schedule lives in storage; `due()` finds the refreshes whose time has come (one per
member however many weeks were missed while the bot was down), `refresh()` runs an incremental
sort with the member's last choices and moves the schedule to the next week.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast, get_args

from bot.services.playlist_plan import Level, SortOptions, genre_label
from bot.services.sorting import SortReport, SortService
from bot.services.weekly import next_weekly_run, parse_timezone
from storage import Database
from storage.records import RunTrigger, Schedule, SortPreferences

log = logging.getLogger(__name__)


class RefreshService:
    def __init__(
        self, db: Database, sorter: SortService, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.db = db
        self.sorter = sorter
        self.clock = clock

    async def set_schedule(self, discord_id: int, weekday: int, hour: int, timezone: str) -> Schedule:
        parse_timezone(timezone)
        next_run = next_weekly_run(weekday, hour, timezone, self.clock())
        return await self.db.schedules.set(discord_id, weekday, hour, timezone, next_run)

    async def disable(self, discord_id: int) -> bool:
        schedule = await self.db.schedules.get(discord_id)
        if schedule is None or not schedule.enabled:
            return False
        await self.db.schedules.disable(discord_id)
        return True

    async def schedule(self, discord_id: int) -> Schedule | None:
        return await self.db.schedules.get(discord_id)

    async def due(self) -> list[Schedule]:
        return await self.db.schedules.due(self.clock())

    async def remember_options(self, discord_id: int, options: SortOptions) -> None:
        """The weekly refresh repeats the member's last real sort, minus dry_run."""
        if not options.dry_run:
            await self.db.sort_preferences.save(
                discord_id,
                SortPreferences(
                    genres=options.genres,
                    level=options.level,
                    min_confidence=options.min_confidence,
                    min_playlist_size=options.min_playlist_size,
                    multi=options.multi,
                ),
            )

    async def saved_options(self, discord_id: int) -> SortOptions:
        saved = await self.db.sort_preferences.get(discord_id)
        if saved is None:
            return SortOptions()
        try:
            if saved.level not in get_args(Level):
                raise ValueError(f"unknown level {saved.level!r}")
            return SortOptions(
                genres=saved.genres,
                level=cast(Level, saved.level),
                min_confidence=saved.min_confidence,
                min_playlist_size=saved.min_playlist_size,
                multi=saved.multi,
            )
        except ValueError:
            log.warning("saved sort options for member %s are unusable; using defaults", discord_id)
            return SortOptions()

    async def refresh(self, schedule: Schedule) -> SortReport:
        """Run one member's weekly refresh and move their schedule on, even if it fails."""
        now = self.clock()
        next_run = next_weekly_run(schedule.weekday, schedule.hour, schedule.timezone, now)
        await self.db.schedules.mark_ran(schedule.discord_id, now, next_run)
        options = await self.saved_options(schedule.discord_id)
        return await self.sorter.sort(
            schedule.discord_id, options, trigger=RunTrigger.SCHEDULE, incremental=True
        )


def weekly_summary(report: SortReport) -> str:
    """'14 new songs: +6 Rock, +8 Latin' (or a quiet-week line)."""
    if report.new_songs == 0:
        return f"No new liked songs this week; your {len(report.playlists)} playlists are up to date."
    parts = [
        f"+{o.new_count} {genre_label(o.key)}"
        for o in sorted(report.playlists, key=lambda o: (-o.new_count, o.key))
        if o.new_count
    ]
    noun = "song" if report.new_songs == 1 else "songs"
    line = f"{report.new_songs} new {noun}"
    return f"{line}: {', '.join(parts)}" if parts else f"{line}, none confident enough to sort"
