"""Step 4 of a sort: make each planned playlist in the member's Spotify hold its songs.

Playlists genrebot made before from the same source are reused (their ids are in storage, per
source and genre), others are made; a playlist's name says its source unless that is Liked Songs
("Rock · Road Trip · genrebot"). A weekly
refresh that only added songs inserts them at the top (Liked Songs) or the end (a playlist)
instead of rewriting the playlist. A
playlist made but not filled is remembered, so the next run fills it instead of making another.
A dry run writes nothing and says what would happen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.services.playlist_plan import PlaylistPlan, genre_label, playlist_name, shorten
from bot.services.sorting.report import PlaylistOutcome, ReportProgress, SortProgress
from bot.spotify.client import SpotifyUserClient
from bot.spotify.errors import PlaylistWriteFailed
from bot.spotify.playlist_sync import PlaylistWrite, write_playlist
from music import LIKED_SONGS, SortSource
from storage import Database
from storage.records import PlaylistRecord

PLAYLIST_WRITE_CONCURRENCY = 4
DESCRIPTION_LIMIT = 300  # Spotify answers 500 to a longer playlist description
SOURCE_NAME_IN_DESCRIPTION = 100


def source_playlist_name(key: str, source: SortSource) -> str:
    """The name of the playlist of genre `key` sorted from `source`."""
    return playlist_name(key, None if source.is_liked_songs else source.name)


def playlist_description(key: str, source: SortSource, songs: int, today: str) -> str:
    """One line (Spotify refuses line breaks) of at most 300 characters."""
    origin = "your Liked Songs" if source.is_liked_songs else f"your playlist “{shorten(source.name, SOURCE_NAME_IN_DESCRIPTION)}”"
    text = f"{genre_label(key)} songs from {origin}, sorted by genrebot on {today} ({songs} songs)."
    return shorten(text, DESCRIPTION_LIMIT)


@dataclass(frozen=True)
class PlaylistWriter:
    db: Database
    clock: Callable[[], datetime]

    async def preview(
        self, discord_id: int, plan: PlaylistPlan, new_ids: set[str], source: SortSource = LIKED_SONGS
    ) -> list[PlaylistOutcome]:
        """What `write` would do, touching nothing (a dry run)."""
        existing = await self.db.playlists.get_all(discord_id, source.key)
        outcomes = []
        for key, ids in plan.playlists.items():
            record = existing.get(key)
            outcomes.append(
                PlaylistOutcome(
                    key,
                    source_playlist_name(key, source),
                    record.playlist_id if record else None,
                    record.url if record else None,
                    len(ids),
                    _count_new(ids, new_ids),
                    created=False,
                )
            )
        return outcomes

    async def write(
        self,
        discord_id: int,
        client: SpotifyUserClient,
        plan: PlaylistPlan,
        new_ids: set[str],
        *,
        incremental: bool,
        report_progress: ReportProgress,
        source: SortSource = LIKED_SONGS,
    ) -> list[PlaylistOutcome]:
        """Write every planned playlist, a few at a time; the first failure is raised after all ran."""
        existing = await self.db.playlists.get_all(discord_id, source.key)
        today = self.clock().strftime("%Y-%m-%d")
        slots = asyncio.Semaphore(PLAYLIST_WRITE_CONCURRENCY)
        total = len(plan.playlists)
        written = 0
        report_progress(SortProgress("writing", 0, total))

        async def write_one(key: str, ids: list[str]) -> PlaylistOutcome:
            nonlocal written
            record = existing.get(key)
            # Liked Songs gain songs at the top, playlists usually at the end: add just those.
            at_end = not source.is_liked_songs
            added = _new_songs_only(record, ids, new_ids, at_end=at_end) if incremental else None
            prepend, append = (None, added) if at_end else (added, None)
            async with slots:
                result = await self._write_playlist(
                    discord_id, client, key, ids, record, prepend, append, today, source
                )
            await self.db.playlists.upsert(
                PlaylistRecord(discord_id, key, result.id, result.url, len(ids), self.clock(), source.key)
            )
            written += 1
            report_progress(SortProgress("writing", written, total))
            return PlaylistOutcome(
                key,
                source_playlist_name(key, source),
                result.id,
                result.url,
                len(ids),
                _count_new(ids, new_ids),
                result.created,
            )

        results = await asyncio.gather(
            *(write_one(key, ids) for key, ids in plan.playlists.items()), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
        return [r for r in results if isinstance(r, PlaylistOutcome)]

    async def _write_playlist(
        self,
        discord_id: int,
        client: SpotifyUserClient,
        key: str,
        ids: list[str],
        record: PlaylistRecord | None,
        prepend: list[str] | None,
        append: list[str] | None,
        today: str,
        source: SortSource,
    ) -> PlaylistWrite:
        try:
            return await asyncio.to_thread(
                write_playlist,
                client,
                existing_id=record.playlist_id if record else None,
                name=source_playlist_name(key, source),
                description=playlist_description(key, source, len(ids), today),
                uris=[_uri(t) for t in ids],
                prepend=prepend,
                append=append,
            )
        except PlaylistWriteFailed as failed:
            if failed.playlist_id and (record is None or record.playlist_id != failed.playlist_id):
                # Keep the new playlist's id so the next run fills it instead of making another.
                await self.db.playlists.upsert(
                    PlaylistRecord(discord_id, key, failed.playlist_id, failed.url or "", 0, self.clock(), source.key)
                )
            raise


def _new_songs_only(
    record: PlaylistRecord | None, ids: list[str], new_ids: set[str], *, at_end: bool
) -> list[str] | None:
    """The new songs alone, when the playlist already holds exactly the rest.

    New liked songs are the newest, so they lead the list; songs added to a playlist source
    usually follow the rest. If the new songs sit at that edge of the list and the stored
    playlist holds the others (same count), adding just them gives the full list in a request
    or two (none when nothing is new). Otherwise (songs removed, or added in the middle), None:
    the playlist is rewritten. A source only reordered keeps its genre playlists' order.
    """
    fresh = [t for t in ids if t in new_ids]
    edge = ids[len(ids) - len(fresh) :] if at_end else ids[: len(fresh)]
    if record is None or edge != fresh or record.track_count != len(ids) - len(fresh):
        return None
    return [_uri(t) for t in fresh]


def _count_new(ids: Sequence[str], new_ids: set[str]) -> int:
    return sum(1 for t in ids if t in new_ids)


def _uri(track_id: str) -> str:
    return f"spotify:track:{track_id}"
