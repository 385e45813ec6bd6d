"""Whether this Spotify app gets audio features, and fetching them where it does.

Spotify stopped serving audio features to new and development-mode apps in 2024: most apps get
403 (`AudioFeaturesUnavailable`, raised by the client from the status code). That is a fact
about the app, not about a member, so it is learned once, kept in storage across restarts, and
every later sort skips the request. This class is the only place that knows the answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.spotify.client import SpotifyUserClient
from bot.spotify.errors import AudioFeaturesUnavailable
from storage import Database

log = logging.getLogger(__name__)
UNAVAILABLE_STATE = "spotify.audio_features"  # app_state key; the value "unavailable" is the fact


class AudioFeatures:
    def __init__(self, db: Database, *, available: bool | None = None) -> None:
        self.db = db
        # None: not asked yet; False: Spotify refuses them to this app; True: it serves them.
        self._available = available
        self._first_answer = asyncio.Lock()

    @classmethod
    async def load(cls, db: Database) -> AudioFeatures:
        """Start from what an earlier run learned, so a restart does not ask again."""
        unavailable = await db.app_state.get(UNAVAILABLE_STATE) == "unavailable"
        return cls(db, available=False if unavailable else None)

    @property
    def available(self) -> bool | None:
        return self._available

    async def for_tracks(self, client: SpotifyUserClient, track_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """Audio features by track id; {} where this app gets none."""
        if self._available is False or not track_ids:
            return {}
        if self._available is None:
            # The first sorts to ask wait for one answer instead of each asking.
            async with self._first_answer:
                if self._available is None:
                    return await self._fetch(client, track_ids)
            if self._available is False:
                return {}
        return await self._fetch(client, track_ids)

    async def _fetch(self, client: SpotifyUserClient, track_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        try:
            features = await asyncio.to_thread(client.audio_features, list(track_ids))
        except AudioFeaturesUnavailable:
            await self._learn_unavailable()
            return {}
        self._available = True
        return features

    async def _learn_unavailable(self) -> None:
        if self._available is False:
            return
        self._available = False
        log.warning(
            "Spotify refuses /audio-features to this app (new and development-mode apps since 2024): "
            "classifying on metadata alone."
        )
        await self.db.app_state.set(UNAVAILABLE_STATE, "unavailable")
