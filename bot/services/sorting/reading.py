"""Step 1 of a sort: read the source (the member's Liked Songs, or one of their playlists) from
Spotify into storage.

Liked Songs: a full read replaces the member's stored list; an incremental read (the weekly
refresh) adds only the songs liked since, and costs a request or two. An incremental read cannot
see songs the member un-liked, so it becomes a full read when Spotify's count of Liked Songs
disagrees with what genrebot knows (stored songs, the new ones, and the local files and
unplayable entries the last full read counted but could not store), and at least every
`RECONCILE_EVERY` anyway. The full read's time and that uncounted number (with the local files
and unavailable songs among them, by reason, which every sort tells the member) are kept per
member beside their Liked Songs (and forgotten with them). A playlist is read whole every time (new songs can be anywhere in it), and compared
with what its last read found to tell which songs are new. Songs new to the member are stored
with their audio features where the app gets them; songs already known keep what they have.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.services.audio_features import AudioFeatures
from bot.services.sorting.report import ReportProgress, SortProgress
from bot.spotify.client import SpotifyUserClient
from bot.spotify.library_sync import LikedSongsFetch, PageFn, fetch_liked_songs
from bot.spotify.playlist_source import fetch_playlist
from music import LIKED_SONGS, LikedSong, SortSource, Track
from storage import Database

RECONCILE_EVERY = timedelta(days=28)  # the longest an un-liked song stays in a playlist


@dataclass(frozen=True)
class FullReadNote:
    at: datetime
    uncounted: int  # entries Spotify counts that are not stored songs (local files, unplayable)
    skipped: Mapping[str, int] = field(default_factory=dict)  # of those, the ones seen, by reason (told to the member)


@dataclass(frozen=True)
class LibraryRead:
    track_ids: list[str]  # every song in the source after this read, in its order (Liked Songs: newest first)
    new_ids: set[str]  # the songs among them the last read of this source did not find
    source: SortSource = LIKED_SONGS  # with the name Spotify gave it at this read
    skipped: Mapping[str, int] = field(default_factory=dict)  # reason -> entries that are not sortable songs
    duplicates: int = 0
    full: bool = True  # Liked Songs: every page was read, so songs un-liked since are gone too
    # Songs this read stored, by id, exactly as storage now holds them: classifying them needs
    # no second trip to storage (the other songs are read from it).
    stored: Mapping[str, Track] = field(default_factory=dict)


async def _with_audio_features(audio_features: AudioFeatures, client: SpotifyUserClient, tracks: list[Track]) -> list[Track]:
    features = await audio_features.for_tracks(client, [t.id for t in tracks])
    return [replace(t, audio_features=features[t.id]) if features.get(t.id) else t for t in tracks]


async def _store_tracks(db: Database, tracks: list[Track]) -> dict[str, Track]:
    """Store the songs; returns them as stored: a song read without audio features keeps those
    an earlier read stored (`TrackRepository.upsert_many`)."""
    await db.tracks.upsert_many(tracks)
    kept = await db.tracks.stored_audio_features([t.id for t in tracks if not t.audio_features])
    return {t.id: replace(t, audio_features=kept[t.id]) if t.id in kept else t for t in tracks}


def _newest_first(liked: list[LikedSong]) -> list[str]:
    """The songs in the order `LikedSongRepository.list` gives them: newest first, ties as read."""
    return [song.track_id for song in sorted(liked, key=lambda song: -song.added_at.timestamp())]


def _page_progress(report_progress: ReportProgress) -> Callable[[int, int], None]:
    """A progress callback for the reading thread that reports on the event loop."""
    loop = asyncio.get_running_loop()

    def on_page(done: int, total: int) -> None:
        loop.call_soon_threadsafe(report_progress, SortProgress("reading", done, total))

    return on_page


@dataclass(frozen=True)
class LikedSongsReader:
    db: Database
    audio_features: AudioFeatures
    read_pool: Executor  # shared by every sort in the process (see fetch_liked_songs)
    read_concurrency: int
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    async def read(
        self, discord_id: int, client: SpotifyUserClient, *, incremental: bool, report_progress: ReportProgress,
        on_page: PageFn | None = None,
    ) -> LibraryRead:
        """`on_page` gets each page's songs as it is read (from the reading thread)."""
        known_ids = await self.db.liked.known_ids(discord_id)
        note = await self._last_full_read(discord_id)
        progress = _page_progress(report_progress)

        async def fetch(known: set[str]) -> LikedSongsFetch:
            return await asyncio.to_thread(
                fetch_liked_songs,
                client,
                known,
                concurrency=self.read_concurrency,
                progress=progress,
                executor=self.read_pool,
                on_page=on_page,
            )

        fetched = None
        if incremental and known_ids and not self._reconcile_due(note):
            fetched = await fetch(known_ids)
            assert note is not None
            if fetched.total != len(known_ids) + len(fetched.new) + note.uncounted:
                fetched = None  # songs were un-liked (or moved): read everything
        if fetched is None:
            fetched = await fetch(set())
        new_tracks = [track for track, _ in fetched.new if track.id not in known_ids]
        stored = await _store_tracks(self.db, await _with_audio_features(self.audio_features, client, new_tracks))
        liked = [LikedSong(track.id, added_at) for track, added_at in fetched.new]
        if fetched.complete:
            await self.db.liked.replace_all(discord_id, liked)
            skipped: Mapping[str, int] = dict(fetched.skipped)
            await self._note_full_read(discord_id, FullReadNote(self.clock(), fetched.total - len(liked), skipped))
            track_ids = _newest_first(liked)  # what storage now lists, without reading it back
        else:
            assert note is not None  # an incremental read is kept only when the counts agree with the note
            skipped = note.skipped  # they agree, so the entries genrebot cannot sort are those it last saw
            await self.db.liked.add_many(discord_id, liked)
            track_ids = [song.track_id for song in await self.db.liked.list(discord_id)]
        return LibraryRead(track_ids, set(stored), skipped=skipped, full=fetched.complete, stored=stored)

    def _reconcile_due(self, note: FullReadNote | None) -> bool:
        return note is None or self.clock() - note.at >= RECONCILE_EVERY

    async def _last_full_read(self, discord_id: int) -> FullReadNote | None:
        raw = await self.db.liked.full_read_note(discord_id)  # {"at": iso, "uncounted": n, "skipped": {reason: n}}
        try:
            data = json.loads(raw) if raw else None
            if not data:
                return None
            # "skipped" is absent from notes written before genrebot told Liked Songs' skipped entries.
            skipped = {str(reason): int(count) for reason, count in (data.get("skipped") or {}).items()}
            return FullReadNote(datetime.fromisoformat(data["at"]), int(data["uncounted"]), skipped)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # unreadable: the next read is a full one and writes it again

    async def _note_full_read(self, discord_id: int, note: FullReadNote) -> None:
        value = json.dumps({"at": note.at.isoformat(), "uncounted": max(0, note.uncounted), "skipped": dict(note.skipped)})
        await self.db.liked.note_full_read(discord_id, value)


@dataclass(frozen=True)
class PlaylistReader:
    """Reads one of the member's playlists whole; raises PlaylistNotReadable / PlaylistNotFound."""

    db: Database
    audio_features: AudioFeatures
    read_pool: Executor
    read_concurrency: int

    async def read(
        self, discord_id: int, client: SpotifyUserClient, source: SortSource, *, report_progress: ReportProgress
    ) -> LibraryRead:
        assert source.playlist_id is not None, "Liked Songs are read by LikedSongsReader"
        known_ids = await self.db.source_tracks.known_ids(discord_id, source.key)
        on_page = _page_progress(report_progress)
        fetched = await asyncio.to_thread(
            fetch_playlist,
            client,
            source.playlist_id,
            concurrency=self.read_concurrency,
            progress=on_page,
            executor=self.read_pool,
        )
        new_tracks = [track for track in fetched.tracks if track.id not in known_ids]
        known_tracks = [track for track in fetched.tracks if track.id in known_ids]
        stored = await _store_tracks(
            self.db, [*await _with_audio_features(self.audio_features, client, new_tracks), *known_tracks]
        )
        track_ids = [track.id for track in fetched.tracks]
        await self.db.source_tracks.replace_all(discord_id, source.key, track_ids)
        return LibraryRead(
            track_ids,
            {track.id for track in new_tracks},
            SortSource(source.playlist_id, fetched.playlist.name or source.name),
            dict(fetched.skipped),
            fetched.duplicates,
            stored=stored,
        )
