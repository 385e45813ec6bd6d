"""The composition root for everything but Discord: storage, the model, the Spotify app, the services.

`Services.open(settings)` opens each resource once, in order, and hands the services what they
use (no service opens anything itself); `close()` first stops the sorts still running
(`SortService.close`, so each records its run), then releases the resources in reverse order. An
exit stack records each resource as it opens, so a failure half-way closes what was opened.
The bot, the demo, the benchmarks and the tests all start here, so they run the very same
services.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.services.audio_features import AudioFeatures
from bot.services.discord_identity import DiscordIdentity
from bot.services.linking import LinkAddresses, LinkService
from bot.services.sorting import SortService
from bot.services.sources import SourceService
from bot.services.stats import StatsService
from bot.services.synced_commands import SyncedCommands
from bot.services.weekly_refresh import WeeklyRefreshService
from bot.settings import Settings
from bot.spotify.app import SpotifyApp
from bot.spotify.gate import RequestBudget, SpotifyGate
from classifier import Classifier
from storage import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    classifier: Classifier
    spotify_app: SpotifyApp
    linking: LinkService
    sorting: SortService
    sources: SourceService
    weekly_refresh: WeeklyRefreshService
    stats: StatsService
    synced_commands: SyncedCommands
    _resources: AsyncExitStack = field(repr=False)

    @classmethod
    async def open(
        cls, settings: Settings, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> Services:
        async with AsyncExitStack() as resources:
            db = await Database.open(settings.resolved_database_path, encryption_keys=settings.encryption_keys)
            resources.push_async_callback(db.close)
            rerun, interrupted = await db.recover_interrupted_runs()
            if interrupted:
                log.warning("marked %d run(s) interrupted by a restart as failed", interrupted)
            if rerun:
                log.warning("%d weekly refresh(es) cut off by the restart will run again", rerun)
            classifier = await asyncio.to_thread(Classifier.load, settings.model_dir, threads=settings.torch_threads)
            dropped = await db.genre_probabilities.drop_other_versions(classifier.answers_version)
            if dropped:
                log.info("dropped %d song probabilities cached for another model or build", dropped)
            spotify_app = SpotifyApp(
                client_id=settings.spotify_client_id or "",
                client_secret=settings.spotify_client_secret.get_secret_value()
                if settings.spotify_client_secret
                else "",
                redirect_uri=settings.spotify_redirect_uri,
                api_base=settings.spotify_api_base,
                accounts_base=settings.spotify_accounts_base,
                # One gate for every Spotify call of the process; quota pauses on the services' clock.
                gate=SpotifyGate(RequestBudget(settings.spotify_request_budget), wall_clock=clock),
            )
            resources.callback(spotify_app.close)
            classify_pool = ThreadPoolExecutor(settings.classify_concurrency, thread_name_prefix="classify")
            resources.callback(classify_pool.shutdown, wait=False, cancel_futures=True)
            # One pool of Spotify page readers for the whole process (see fetch_liked_songs).
            read_pool = ThreadPoolExecutor(
                max(4, settings.spotify_read_concurrency * 2), thread_name_prefix="spotify-read"
            )
            resources.callback(read_pool.shutdown, wait=False, cancel_futures=True)

            discord_identity = None
            if settings.discord_client_id and settings.discord_client_secret:
                discord_identity = DiscordIdentity(
                    settings.discord_client_id,
                    settings.discord_client_secret.get_secret_value(),
                    redirect_uri=LinkAddresses.beside(
                        settings.spotify_redirect_uri, settings.spotify_accounts_base
                    ).discord_callback_url,
                    api_base=settings.discord_api_base,
                )
                resources.push_async_callback(discord_identity.close)
            linking = LinkService(db, spotify_app, discord_identity=discord_identity)
            sorting = SortService(
                db,
                linking,
                await AudioFeatures.load(db),
                classifier,
                classify_pool=classify_pool,
                read_pool=read_pool,
                read_concurrency=settings.spotify_read_concurrency,
                max_concurrent_sorts=settings.sort_concurrency,
                clock=clock,
            )
            resources.push_async_callback(sorting.close)  # sorts stop before what they use closes
            sources = SourceService(db, linking)
            resources.push_async_callback(sources.close)
            services = cls(
                settings=settings,
                db=db,
                classifier=classifier,
                spotify_app=spotify_app,
                linking=linking,
                sorting=sorting,
                sources=sources,
                weekly_refresh=WeeklyRefreshService(db, sorting, sources, clock=clock),
                stats=StatsService(db, classifier.version, classifier.taxonomy),
                synced_commands=SyncedCommands(db),
                _resources=resources.pop_all(),
            )
        freeze_start_up_heap()
        return services

    async def close(self) -> None:
        """Release the resources in the reverse order of opening: running work (playlist fetches,
        sorts) stops first, then the pools, the Spotify session and the database close."""
        await self._resources.aclose()


@functools.cache
def freeze_start_up_heap() -> None:
    """Once per process, after the first start-up: keep what start-up built (torch, the model,
    discord.py, matplotlib...) out of every later garbage collection.

    Otherwise a sort's parsed pages trigger full collections that walk all of it with the GIL
    held: ~190 ms in which every request of every sort waits (measured in a 5,000-song first
    sort; bench/RESULTS.md section 2). Objects alive at start-up live as long as the process, so
    nothing is lost by never collecting them; garbage is collected first so none is kept."""
    gc.collect()
    gc.freeze()
