"""The composition root for everything but Discord: storage, model, Spotify app, services.

`Runtime.open()` builds them once, in order, and `close()` releases them in reverse. The bot,
the demo and the command line all start here, so they run the very same services.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.services.accounts import SpotifyAccounts
from bot.services.refresh import RefreshService
from bot.services.sorting import SortService
from bot.services.stats import StatsService
from bot.settings import Settings
from bot.spotify.app import SpotifyApp
from classifier import Classifier
from storage import Database

log = logging.getLogger(__name__)
AUDIO_FEATURES_STATE = "spotify.audio_features"


@dataclass
class Runtime:
    settings: Settings
    db: Database
    classifier: Classifier
    spotify: SpotifyApp
    accounts: SpotifyAccounts
    sorter: SortService
    refresher: RefreshService
    stats: StatsService
    classify_pool: ThreadPoolExecutor
    clock: Callable[[], datetime]

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        redirect_uri: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Runtime:
        db = await Database.open(
            settings.resolved_database_path,
            encryption_keys=settings.encryption_keys,
        )
        try:
            interrupted = await db.runs.fail_interrupted()
            if interrupted:
                log.warning("marked %d run(s) interrupted by a restart as failed", interrupted)
            model_dir: Path | None = settings.model_dir
            classifier = await asyncio.to_thread(Classifier.load, model_dir, threads=settings.torch_threads)
            secret = settings.spotify_client_secret.get_secret_value() if settings.spotify_client_secret else ""
            spotify = SpotifyApp(
                client_id=settings.spotify_client_id or "",
                client_secret=secret,
                redirect_uri=redirect_uri or settings.spotify_redirect_uri,
                api_base=settings.spotify_api_base,
                accounts_base=settings.spotify_accounts_base,
            )
            if await db.app_state.get(AUDIO_FEATURES_STATE) == "unavailable":
                spotify.audio_features_available = False
        except BaseException:
            await db.close()
            raise
        pool = ThreadPoolExecutor(settings.classify_concurrency, thread_name_prefix="classify")
        accounts = SpotifyAccounts(db, spotify)
        sorter = SortService(
            db,
            accounts,
            classifier,
            classify_pool=pool,
            read_concurrency=settings.spotify_read_concurrency,
            max_concurrent_sorts=settings.sort_concurrency,
            clock=clock,
        )
        return cls(
            settings=settings,
            db=db,
            classifier=classifier,
            spotify=spotify,
            accounts=accounts,
            sorter=sorter,
            refresher=RefreshService(db, sorter, clock=clock),
            stats=StatsService(db, classifier.version),
            classify_pool=pool,
            clock=clock,
        )

    async def remember_app_facts(self) -> None:
        """Persist what we learned about the Spotify app (no audio features) across restarts."""
        if self.spotify.audio_features_available is False:
            await self.db.app_state.set(AUDIO_FEATURES_STATE, "unavailable")

    async def close(self) -> None:
        await self.remember_app_facts()
        self.classify_pool.shutdown(wait=False, cancel_futures=True)
        self.sorter.read_pool.shutdown(wait=False, cancel_futures=True)
        await self.db.close()
