"""The sort service: Liked Songs in, one Spotify playlist per genre out.

The same code serves `/sort`, the weekly refresh and `genrebot demo`: read the member's Liked
Songs (all of them, or only the new ones), classify songs not yet classified by this model,
plan the playlists, write them, and record the run. Blocking work (spotipy, torch,
matplotlib) runs in threads; classification shares one small pool so a busy bot stays responsive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from bot.services import charts
from bot.services.accounts import SpotifyAccounts
from bot.services.errors import AlreadyRunning
from bot.services.playlist_plan import PlaylistPlan, SortOptions, genre_label, plan_playlists, playlist_name
from bot.spotify.client import SpotifyUserClient
from bot.spotify.errors import PlaylistWriteFailed, SpotifyError, SpotifyQuotaExceeded
from bot.spotify.library_sync import fetch_audio_features, fetch_liked_songs
from bot.spotify.playlist_sync import write_playlist
from classifier import Classifier
from music import LikedSong, Track
from storage import Database
from storage.records import PlaylistRecord, RunOutcome, RunStatus, RunTrigger, StoredPrediction

log = logging.getLogger(__name__)

Stage = Literal["reading", "classifying", "writing", "done"]
CLASSIFY_CHUNK = 1024
PLAYLIST_WRITE_CONCURRENCY = 4


@dataclass(frozen=True)
class SortProgress:
    stage: Stage
    done: int
    total: int


ProgressCallback = Callable[[SortProgress], Awaitable[None]]


@dataclass(frozen=True)
class PlaylistOutcome:
    key: str
    name: str
    playlist_id: str | None  # None on a dry run
    url: str | None
    count: int
    new_count: int
    created: bool


@dataclass
class SortReport:
    run_id: int
    discord_id: int
    model_version: str
    playlists: list[PlaylistOutcome]
    unsorted: int
    not_chosen: int
    total_songs: int
    new_songs: int
    dry_run: bool
    genre_mix: dict[str, int]
    chart_png: bytes
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


class SortService:
    def __init__(
        self,
        db: Database,
        accounts: SpotifyAccounts,
        classifier: Classifier,
        *,
        classify_pool: ThreadPoolExecutor,
        read_concurrency: int = 8,
        max_concurrent_sorts: int = 4,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.accounts = accounts
        self.classifier = classifier
        self.classify_pool = classify_pool
        self.read_concurrency = read_concurrency
        self.clock = clock
        self._running: set[int] = set()
        # One pool of Spotify page readers for the whole process (see fetch_liked_songs).
        self.read_pool = ThreadPoolExecutor(max(4, read_concurrency * 2), thread_name_prefix="spotify-read")
        self._sort_slots = asyncio.Semaphore(max_concurrent_sorts)

    def is_running(self, discord_id: int) -> bool:
        return discord_id in self._running

    async def sort(
        self,
        discord_id: int,
        options: SortOptions,
        *,
        trigger: RunTrigger = RunTrigger.COMMAND,
        incremental: bool = False,
        progress: ProgressCallback | None = None,
    ) -> SortReport:
        """Run one sort for a member; raises AlreadyRunning if one is in progress."""
        if discord_id in self._running:
            raise AlreadyRunning()
        self._running.add(discord_id)
        try:
            await self.accounts.linked_user(discord_id)
            run_id = await self.db.runs.start(discord_id, trigger)
            try:
                async with self._sort_slots:
                    report = await self._sort(discord_id, run_id, options, incremental, progress)
            except SpotifyQuotaExceeded as exc:
                await self.db.runs.finish(run_id, RunOutcome.paused(_describe(exc)))
                raise
            except BaseException as exc:
                await asyncio.shield(self.db.runs.finish(run_id, RunOutcome.failed(_describe(exc))))
                raise
            return report
        finally:
            self._running.discard(discord_id)

    async def _sort(
        self,
        discord_id: int,
        run_id: int,
        options: SortOptions,
        incremental: bool,
        progress: ProgressCallback | None,
    ) -> SortReport:
        report_progress = _progress_bridge(progress)
        timings: dict[str, float] = {}
        started = time.perf_counter()

        known_ids = await self.db.liked.known_ids(discord_id)
        loop = asyncio.get_running_loop()

        def on_read(done: int, total: int) -> None:
            loop.call_soon_threadsafe(report_progress, SortProgress("reading", done, total))

        async with self.accounts.client(discord_id) as client:
            fetched = await asyncio.to_thread(
                fetch_liked_songs,
                client,
                known_ids if incremental else set(),
                concurrency=self.read_concurrency,
                progress=on_read,
                executor=self.read_pool,
            )
            # Only songs new to this member are stored and enriched: known rows keep their features.
            new_tracks = [track for track, _ in fetched.new if track.id not in known_ids]
            if new_tracks and self.accounts.spotify.audio_features_available is not False:
                features = await asyncio.to_thread(
                    fetch_audio_features, client, self.accounts.spotify, [t.id for t in new_tracks]
                )
                new_tracks = [_with_features(t, features.get(t.id)) for t in new_tracks]
            await self.db.tracks.upsert_many(new_tracks)
            liked = [LikedSong(track.id, added_at) for track, added_at in fetched.new]
            if incremental:
                await self.db.liked.add_many(discord_id, liked)
            else:
                await self.db.liked.replace_all(discord_id, liked)
            liked_now = await self.db.liked.list(discord_id)
            timings["read"] = time.perf_counter() - started

            stage_start = time.perf_counter()
            liked_ids = [song.track_id for song in liked_now]
            predictions = await self._predictions_for(liked_ids, report_progress)
            await self.db.leaderboard.refresh_member(discord_id, self.classifier.version)
            timings["classify"] = time.perf_counter() - stage_start

            plan = plan_playlists(liked_ids, predictions, options, self.classifier.taxonomy)
            new_ids = {track.id for track in new_tracks}
            stage_start = time.perf_counter()
            outcomes = await self._write(discord_id, client, plan, new_ids, options, report_progress, incremental)
            timings["write"] = time.perf_counter() - stage_start

        genre_mix: dict[str, int] = {}
        for track_id in liked_ids:
            prediction = predictions.get(track_id)
            if prediction is not None:
                genre_mix[prediction.genre] = genre_mix.get(prediction.genre, 0) + 1
        stage_start = time.perf_counter()
        chart = await asyncio.to_thread(
            charts.genre_mix_png,
            {genre_label(k): v for k, v in genre_mix.items()},
            f"Genre mix of {len(liked_ids):,} liked songs",
        )
        timings["chart"] = time.perf_counter() - stage_start

        await self.db.runs.finish(
            run_id,
            RunOutcome(
                RunStatus.SUCCEEDED,
                counts={o.key: o.count for o in outcomes},
                new_songs=len(new_ids),
                new_counts={o.key: o.new_count for o in outcomes if o.new_count},
                unsorted=len(plan.unsorted),
            ),
        )
        report_progress(SortProgress("done", len(liked_ids), len(liked_ids)))
        return SortReport(
            run_id=run_id,
            discord_id=discord_id,
            model_version=self.classifier.version,
            playlists=outcomes,
            unsorted=len(plan.unsorted),
            not_chosen=plan.not_chosen,
            total_songs=len(liked_ids),
            new_songs=len(new_ids),
            dry_run=options.dry_run,
            genre_mix=genre_mix,
            chart_png=chart,
            timings=timings,
        )

    async def _predictions_for(
        self, track_ids: Sequence[str], report_progress: Callable[[SortProgress], None]
    ) -> dict[str, StoredPrediction]:
        """Cached predictions for this model, classifying only songs it has not seen."""
        version = self.classifier.version
        predictions = await self.db.predictions.get_many(track_ids, version)
        missing = [t for t in dict.fromkeys(track_ids) if t not in predictions]
        total = len(missing)
        report_progress(SortProgress("classifying", 0, total))
        loop = asyncio.get_running_loop()
        for start in range(0, total, CLASSIFY_CHUNK):
            chunk_ids = missing[start : start + CLASSIFY_CHUNK]
            tracks = await self.db.tracks.get_many(chunk_ids)
            ordered = [tracks[t] for t in chunk_ids if t in tracks]
            results = await loop.run_in_executor(self.classify_pool, self.classifier.classify, ordered)
            fresh = {track.id: result for track, result in zip(ordered, results, strict=True)}
            await self.db.predictions.save_many(version, fresh)
            predictions.update(await self.db.predictions.get_many(list(fresh), version))
            report_progress(SortProgress("classifying", min(start + CLASSIFY_CHUNK, total), total))
        return predictions

    async def _write(
        self,
        discord_id: int,
        client: SpotifyUserClient,
        plan: PlaylistPlan,
        new_ids: set[str],
        options: SortOptions,
        report_progress: Callable[[SortProgress], None],
        incremental: bool = False,
    ) -> list[PlaylistOutcome]:
        existing = await self.db.playlists.get_all(discord_id)
        outcomes: list[PlaylistOutcome] = []
        keys = list(plan.playlists)
        if options.dry_run:
            for key in keys:
                ids = plan.playlists[key]
                record = existing.get(key)
                outcomes.append(
                    PlaylistOutcome(
                        key,
                        playlist_name(key),
                        record.playlist_id if record else None,
                        record.url if record else None,
                        len(ids),
                        sum(1 for t in ids if t in new_ids),
                        created=False,
                    )
                )
            return outcomes

        report_progress(SortProgress("writing", 0, len(keys)))
        today = self.clock().strftime("%Y-%m-%d")
        slots = asyncio.Semaphore(PLAYLIST_WRITE_CONCURRENCY)
        written = 0

        async def write_one(key: str) -> PlaylistOutcome:
            nonlocal written
            ids = plan.playlists[key]
            record = existing.get(key)
            fresh = [t for t in ids if t in new_ids]
            # A weekly refresh only adds songs at the top: when the playlist holds exactly the
            # rest (new songs are the newest, so they lead the list), add just those.
            prepend = None
            if incremental and record is not None and ids[: len(fresh)] == fresh:
                if record.track_count == len(ids) - len(fresh):
                    prepend = [f"spotify:track:{t}" for t in fresh]
            description = (
                f"{genre_label(key)} songs from your Liked Songs, sorted by genrebot on {today} "
                f"({len(ids)} songs)."
            )
            async with slots:
                try:
                    result = await asyncio.to_thread(
                        write_playlist,
                        client,
                        existing_id=record.playlist_id if record else None,
                        name=playlist_name(key),
                        description=description,
                        uris=[f"spotify:track:{t}" for t in ids],
                        prepend=prepend,
                    )
                except PlaylistWriteFailed as failed:
                    if failed.playlist_id and (record is None or record.playlist_id != failed.playlist_id):
                        # Keep the new playlist's id so the next run fills it instead of making another.
                        await self.db.playlists.upsert(
                            PlaylistRecord(discord_id, key, failed.playlist_id, failed.url or "", 0, self.clock())
                        )
                    raise
            await self.db.playlists.upsert(
                PlaylistRecord(discord_id, key, result.id, result.url, len(ids), self.clock())
            )
            written += 1
            report_progress(SortProgress("writing", written, len(keys)))
            return PlaylistOutcome(
                key,
                playlist_name(key),
                result.id,
                result.url,
                len(ids),
                sum(1 for t in ids if t in new_ids),
                created=result.created,
            )

        results = await asyncio.gather(*(write_one(key) for key in keys), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
        return [r for r in results if isinstance(r, PlaylistOutcome)]


def _progress_bridge(callback: ProgressCallback | None) -> Callable[[SortProgress], None]:
    """Fire-and-forget progress updates; a slow or failing reporter never slows the sort."""
    pending: set[asyncio.Task[None]] = set()

    def report(progress: SortProgress) -> None:
        if callback is None:
            return
        task = asyncio.get_running_loop().create_task(_safe(callback, progress))
        pending.add(task)
        task.add_done_callback(pending.discard)

    return report


async def _safe(callback: ProgressCallback, progress: SortProgress) -> None:
    try:
        await callback(progress)
    except Exception:  # progress is cosmetic; the sort goes on
        log.debug("progress callback failed", exc_info=True)


def _with_features(track: Track, features: Mapping[str, float] | None) -> Track:
    return replace(track, audio_features=features) if features else track


def _describe(exc: BaseException) -> str:
    """A short error text for the run history: our own messages, never tokens or tracebacks."""
    if isinstance(exc, SpotifyError):
        return f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled (the bot was stopped)"
    return f"{type(exc).__name__}"
