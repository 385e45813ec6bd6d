"""The weekly refresh: a member's schedule, what it sorts, finding the due ones, and running them.

A member's schedule lives in storage; `due()` finds the refreshes whose time has come (one per
member however many weeks were missed while the bot was down), `refresh()` sorts each source the
member chose (Liked Songs unless they chose otherwise; incrementally where that helps) with their
last choices and moves the schedule on a week. A source that cannot be read (a playlist deleted,
or no longer theirs) is reported and the others still run; so is one the member deleted
(Spotify's "delete" only unfollows a playlist, and Spotify still serves it), each a failed run in
the member's history. Spotify down or slowing down defers the refresh (`RefreshDeferred`): it is
tried again every RETRY_DELAY for RETRY_WINDOW, each try's runs become 'deferred' (/status lists
the refresh once), and what a cut-off try did per source is kept in storage so the try that
finishes tells the whole week once. The retries count from the week's first try, not from the
weekly time: a refresh that starts late (the bot was down past its weekly time) is retried for
RETRY_WINDOW from when it started, as one on time is, but never into its next weekly time, where
the next week's refresh begins (`bot.services.weekly_retries`). A retry reads Liked Songs again, as every try must see what
changed, but incrementally (a request, since the first try stored the week's new songs); only a
full read (songs were un-liked) that the outage cut off is read whole again, as it must be to take
them out, since pages read by offset cannot be resumed safely in a list that moved. A failure for good after some sources were sorted (or found
unreadable) returns their reports with where it stopped (`RefreshStopped`); a step refused before
its sort began (a link found broken) is a run in the history all the same. When a refresh is next due, and what a
member may give as its weekday, hour and time zone, is `bot.services.weekly_schedule`.
The Discord side (the `/schedule` commands, the tick that finds due members, the DM) is
`bot.cogs.weekly_refresh`; the summary text is in `bot.presenters.sort_reports`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.services.errors import AlreadyRunning, LinkEnded, NotLinked
from bot.services.genre_names import parse_level
from bot.services.playlist_plan import SortOptions
from bot.services.sorting import SortReport, SortService
from bot.services.sorting.service import describe_failure
from bot.services.sources import LIKED_SONGS_NAMES, SourceService, playlist_id_in
from bot.services.weekly_refresh_dms import RefreshDmOutbox
from bot.services.weekly_retries import RETRY_DELAY, RetriesOver, RetryWindow
from bot.services.weekly_schedule import InvalidSchedule, next_weekly_run, parse_timezone, weekly_run_before
from bot.spotify.errors import (
    PlaylistNotFollowed,
    PlaylistNotFound,
    PlaylistNotReadable,
    PlaylistWriteFailed,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
)
from music import LIKED_SONGS, SortSource
from storage import Database
from storage.records import RefreshDm, RefreshProgress, RunOutcome, RunStatus, RunTrigger, Schedule

log = logging.getLogger(__name__)

MAX_REFRESH_SOURCES = 5  # each is a sort and a DM every week: a handful keeps both reasonable
# Failures of one source only: the refresh reports them and goes on with the member's other sources.
SOURCE_FAILURES = (PlaylistNotReadable, PlaylistNotFound, PlaylistNotFollowed)
# Spotify down or slowing the whole app down (a long Retry-After holds every call back), while
# reading or while writing a playlist (PlaylistWriteFailed, caused by one of these): not the
# member's fault, and gone in a while. The refresh is tried again RETRY_DELAY later (or once the
# Retry-After is over), quietly, for RETRY_WINDOW after its week's first try (`RetryWindow`); then it
# waits a week.
TRANSIENT_FAILURES = (SpotifyUnavailable, SpotifyRateLimited)


POSTPONED_REASON = "your own sort was running; retried at the next tick"


class RefreshPostponed(Exception):
    """The member's own sort is running; the refresh stays due and runs at a later tick."""


class RefreshDeferred(Exception):
    """Spotify failed for a while (`error`: one of TRANSIENT_FAILURES, or a PlaylistWriteFailed one of
    them caused): the refresh is due again at `retry_at` and nobody needs telling yet."""

    def __init__(self, error: Exception, retry_at: datetime) -> None:
        super().__init__(f"{type(error).__name__}; tried again at {retry_at.isoformat()}")
        self.error = error
        self.retry_at = retry_at


class _GaveUp(Exception):
    """A source's step met Spotify down or holding back and the refresh is not tried again (`retries`
    says why); `error` is what Spotify did."""

    def __init__(self, error: Exception, retries: RetriesOver) -> None:
        super().__init__(str(error))
        self.error = error
        self.retries = retries


@dataclass(frozen=True)
class SourceFailure:
    source: SortSource
    error: PlaylistNotReadable | PlaylistNotFound | PlaylistNotFollowed  # one of SOURCE_FAILURES
    run_id: int | None = None  # the failed run recording it, whose DM status the DM saying so sets


@dataclass(frozen=True)
class RefreshStopped:
    """The source at which a failure stopped the refresh for this week, after it sorted others or
    found some it could not read (they are news the member must not lose to the failure)."""

    source: SortSource
    error: Exception
    run_id: int | None = None  # the failed run recording it (none if it failed before its sort began)
    retries: RetriesOver | None = None  # for Spotify down or holding back: why it is not tried again


@dataclass
class WeeklyRefreshReport:
    """One weekly refresh: a report per source sorted, the sources that could not be read, and
    where a failure stopped it, if one did after some source was sorted or could not be read (`stopped`)."""

    reports: list[SortReport] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    stopped: RefreshStopped | None = None


# What a finished refresh tells the member: its DMs, queued with its end (`bot.services.weekly_refresh_dms`).
RenderDms = Callable[[int, WeeklyRefreshReport], Sequence[RefreshDm]]
# What a refresh that raised tells the member (none for a deferred or paused one): (member, the
# error, its failed run or None) -> its DMs, queued with its end too.
RenderFailure = Callable[[int, Exception, int | None], Sequence[RefreshDm]]


class WeeklyRefreshService:
    def __init__(
        self, db: Database, sorting: SortService, sources: SourceService, *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.sorting = sorting
        self.source_service = sources
        self.clock = clock
        self.dms = RefreshDmOutbox(db, clock)

    async def set_schedule(self, discord_id: int, weekday: int, hour: int, timezone: str) -> Schedule:
        """Turn the member's weekly refresh on (or move it); NotLinked / NeedsRelink for a member
        without a working link, whose refresh could never run."""
        await self.sorting.linking.linked_user(discord_id)
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
        """Schedules whose time has come; none while Spotify's quota pause lasts (they wait for it)."""
        if self.sorting.spotify_paused_until() is not None:
            return []
        return await self.db.schedules.due(self.clock())

    async def saved_options(self, discord_id: int) -> SortOptions:
        """The options of the member's last real /sort (`SortService.sort` saves them), or the defaults."""
        saved = await self.db.sort_preferences.get(discord_id)
        if saved is None:
            return SortOptions()
        try:
            return SortOptions(  # saved genre keys of an older model are read through the taxonomy's aliases
                genres=saved.genres,
                level=parse_level(saved.level),
                min_confidence=saved.min_confidence,
                min_playlist_size=saved.min_playlist_size,
                multi=saved.multi,
            )
        except ValueError:
            log.warning("saved sort options for member %s are unusable; using defaults", discord_id)
            return SortOptions()

    async def sources(self, discord_id: int) -> list[SortSource]:
        """What the member's weekly refresh sorts, in order: Liked Songs unless they chose otherwise."""
        return await self.db.sort_preferences.refresh_sources(discord_id) or [LIKED_SONGS]

    async def add_source(self, discord_id: int, source: SortSource) -> list[SortSource]:
        """Add a source to the weekly refresh (a source already there keeps its place)."""
        sources = await self.sources(discord_id)
        if any(s.key == source.key for s in sources):
            sources = [source if s.key == source.key else s for s in sources]  # the current name
        elif len(sources) >= MAX_REFRESH_SOURCES:
            raise InvalidSchedule(
                f"Your weekly refresh already sorts {MAX_REFRESH_SOURCES} sources, the most it can; "
                "remove one with /schedule remove first."
            )
        else:
            sources.append(source)
        await self.db.sort_preferences.save_refresh_sources(discord_id, sources)
        return sources

    async def remove_source(self, discord_id: int, typed: str) -> list[SortSource]:
        """Take a source off the weekly refresh: by a suggestion's value, a playlist link, or its name."""
        sources = await self.sources(discord_id)
        text = " ".join(typed.split())
        playlist_id = playlist_id_in(text)
        liked = text.casefold() in LIKED_SONGS_NAMES
        remaining = [
            s
            for s in sources
            if not (
                (liked and s.is_liked_songs)
                or (playlist_id is not None and s.playlist_id == playlist_id)
                or s.name.casefold() == text.casefold()
            )
        ]
        if len(remaining) == len(sources):
            raise InvalidSchedule("That isn't one of your weekly refresh's sources; /schedule status lists them.")
        if not remaining:
            raise InvalidSchedule(
                "The weekly refresh needs at least one source. Add another first, or stop it with /schedule off."
            )
        await self.db.sort_preferences.save_refresh_sources(discord_id, remaining)
        return remaining

    async def record_summary_delivery(self, run_id: int, status: str) -> None:
        """Whether the DM about a run (its summary, or why it failed) reached the member ('sent',
        'closed', 'left', 'failed'), for /status."""
        await self.db.runs.set_dm_status(run_id, status)

    async def latest_run(self, discord_id: int) -> int:
        """The id of the member's newest weekly run (0 if none): a refresh's runs come after it."""
        return await self.db.runs.latest_id(discord_id, RunTrigger.SCHEDULE)

    async def failed_run_since(self, discord_id: int, runs_before: int) -> int | None:
        """The failed run of a refresh that raised (started after `runs_before`), whose DM status the
        DM saying why sets; None if none was recorded (the member unlinked meanwhile: a step refused
        for any other reason before its sort began records a failed run, `_record_step`)."""
        run_id = await self._step_run(discord_id, runs_before)
        run = await self.db.runs.get(run_id) if run_id is not None else None
        return run_id if run is not None and run.status == RunStatus.FAILED else None

    async def refresh(
        self, schedule: Schedule, render: RenderDms = lambda _member, _report: (),
        failure: RenderFailure = lambda _member, _error, _run: (),
    ) -> WeeklyRefreshReport | None:
        """Run one member's weekly refresh, one sort per chosen source, and move their schedule on,
        even if it fails. A source that cannot be read is reported in the result; any other
        failure (link again, quota...) stops the refresh and is raised, or, once some source was
        sorted or found unreadable, is reported as where it stopped (`WeeklyRefreshReport.stopped`) with their reports.

        The due run is claimed first: None if another tick already took it (or the member moved
        the schedule since it was found due), so a due refresh starts exactly once. When the
        member's own sort is running, the refresh waits: RefreshPostponed, the schedule stays due
        (the next tick tries again) and the postponement is recorded once. (A /sort that starts
        between two sources postpones the rest the same way; the next tick sorts every source
        again, carrying what this try did: `_refresh_sources`.) When Spotify is down or holds
        the app back (TRANSIENT_FAILURES) the refresh is due again later: RefreshDeferred, for up
        to RETRY_WINDOW after this week's first try (`RetryWindow`). A run given back stays off, or at its new time,
        if the member turned the schedule off or moved it meanwhile. A schedule in a time zone
        this machine does not know is turned off (InvalidSchedule says so).

        A refresh that ends with news queues the DMs `render` makes of it in the transaction that
        ends it; one that dies before that runs again at the next start (`Database.finish_refresh`).
        One that raises queues the DMs `failure` makes of its error the same way (`Database.end_refresh`),
        so a stop or a death while it is told neither loses them nor ends it untold.
        """
        if self.sorting.is_running(schedule.discord_id):
            await self._record_postponement(schedule)
            raise RefreshPostponed()
        now = self.clock()
        try:
            next_run = next_weekly_run(schedule.weekday, schedule.hour, schedule.timezone, now)
        except InvalidSchedule:
            # A zone this machine's tzdata lacks (set on another machine): the schedule cannot move
            # on, so it would be due, and its failure told, at every tick. Off until set again.
            await self.db.schedules.disable(schedule.discord_id)
            turned_off = InvalidSchedule(
                "I turned your weekly refresh off: set it again with /schedule set and a zone like Europe/Berlin",
                kind="time zone", value=schedule.timezone,
            )
            # A run, as any step refused before its sort: /status and the history say why it stopped.
            run_id = await self._record_step(schedule.discord_id, await self.latest_run(schedule.discord_id),
                                             RunOutcome.failed(str(turned_off)))
            await self.db.refresh_dms.queue(failure(schedule.discord_id, turned_off, run_id))
            raise turned_off from None
        due_at = schedule.next_run
        runs_before = await self.latest_run(schedule.discord_id)
        if due_at is None or not await self.db.schedules.claim(schedule.discord_id, due_at, now, next_run):
            return None
        # Retries count from this week's first try: this one, unless an earlier try of the weekly time
        # this run belongs to was deferred (a `retrying_since` before that time is an earlier week's).
        this_week = weekly_run_before(schedule.weekday, schedule.hour, schedule.timezone, next_run)
        since = schedule.retrying_since
        window = RetryWindow(since if since is not None and since >= this_week else now, next_run)
        try:
            return await self._refresh_sources(schedule, next_run, due_at, window, render)
        except Exception as error:
            # It ended (failed, deferred, postponed...): what the member is told of it is queued with that end.
            failed_run = await self.failed_run_since(schedule.discord_id, runs_before)
            await self.db.end_refresh(schedule.discord_id, failure(schedule.discord_id, error, failed_run))
            raise
        except asyncio.CancelledError:
            # The bot is stopping: the run is given back, so the first tick after the start runs it
            # (a process that dies outright is caught at start-up: `schedules.rerun_interrupted`).
            try:
                await asyncio.shield(self.db.schedules.unclaim(schedule.discord_id, next_run, due_at))
            except Exception:
                log.warning("could not keep member %s's stopped weekly refresh due", schedule.discord_id)
            raise

    async def _refresh_sources(
        self, schedule: Schedule, next_run: datetime, due_at: datetime, window: RetryWindow, render: RenderDms,
    ) -> WeeklyRefreshReport:
        """One sort per chosen source, for a claimed run (`refresh`).

        A try cut off part-way (deferred, postponed, paused, stopped) has already read and written
        some sources: their reads stored this week's new songs, so the next try finds them known.
        What each source's try did is kept in storage (`_keep_progress`) and carried into the next
        try's sort of it (`also_new`, and the playlists it made), until a try finishes every source:
        its summary tells the week, each song counted once."""
        discord_id = schedule.discord_id
        options = await self.saved_options(discord_id)
        earlier = await self.db.schedules.progress(discord_id)
        result = WeeklyRefreshReport()
        try_before = await self.db.runs.latest_id(discord_id, RunTrigger.SCHEDULE)  # this try's runs come after
        for source in await self.sources(discord_id):
            runs_before = await self.db.runs.latest_id(discord_id, RunTrigger.SCHEDULE)
            try:
                report = await self._refresh_source(
                    schedule, next_run, due_at, window, options, source, earlier.get(source.key, RefreshProgress()),
                    runs_before,
                )
            except RefreshDeferred as deferred:
                # Every run of this try is folded into the next try (its summary tells the week):
                # 'deferred', so /status lists the refresh once (`RunRepository.recent_for_member`).
                note = f"tried again at {deferred.retry_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
                await self.db.runs.defer(discord_id, try_before, note)
                raise
            except (RefreshPostponed, LinkEnded, NotLinked):
                raise  # postponed (and recorded so), or the member unlinked: their history is gone
            except SpotifyQuotaExceeded as error:
                # The run was given back; a sort refused before it began (the pause already on) is
                # a paused run too, as one the quota stopped part-way is. The try after the pause
                # tells the week, so this try's other runs are folded into it, as a deferred try's are.
                await self._record_step(discord_id, runs_before, RunOutcome.paused(describe_failure(error)))
                await self.db.runs.defer(discord_id, try_before, "tried again once Spotify's quota pause ended")
                raise
            except SOURCE_FAILURES as error:
                log.info("weekly refresh of member %s: source %s failed: %s", discord_id, source.key, error)
                result.failures.append(SourceFailure(source, error, await self._step_run(discord_id, runs_before)))
                continue
            except Exception as failure:
                cause, retries = (failure.error, failure.retries) if isinstance(failure, _GaveUp) else (failure, None)
                # A step refused before its sort began (a link found broken...) is a failed run too.
                run_id = await self._record_step(discord_id, runs_before, RunOutcome.failed(describe_failure(cause)))
                if not result.reports and not result.failures:
                    raise cause from cause.__cause__  # nothing sorted or skipped this week: the failure alone is the news
                # The sources sorted and those that could not be read are news the member gets now,
                # with where it stopped; what the stopped source's read found new is carried into
                # next week's summary.
                result.stopped = RefreshStopped(source, cause, run_id, retries)
                await self.db.finish_refresh(discord_id, render(discord_id, result), keep=source.key)
                return result
            result.reports.append(report)
        await self.db.finish_refresh(discord_id, render(discord_id, result))
        return result

    async def _refresh_source(
        self, schedule: Schedule, next_run: datetime, due_at: datetime, window: RetryWindow, options: SortOptions,
        source: SortSource, carried: RefreshProgress, runs_before: int,
    ) -> SortReport:
        """One source's sort in a claimed run, with what earlier tries of it did (`carried`);
        `runs_before`: the member's newest weekly run before this step (`_step_run`)."""
        discord_id = schedule.discord_id
        before: tuple[set[str], dict[str, int]] | None = None  # what storage held as this try's sort began
        try:
            if await self.source_service.deleted_by_member(discord_id, source):
                unfollowed = PlaylistNotFollowed(source.playlist_id or "", source.name)
                await self._record_step(discord_id, runs_before, RunOutcome.failed(describe_failure(unfollowed)))
                raise unfollowed
            before = await self._source_state(discord_id, source)
            report = await self.sorting.sort(
                discord_id, options, source=source, trigger=RunTrigger.SCHEDULE, incremental=True,
                also_new=carried.new_ids, also_emptied=carried.emptied_playlists,
            )
        except AlreadyRunning:  # a /sort started while the schedule was being moved on: still due
            before = None  # what that /sort reads is its own news, not this refresh's
            await self.db.schedules.unclaim(discord_id, next_run, due_at)
            await self._record_postponement(schedule)
            raise RefreshPostponed() from None
        except SpotifyQuotaExceeded:
            # Paused, not skipped: still due, so the first tick after the quota pause runs it.
            await self.db.schedules.unclaim(discord_id, next_run, due_at)
            raise
        except (*TRANSIENT_FAILURES, PlaylistWriteFailed) as error:
            down = error.__cause__ if isinstance(error, PlaylistWriteFailed) else error
            if not isinstance(down, TRANSIENT_FAILURES):  # a playlist Spotify refused: not an outage
                raise
            waits = math.ceil(down.retry_after_s) if isinstance(down, SpotifyRateLimited) else 0
            now = self.clock()
            retry_at = now + max(RETRY_DELAY, timedelta(seconds=waits))
            if window.allows(retry_at) and await self.db.schedules.unclaim(
                discord_id, next_run, retry_at, retrying_since=window.since
            ):
                # Cut off before its sort began (asking whether the member still follows the
                # playlist): the deferred try still shows in the history and /status.
                await self._record_step(discord_id, runs_before, RunOutcome.failed(describe_failure(error)))
                raise RefreshDeferred(error, retry_at) from error
            over = RetriesOver(window.since, now, retry_at, window.ends,
                               asked_to_wait=window.allows(now + RETRY_DELAY) and not window.allows(retry_at))
            raise _GaveUp(error, over) from error
        finally:
            if before is not None:
                await self._keep_progress(discord_id, source, before)
        return _with_created(report, carried.created_playlists)

    async def _source_state(self, discord_id: int, source: SortSource) -> tuple[set[str], dict[str, int]]:
        """The songs storage knows in `source`, and the playlists recorded for it with their song counts."""
        if source.is_liked_songs:
            known = await self.db.liked.known_ids(discord_id)
        else:
            known = await self.db.source_tracks.known_ids(discord_id, source.key)
        playlists = await self.db.playlists.get_all(discord_id, source.key)
        return known, {record.playlist_id: record.track_count for record in playlists.values()}

    async def _keep_progress(
        self, discord_id: int, source: SortSource, before: tuple[set[str], dict[str, int]]
    ) -> None:
        """Store what this try's sort of `source` did (new songs read, playlists made or emptied),
        whatever its end."""
        try:
            known, playlists = await asyncio.shield(self._source_state(discord_id, source))
            new_ids, created = known - before[0], playlists.keys() - before[1].keys()
            emptied = {pid for pid, count in playlists.items() if count == 0 and before[1].get(pid, 0) != 0}
            if new_ids or created or emptied:
                await asyncio.shield(self.db.schedules.add_progress(discord_id, source.key, new_ids, created, emptied))
        except Exception:  # the refresh's own outcome matters more; its next try counts less
            log.warning("could not keep what member %s's weekly refresh did to %s", discord_id, source.key)

    async def _record_step(self, discord_id: int, runs_before: int, outcome: RunOutcome) -> int:
        """The run of a source's step: its sort's, or, for a step that ended before its sort
        started (and so recorded none), a new one with `outcome`, as a sort Spotify refuses
        records: the history and /status show it where the DM cannot (closed DMs)."""
        recorded = await self._step_run(discord_id, runs_before)
        if recorded is not None:
            return recorded
        run_id = await self.db.runs.start(discord_id, RunTrigger.SCHEDULE)
        await self.db.runs.finish(run_id, outcome)
        return run_id

    async def _step_run(self, discord_id: int, runs_before: int) -> int | None:
        """The run a source's step recorded (its sort's, or its skip's), if it recorded one."""
        latest = await self.db.runs.latest_id(discord_id, RunTrigger.SCHEDULE)
        return latest if latest > runs_before else None

    async def _record_postponement(self, schedule: Schedule) -> None:
        """One 'postponed' run per due refresh, however many ticks it waits (nothing ran since)."""
        latest = await self.db.runs.recent(schedule.discord_id, limit=1)
        if latest and latest[0].status == RunStatus.POSTPONED:
            return
        run_id = await self.db.runs.start(schedule.discord_id, RunTrigger.SCHEDULE)
        await self.db.runs.finish(run_id, RunOutcome.postponed(POSTPONED_REASON))


def _with_created(report: SortReport, created_earlier: frozenset[str]) -> SortReport:
    """The report with the playlists an earlier try of this refresh made marked as made."""
    if not created_earlier:
        return report
    playlists = [replace(o, created=True) if o.playlist_id in created_earlier else o for o in report.playlists]
    return replace(report, playlists=playlists)
