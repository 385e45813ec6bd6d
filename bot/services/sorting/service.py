"""The sort service: one member's Liked Songs (or one of their playlists) in, one Spotify
playlist per genre out.

`SortService.sort` serves `/sort`, the weekly refresh and `genrebot demo`, and reads as its
steps: read the source, classify what this model has not seen and decide every song's family
and genre over the member's whole library, plan the playlists, write them, draw the family mix,
record the run. Each step lives in its own module of this package. The member's own sort that
finishes (not a dry run) saves its choices, which their weekly refresh repeats; `close()` stops
the sorts still running when the bot stops, each recording its run.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bot.services import charts
from bot.services.audio_features import AudioFeatures
from bot.services.errors import AlreadyRunning, LinkEnded, ServiceError, note_failed_run
from bot.services.genre_names import LEVELS
from bot.services.linking import LinkService
from bot.services.playlist_plan import PlaylistPlan, SortOptions, plan_playlists
from bot.services.sorting.classifying import LibraryClassifier
from bot.services.sorting.reading import LibraryRead, LikedSongsReader, PlaylistReader
from bot.services.sorting.report import (
    PlaylistOutcome,
    ProgressCallback,
    ReportProgress,
    SortProgress,
    SortReport,
    progress_reporter,
)
from bot.services.sorting.writing import PlaylistWriter
from bot.spotify.app import COLLABORATIVE_SCOPE
from bot.spotify.client import SpotifyUserClient
from bot.spotify.errors import SpotifyError, SpotifyQuotaExceeded
from bot.spotify.library_sync import PageFn
from bot.spotify.own_playlists import OwnPlaylist
from classifier import Classifier
from music import LIKED_SONGS, SortSource
from storage import Database
from storage.records import Run, RunOutcome, RunStatus, RunTrigger, SortPreferences

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0  # how long closing waits for running sorts to record their end


@dataclass(frozen=True)
class SortJob:
    discord_id: int
    run_id: int
    options: SortOptions
    # The weekly refresh: read only the songs liked since the last read (a playlist is read whole),
    # and add only the new songs to playlists that hold the rest.
    incremental: bool
    source: SortSource = LIKED_SONGS
    # Songs an earlier, cut-off try of the same weekly refresh read (so this read finds them
    # known): still new to the member, so they count as new wherever they are still in the source.
    also_new: frozenset[str] = frozenset()
    # Playlists such a try emptied (so this sort finds them empty): still reported as emptied.
    also_emptied: frozenset[str] = frozenset()


class SortService:
    def __init__(
        self,
        db: Database,
        linking: LinkService,
        audio_features: AudioFeatures,
        classifier: Classifier,
        *,
        classify_pool: Executor,
        read_pool: Executor,
        read_concurrency: int = 8,
        max_concurrent_sorts: int = 4,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.linking = linking
        self.classifier = classifier
        self.reader = LikedSongsReader(db, audio_features, read_pool, read_concurrency, clock)
        self.playlist_reader = PlaylistReader(db, audio_features, read_pool, read_concurrency)
        self.library_classifier = LibraryClassifier(db, classifier, classify_pool)
        self.writer = PlaylistWriter(db, clock, classifier.taxonomy)
        self.clock = clock
        # The members whose sort is running, and the task inside `sort` for each (stopped by `close`).
        self._running: dict[int, asyncio.Task[Any] | None] = {}
        self._running_triggers: dict[int, RunTrigger] = {}  # and what started it: where its result goes
        self._sort_slots = asyncio.Semaphore(max_concurrent_sorts)
        self.stopping = False  # `close` has begun: a sort cancelled now was stopped by the bot

    def is_running(self, discord_id: int) -> bool:
        return discord_id in self._running

    def raise_if_running(self, discord_id: int) -> None:
        """AlreadyRunning while a sort of the member runs, saying whether it is their weekly refresh
        (whose result goes by DM) or a sort they asked for (whose reply shows it)."""
        if discord_id in self._running:
            raise AlreadyRunning(weekly_refresh=self._running_triggers.get(discord_id) == RunTrigger.SCHEDULE)

    def spotify_paused_until(self) -> datetime | None:
        """When Spotify's quota pause ends, or None: the scheduler starts no refresh before it."""
        return self.linking.spotify_app.gate.paused_until()

    def raise_if_spotify_paused(self) -> None:
        """During a quota pause a sort stops before it starts, without asking Spotify."""
        paused_until = self.spotify_paused_until()
        if paused_until is not None:
            now = self.clock()
            raise SpotifyQuotaExceeded((paused_until - now).total_seconds(), now=now)

    async def logged_bug(
        self, error: BaseException, discord_id: int, what: str, run_id: int | None = None, *, error_id: str | None = None
    ) -> str:
        """A failure no message covers (a bug): logged with its traceback under a new error id (or
        `error_id`, one a message already gives), which the member is given; the log line names the run
        it failed, and the run keeps the error id, so an operator finds the traceback from the member's
        failed run in /status or the run history."""
        error_id = log_bug(error, discord_id, what, run_id, error_id=error_id)
        if run_id is not None:
            try:
                await self.db.runs.set_error_id(run_id, error_id)
            except Exception:  # the database closing: the log still has the id and the run
                log.warning("could not keep error id %s on run %s", error_id, run_id, exc_info=True)
        return error_id

    async def recent_runs(self, discord_id: int, limit: int = 5) -> list[Run]:
        """The member's latest runs, a weekly refresh's tries through an outage as one (/status)."""
        return await self.db.runs.recent_for_member(discord_id, limit=limit)

    async def sort(
        self,
        discord_id: int,
        options: SortOptions,
        *,
        source: SortSource = LIKED_SONGS,
        trigger: RunTrigger = RunTrigger.COMMAND,
        incremental: bool = False,
        progress: ProgressCallback | None = None,
        also_new: Collection[str] = (),
        also_emptied: Collection[str] = (),
    ) -> SortReport:
        """Run one sort of `source` for a member; raises AlreadyRunning if one is in progress,
        PlaylistNotReadable / PlaylistNotFound for a playlist Spotify will not give us.
        `also_new`: songs to count as new though the read finds them known (`SortJob.also_new`);
        `also_emptied`: playlists to report emptied though they are empty already (`SortJob.also_emptied`).
        The member's own sort (trigger COMMAND) that finishes, unless a dry run, saves its choices:
        the weekly refresh repeats them (`WeeklyRefreshService.saved_options`)."""
        self.raise_if_running(discord_id)
        self._running[discord_id] = asyncio.current_task()
        self._running_triggers[discord_id] = trigger
        try:
            await self.linking.linked_user(discord_id)
            self.raise_if_spotify_paused()
            run_id = await self.db.runs.start(discord_id, trigger)
            report_progress = progress_reporter(progress)
            try:
                if self._sort_slots.locked():  # every slot taken: the member is told why nothing moves yet
                    report_progress(SortProgress("waiting", 0, 0))
                async with self._sort_slots:
                    job = SortJob(discord_id, run_id, options, incremental, source, frozenset(also_new),
                                  frozenset(also_emptied))
                    report = await self._run_stoppable(job, report_progress)
            except SpotifyQuotaExceeded as exc:
                # A weekly refresh resumes by itself once the pause ends (the scheduler waits for
                # it); a /sort does not, so it is not called paused: the member is told when to retry.
                outcome = RunOutcome.paused if trigger == RunTrigger.SCHEDULE else RunOutcome.failed
                await self.db.runs.finish(run_id, outcome(describe_failure(exc)))
                raise
            except BaseException as exc:
                note_failed_run(exc, run_id)
                await asyncio.shield(self.db.runs.finish(run_id, RunOutcome.failed(describe_failure(exc))))
                raise
            if trigger == RunTrigger.COMMAND and not options.dry_run:
                await self._remember_choices(discord_id, options)
            return report
        finally:
            self._running.pop(discord_id, None)
            self._running_triggers.pop(discord_id, None)

    async def close(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop the sorts still running (a /sort when the bot stops) and let each record its run as
        stopped by the bot, before the database and the Spotify session they use close. Their
        callers are cancelled, as a weekly refresh's tick is when its scheduler stops (`stopping` tells
        them why). The bot calls it before Discord closes, so a /sort can still say it was stopped."""
        self.stopping = True
        current = asyncio.current_task()
        callers = [task for task in self._running.values() if task is not None and task is not current and not task.done()]
        for task in callers:
            task.cancel()
        if callers:
            _, still_running = await asyncio.wait(callers, timeout=timeout_s)
            if still_running:
                log.warning("%d sort(s) did not stop within %.0f s of closing", len(still_running), timeout_s)

    async def _remember_choices(self, discord_id: int, options: SortOptions) -> None:
        """The choices of the member's last real sort, which their weekly refresh repeats."""
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

    async def _run_stoppable(self, job: SortJob, report_progress: ReportProgress) -> SortReport:
        """Run the job in a task of its own, so /unlink can cancel it (see LinkService.unlink)
        without cancelling whoever asked for the sort; they get LinkEnded instead."""
        task = asyncio.create_task(self._run(job, report_progress))
        try:
            return await task
        except asyncio.CancelledError:
            caller = asyncio.current_task()
            if task.cancelled() and caller is not None and not caller.cancelling():
                raise LinkEnded() from None
            raise

    async def _run(self, job: SortJob, report_progress: ReportProgress) -> SortReport:
        timings: dict[str, float] = {}
        taxonomy = self.classifier.taxonomy
        async with self.linking.client(job.discord_id) as client:
            # Songs are classified page by page while the rest are read, and a first sort's lookup
            # of playlists to adopt runs meanwhile; what needs the whole library (pooling, the
            # plan) waits for the read's end, and the chart is drawn while the playlists are written.
            own_playlists = await self._ask_early_for_own_playlists(job, client)
            async with self.library_classifier.read_ahead() as read_ahead, _settled(own_playlists):
                with _timed(timings, "read"):
                    library = await self._read(job, client, report_progress, read_ahead.page_read)
                if job.also_new:
                    library = replace(library, new_ids=library.new_ids | (job.also_new & set(library.track_ids)))
                source = library.source
                with _timed(timings, "classify"):
                    # A playlist's songs are decided alongside the member's library (their Liked Songs),
                    # whose artists and albums say more about them than the playlist alone.
                    library_ids = [] if source.is_liked_songs else list(await self.db.liked.known_ids(job.discord_id))
                    classified = await self.library_classifier.classify(
                        library.track_ids, report_progress, pool_with=library_ids,
                        read_ahead=read_ahead, stored_tracks=library.stored,
                    )
                    counts = {level: classified.songs.counts(taxonomy, level) for level in LEVELS}
                    if source.is_liked_songs:  # leaderboards count Liked Songs, the member's library
                        await self.db.leaderboard.replace_member_counts(
                            job.discord_id, self.classifier.version, counts
                        )
                    plan = await asyncio.to_thread(
                        plan_playlists, classified.songs, job.options, taxonomy, classified.unclassified
                    )
                mix = counts["family"]
                songs = "liked songs" if source.is_liked_songs else "songs"
                chart_drawn = asyncio.ensure_future(_nothing() if not library.track_ids else asyncio.to_thread(
                    functools.partial(
                        charts.genre_mix_png,
                        {taxonomy.label(k, "family"): v for k, v in mix.items()},
                        f"Genre mix of {len(library.track_ids):,} {songs}",
                        source=None if source.is_liked_songs else source.name,
                    )
                ))
                try:
                    with _timed(timings, "write"):
                        outcomes = await self._write(job, client, plan, library, report_progress, own_playlists)
                except BaseException:
                    chart_drawn.cancel()
                    await asyncio.gather(chart_drawn, return_exceptions=True)
                    raise
            collaborative_hidden = not source.is_liked_songs and COLLABORATIVE_SCOPE not in client.granted_scopes
        with _timed(timings, "chart"):  # only what drawing takes beyond the writing
            chart = await chart_drawn
        emptied = [o for o in outcomes if o.emptied]
        outcomes = [o for o in outcomes if not o.emptied]
        await self.db.runs.finish(job.run_id, _succeeded(outcomes, len(library.new_ids), len(plan.unsorted)))
        report_progress(SortProgress("done", len(library.track_ids), len(library.track_ids)))
        return SortReport(
            run_id=job.run_id,
            discord_id=job.discord_id,
            model_version=self.classifier.version,
            playlists=outcomes,
            unsorted=len(plan.unsorted),
            not_chosen=plan.not_chosen,
            total_songs=len(library.track_ids),
            new_songs=len(library.new_ids),
            classified=classified.classified,
            dry_run=job.options.dry_run,
            genre_mix=mix,
            chart_png=chart,
            timings=timings,
            source=source,
            skipped=dict(library.skipped),
            duplicates=library.duplicates,
            collaborative_playlists_hidden=collaborative_hidden,
            known_artists=classified.known_artists,
            emptied=emptied,
        )

    async def _read(
        self, job: SortJob, client: SpotifyUserClient, report_progress: ReportProgress, on_page: PageFn
    ) -> LibraryRead:
        if job.source.is_liked_songs:
            return await self.reader.read(
                job.discord_id, client, incremental=job.incremental, report_progress=report_progress,
                on_page=on_page,
            )
        return await self.playlist_reader.read(job.discord_id, client, job.source, report_progress=report_progress)

    async def _ask_early_for_own_playlists(
        self, job: SortJob, client: SpotifyUserClient
    ) -> asyncio.Future[dict[str, OwnPlaylist]] | None:
        """A source's first sort (no playlist remembered) will look among the member's playlists
        for ones to adopt before writing anything: that is asked while the source is read."""
        if job.options.dry_run or await self.db.playlists.get_all(job.discord_id, job.source.key):
            return None
        return asyncio.ensure_future(asyncio.to_thread(client.own_playlists))

    async def _write(
        self, job: SortJob, client: SpotifyUserClient, plan: PlaylistPlan, library: LibraryRead,
        report_progress: ReportProgress, own_playlists: Awaitable[dict[str, OwnPlaylist]] | None,
    ) -> list[PlaylistOutcome]:
        source = library.source
        if job.options.dry_run:
            return await self.writer.preview(job.discord_id, plan, library.new_ids, source)
        return await self.writer.write(
            job.discord_id, client, plan, library.new_ids,
            # Liked Songs: songs may only be inserted at the top when none can have left
            # the library (a full read rewrites); a playlist source's refresh appends
            incremental=job.incremental and not (source.is_liked_songs and library.full),
            report_progress=report_progress,
            source=source,
            own_playlists=own_playlists,
            emptied_earlier=job.also_emptied,
        )


def _succeeded(outcomes: Sequence[PlaylistOutcome], new_songs: int, unsorted: int) -> RunOutcome:
    """Songs per genre key, the parts of a genre past 10,000 songs added up."""
    counts: dict[str, int] = {}
    new_counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.key] = counts.get(o.key, 0) + o.count
        if o.new_count:
            new_counts[o.key] = new_counts.get(o.key, 0) + o.new_count
    return RunOutcome(RunStatus.SUCCEEDED, counts=counts, new_songs=new_songs, new_counts=new_counts, unsorted=unsorted)


@asynccontextmanager
async def _settled(work: asyncio.Future[Any] | None) -> AsyncIterator[None]:
    """Work started ahead of its use never outlives the block (a read that failed): cancelled
    if still running, its outcome collected."""
    try:
        yield
    finally:
        if work is not None:
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - started


def log_bug(
    error: BaseException, discord_id: int, what: str, run_id: int | None = None, *, error_id: str | None = None
) -> str:
    """`SortService.logged_bug`'s log line alone, for a failure no run recorded: returns the error id."""
    error_id = error_id or secrets.token_hex(4)
    on_run = f", run {run_id}" if run_id is not None else ""
    log.error("error %s: member %s, %s%s", error_id, discord_id, what, on_run, exc_info=error)
    return error_id


def describe_failure(exc: BaseException) -> str:
    """A short error text for the run history: our own messages, never tokens or tracebacks.
    What was not written for the member is recorded as "<ErrorClass>: <detail>" or "<ErrorClass>",
    for the operator; `failure_kind` reads the class back, so /status can say it in words."""
    if isinstance(exc, SpotifyError):
        return f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled (the bot was stopped)"
    if isinstance(exc, ServiceError):  # written for the member: /status shows it as the reply did
        return str(exc)[:500]
    return f"{type(exc).__name__}"


_ERROR_CLASS = re.compile(r"[A-Z][A-Za-z0-9_]*")


def failure_kind(error: str) -> str | None:
    """The error class a run's recorded error names (see `describe_failure`), or None when the error is a
    message written for the member (a service error's, a restart's, a postponement's)."""
    head = error.partition(":")[0]
    return head if _ERROR_CLASS.fullmatch(head) else None


async def _nothing() -> None:
    """No chart of a sort with no songs: an empty 'Genre mix of 0 songs' tells the member nothing."""
