"""Step 1 of a sort: read the member's Liked Songs from Spotify into storage.

A full read replaces the member's stored list; an incremental read (the weekly refresh) adds
only the songs liked since, and costs a request or two. Songs new to the member are stored with
their audio features where the app gets them; songs already known keep what they have.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, replace

from bot.services.audio_features import AudioFeatures
from bot.services.sorting.report import ReportProgress, SortProgress
from bot.spotify.client import SpotifyUserClient
from bot.spotify.library_sync import fetch_liked_songs
from music import LikedSong, Track
from storage import Database


@dataclass(frozen=True)
class LibraryRead:
    track_ids: list[str]  # every song in the member's Liked Songs after this read, newest first
    new_ids: set[str]  # the songs among them this member had not liked before


@dataclass(frozen=True)
class LikedSongsReader:
    db: Database
    audio_features: AudioFeatures
    read_pool: Executor  # shared by every sort in the process (see fetch_liked_songs)
    read_concurrency: int

    async def read(
        self, discord_id: int, client: SpotifyUserClient, *, incremental: bool, report_progress: ReportProgress
    ) -> LibraryRead:
        known_ids = await self.db.liked.known_ids(discord_id)
        loop = asyncio.get_running_loop()

        def on_page(done: int, total: int) -> None:
            loop.call_soon_threadsafe(report_progress, SortProgress("reading", done, total))

        fetched = await asyncio.to_thread(
            fetch_liked_songs,
            client,
            known_ids if incremental else set(),
            concurrency=self.read_concurrency,
            progress=on_page,
            executor=self.read_pool,
        )
        new_tracks = [track for track, _ in fetched.new if track.id not in known_ids]
        await self.db.tracks.upsert_many(await self._with_audio_features(client, new_tracks))
        liked = [LikedSong(track.id, added_at) for track, added_at in fetched.new]
        if incremental:
            await self.db.liked.add_many(discord_id, liked)
        else:
            await self.db.liked.replace_all(discord_id, liked)
        everything = await self.db.liked.list(discord_id)
        return LibraryRead([song.track_id for song in everything], {track.id for track in new_tracks})

    async def _with_audio_features(self, client: SpotifyUserClient, tracks: list[Track]) -> list[Track]:
        features = await self.audio_features.for_tracks(client, [t.id for t in tracks])
        return [replace(t, audio_features=features[t.id]) if features.get(t.id) else t for t in tracks]
