"""The weekly refresh loop: APScheduler ticks, due members are refreshed and DMed a summary.

Schedules live in storage, not in APScheduler's job store, so they survive restarts: a tick
every minute picks the members whose refresh time has passed. A refresh missed while the bot
was down runs once at the first tick after start-up (storage moves `next_run` a week on), and a
crowd of due members is spread out by a small concurrency cap and a jittered start.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import presenters
from bot.cogs.errors import friendly_message
from storage.records import Schedule

if TYPE_CHECKING:
    from bot.app import GenreBot

log = logging.getLogger(__name__)

TICK_SECONDS = 60
FIRST_TICK_DELAY_S = 15
REFRESH_CONCURRENCY = 2
MAX_JITTER_S = 20.0


class WeeklyRefreshScheduler:
    def __init__(self, bot: GenreBot, *, jitter_s: float = MAX_JITTER_S) -> None:
        self.bot = bot
        self.jitter_s = jitter_s
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._slots = asyncio.Semaphore(REFRESH_CONCURRENCY)

    def start(self) -> None:
        from datetime import UTC, datetime, timedelta

        self.scheduler.add_job(
            self.run_due,
            "interval",
            seconds=TICK_SECONDS,
            id="weekly-refresh-tick",
            next_run_time=datetime.now(UTC) + timedelta(seconds=FIRST_TICK_DELAY_S),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=TICK_SECONDS * 5,
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def run_due(self) -> int:
        """Refresh every member whose time has come; returns how many were started."""
        due = await self.bot.services.refresher.due()
        await asyncio.gather(*(self._refresh_one(schedule) for schedule in due))
        return len(due)

    async def _refresh_one(self, schedule: Schedule) -> None:
        if self.jitter_s:
            await asyncio.sleep(random.uniform(0, self.jitter_s))
        async with self._slots:
            runtime = self.bot.services
            try:
                report = await runtime.refresher.refresh(schedule)
            except Exception as error:
                message = friendly_message(error)
                if message is None:
                    log.exception("weekly refresh for member %s failed", schedule.discord_id)
                    message = "Your weekly refresh failed on my side; I'll try again next week."
                await self._dm(schedule.discord_id, None, f"Weekly refresh: {message}")
                return
            await self._dm(schedule.discord_id, report.run_id, None, report)

    async def _dm(self, discord_id: int, run_id: int | None, text: str | None, report: object = None) -> None:
        from bot.services.sorting import SortReport

        runtime = self.bot.services
        try:
            user = self.bot.get_user(discord_id) or await self.bot.fetch_user(discord_id)
            if isinstance(report, SortReport):
                await user.send(
                    embed=presenters.weekly_embed(report),
                    file=presenters.chart_file(report.chart_png),
                )
            else:
                await user.send(text or "")
            status = "sent"
        except discord.Forbidden:
            status = "closed"
            log.info("member %s has closed DMs; weekly summary recorded only", discord_id)
        except discord.HTTPException:
            status = "failed"
            log.warning("could not DM member %s their weekly summary", discord_id)
        if run_id is not None:
            await runtime.db.runs.set_dm_status(run_id, status)
