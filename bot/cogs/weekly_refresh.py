"""/schedule set|remove|off|status, and the tick that runs due weekly refreshes and DMs each member
a summary of each source it sorted.

`/schedule set ... source:` adds a source (Liked Songs, or one of the member's playlists) to
what the refresh sorts; `/schedule remove source:` takes one off; `/schedule status` lists them.

Schedules live in storage, not in APScheduler's job store, so they survive restarts: a tick
every minute asks the weekly refresh service who is due. A refresh missed while the bot was down,
or cut off by its stop, runs once at the first tick after start-up (the service moves `next_run` a
week on). Each member's refresh is a task of its own that the tick starts and does not wait for,
so one whose Spotify hangs holds back neither the other members nor the next tick; a crowd of due
members is spread out by a small concurrency cap and a jittered start (a hung Spotify request
gives up after the client's timeout and a few tries, so a stuck member holds a slot for about a
minute, then its refresh is deferred). Each refresh's DMs are queued in storage as it ends and sent
from there (`bot.services.weekly_refresh_dms`): a bot stopped before sending them sends them at
its first tick. Besides the summaries, a member is DMed the sources that could not be sorted, where a
refresh stopped, or why it failed (with an error id the log has, as `on_error` gives, when the
failure is genrebot's; the failed run keeps it, and the log line names the run); each DM's outcome is recorded on the runs it tells of, for /status. A
refresh deferred through a Spotify outage sends nothing until a try finishes. The cog owns its
scheduler: started when the cog loads, shut down when it unloads (the bot unloads cogs on close).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import secrets
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord import app_commands
from discord.ext import commands

from bot import presenters
from bot.choices import chosen_source_choices, source_choices, timezone_choices, timezone_index
from bot.replies import send_dm
from bot.services.sorting.service import log_bug
from bot.services.weekly_refresh import RefreshDeferred, RefreshPostponed, WeeklyRefreshReport
from bot.services.weekly_schedule import WEEKDAYS, parse_weekday
from bot.spotify.errors import SpotifyQuotaExceeded
from storage.records import RefreshDm, Schedule

if TYPE_CHECKING:
    from bot.discord_bot import GenreBot

log = logging.getLogger(__name__)

WEEKDAY_CHOICES = [app_commands.Choice(name=day.title(), value=day) for day in WEEKDAYS]
TICK_SECONDS = 60
FIRST_TICK_DELAY_S = 15
REFRESH_CONCURRENCY = 2
MAX_JITTER_S = 20.0


class WeeklyRefresh(commands.GroupCog, group_name="schedule", group_description="Your weekly playlist refresh"):
    def __init__(self, bot: GenreBot) -> None:
        self.bot = bot
        self.jitter_s = MAX_JITTER_S
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._slots = asyncio.Semaphore(REFRESH_CONCURRENCY)
        self._busy: dict[int, asyncio.Task[None]] = {}  # member -> their refresh (or DMs) the ticks started
        self._unloaded = False  # a tick still under way then starts nothing more
        super().__init__()

    async def cog_load(self) -> None:
        await asyncio.to_thread(timezone_index)  # reads tzdata's directory once, off the event loop
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

    async def cog_unload(self) -> None:
        self._unloaded = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in list(self._busy.values()):
            task.cancel()  # a refresh gives its run back (`WeeklyRefreshService.refresh`); queued DMs stay queued
        await asyncio.gather(*self._busy.values(), return_exceptions=True)

    @app_commands.command(name="set", description="Refresh your playlists every week at this time")
    @app_commands.describe(
        weekday="Day of the week",
        hour="Hour of the day (0-23)",
        timezone="e.g. Europe/Berlin",
        source="Also refresh the playlists made from this source (default: Liked Songs)",
    )
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    async def set_(
        self,
        interaction: discord.Interaction,
        weekday: app_commands.Choice[str],
        hour: app_commands.Range[int, 0, 23],
        timezone: str,
        source: str | None = None,
    ) -> None:
        services = self.bot.services
        await interaction.response.defer(ephemeral=True, thinking=True)  # before the writes (and Spotify) below
        chosen = await services.sources.resolve(interaction.user.id, source) if source else None
        schedule = await services.weekly_refresh.set_schedule(
            interaction.user.id, parse_weekday(weekday.value), int(hour), timezone
        )
        if chosen is not None:
            sources = await services.weekly_refresh.add_source(interaction.user.id, chosen)
        else:
            sources = await services.weekly_refresh.sources(interaction.user.id)
        await interaction.edit_original_response(
            content=f"Weekly refresh on: {presenters.schedule_text(schedule, sources)}. I'll DM you a summary."
        )

    @set_.autocomplete("source")
    async def set_source_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await source_choices(self.bot.services.sources, interaction.user.id, current)

    @app_commands.command(name="remove", description="Stop refreshing the playlists made from one source")
    @app_commands.describe(source="A source your weekly refresh sorts")
    async def remove(self, interaction: discord.Interaction, source: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # before the write below
        sources = await self.bot.services.weekly_refresh.remove_source(interaction.user.id, source)
        await interaction.edit_original_response(
            content=f"Your weekly refresh now sorts {presenters.sources_text(sources)}."
        )

    @remove.autocomplete("source")
    async def remove_source_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return chosen_source_choices(await self.bot.services.weekly_refresh.sources(interaction.user.id), current)

    @set_.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return timezone_choices(current)

    @app_commands.command(name="off", description="Stop the weekly refresh")
    async def off(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # before the write below
        stopped = await self.bot.services.weekly_refresh.disable(interaction.user.id)
        text = "Weekly refresh is off." if stopped else "You had no weekly refresh on."
        await interaction.edit_original_response(content=text)

    @app_commands.command(name="status", description="When your next weekly refresh runs, and what it sorts")
    async def status(self, interaction: discord.Interaction) -> None:
        weekly_refresh = self.bot.services.weekly_refresh
        schedule = await weekly_refresh.schedule(interaction.user.id)
        sources = await weekly_refresh.sources(interaction.user.id)
        await interaction.response.send_message(presenters.schedule_text(schedule, sources), ephemeral=True)

    async def run_due(self) -> int:
        """The tick: start the refresh of every member whose time has come and who has none running,
        and the sending of DMs a stopped bot or a lost answer left queued; returns how many
        refreshes it started. It does not wait for them: a member whose Spotify hangs holds up
        neither this tick nor the next, only their own refresh (and one of REFRESH_CONCURRENCY slots)."""
        weekly_refresh = self.bot.services.weekly_refresh
        for discord_id in await weekly_refresh.dms.members_waiting():
            if discord_id not in self._busy:
                self._start(discord_id, weekly_refresh.dms.deliver(discord_id, self._send_dm))
        started = 0
        for schedule in await weekly_refresh.due():
            if schedule.discord_id not in self._busy and self._start(schedule.discord_id, self._refresh_one(schedule)):
                started += 1
        return started

    async def settled(self) -> None:
        """Returns once what the ticks started (refreshes, DMs) has ended."""
        while self._busy:
            await asyncio.gather(*self._busy.values(), return_exceptions=True)

    def _start(self, discord_id: int, work: Coroutine[Any, Any, None]) -> bool:
        """Run `work` as the member's task; False (and not run) once the cog is unloaded."""
        if self._unloaded:  # the tick outlived the cog (APScheduler's shutdown does not wait for it)
            work.close()
            return False
        task = asyncio.create_task(work, name=f"weekly-refresh-{discord_id}")
        self._busy[discord_id] = task
        task.add_done_callback(lambda done: self._ended(discord_id, done))
        return True

    def _ended(self, discord_id: int, task: asyncio.Task[None]) -> None:
        if self._busy.get(discord_id) is task:
            del self._busy[discord_id]
        if not task.cancelled() and (error := task.exception()) is not None:
            log_bug(error, discord_id, "weekly refresh broke off")

    async def _refresh_one(self, schedule: Schedule) -> None:
        if self.jitter_s:
            await asyncio.sleep(random.uniform(0, self.jitter_s))
        weekly_refresh = self.bot.services.weekly_refresh
        async with self._slots:
            runs_before = await weekly_refresh.latest_run(schedule.discord_id)
            bug_id = secrets.token_hex(4)  # given to the member if a bug stops or fails the refresh
            try:
                refreshed = await weekly_refresh.refresh(schedule, functools.partial(self._dms_of, bug_id=bug_id),
                                                         functools.partial(self._failure_dms, bug_id=bug_id))
            except RefreshPostponed:
                log.info("weekly refresh of member %s waits for their running sort", schedule.discord_id)
                return
            except RefreshDeferred as deferred:
                log.warning("weekly refresh of member %s met %s; tried again at %s",
                            schedule.discord_id, type(deferred.error).__name__, deferred.retry_at.isoformat())
                return
            except SpotifyQuotaExceeded:
                return  # paused, not failed: it runs at the first tick after the quota pause, then DMs
            except Exception as error:  # failed: the DM saying why (`_failure_dms`) was queued with its end
                if presenters.error_message(error) is None:  # a bug: logged under the id the DM gave
                    failed_run = await weekly_refresh.failed_run_since(schedule.discord_id, runs_before)
                    await self.bot.services.sorting.logged_bug(
                        error, schedule.discord_id, "weekly refresh failed", failed_run, error_id=bug_id)
            else:
                if refreshed is None:  # another tick claimed this refresh
                    return
                if (stopped := refreshed.stopped) is not None and presenters.error_message(stopped.error) is None:
                    await self.bot.services.sorting.logged_bug(
                        stopped.error, schedule.discord_id, "weekly refresh stopped", stopped.run_id, error_id=bug_id)
        await weekly_refresh.dms.deliver(schedule.discord_id, self._send_dm)

    @staticmethod
    def _dms_of(discord_id: int, refreshed: WeeklyRefreshReport, *, bug_id: str) -> list[RefreshDm]:
        """A finished refresh's DMs: one summary per source, each with its chart; the sources it
        could not sort; where it stopped (a bug with `bug_id`, which the log gives its traceback under)."""
        dms = [
            RefreshDm(discord_id, (report.run_id,), embed=dict(presenters.weekly_embed(report).to_dict()),
                      attachment_name=presenters.CHART_NAME if report.chart_png is not None else None,
                      attachment=report.chart_png)
            for report in refreshed.reports
        ]
        if refreshed.failures:
            dms.append(RefreshDm(discord_id, _runs(*(f.run_id for f in refreshed.failures)),
                                 content=presenters.refresh_failures_text(refreshed.failures)))
        if (stopped := refreshed.stopped) is not None:
            stopped_id = bug_id if presenters.error_message(stopped.error) is None else None
            text = presenters.refresh_stopped_text(stopped, stopped_id, after_summaries=bool(refreshed.reports))
            dms.append(RefreshDm(discord_id, _runs(stopped.run_id), content=text))
        return dms

    @staticmethod
    def _failure_dms(discord_id: int, error: Exception, failed_run: int | None, *, bug_id: str) -> list[RefreshDm]:
        """The DM saying why a refresh failed (for a bug, with `bug_id`, which `_refresh_one` then logs
        its traceback under and keeps on the failed run); none for one deferred, postponed or paused,
        which is tried again."""
        if isinstance(error, RefreshPostponed | RefreshDeferred | SpotifyQuotaExceeded):
            return []
        message = presenters.error_message(error)
        if message is None:
            message = presenters.refresh_failed_message(bug_id)
        return [RefreshDm(discord_id, _runs(failed_run), content=f"Weekly refresh: {message}")]

    async def _send_dm(self, dm: RefreshDm, nonce: str) -> str:
        """One queued DM, under its nonce: 'sent', 'closed', 'left', 'failed' or 'unanswered'."""
        known_guilds = await self.bot.services.stats.member_guilds(dm.discord_id)
        message: dict[str, Any] = {"content": dm.content}
        if dm.embed is not None:
            message["embed"] = discord.Embed.from_dict(dm.embed)
        if dm.attachment is not None:
            message["file"] = presenters.chart_file(dm.attachment, dm.attachment_name or "attachment.png")
        return await send_dm(self.bot, dm.discord_id, known_guild_ids=known_guilds, nonce=nonce, **message)


def _runs(*run_ids: int | None) -> tuple[int, ...]:
    return tuple(run_id for run_id in run_ids if run_id is not None)


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(WeeklyRefresh(bot))
