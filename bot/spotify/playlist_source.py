"""Reading one of the member's playlists as the source of a sort.

Items come 50 to a page through `GET /playlists/{id}/items`. The first page gives the total;
the rest are read concurrently on the shared pool. A read of several pages is checked against
the playlist's snapshot id: if the playlist changed while it was read (pages shift under
offsets), it is read again, a few times at most. Local files, podcast episodes and songs Spotify
no longer serves cannot be sorted: they are skipped and counted by reason. A song that appears
twice is sorted once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from bot.spotify.client import PAGE_SIZE, PlaylistItemsPage, PlaylistSummary, SpotifyUserClient
from bot.spotify.errors import PlaylistNotReadable
from music import Track

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
MAX_READS = 3  # a playlist edited during every read is taken as the last read found it


@dataclass(frozen=True)
class PlaylistFetch:
    playlist: PlaylistSummary
    tracks: list[Track]  # the playlist's songs in its order, each once
    skipped: Counter[str]  # reason (client.SKIPPED_*) -> entries that are not sortable songs
    duplicates: int  # entries repeating a song already listed
    requests_made: int


def fetch_playlist(
    client: SpotifyUserClient,
    playlist_id: str,
    *,
    concurrency: int = 8,
    progress: ProgressFn | None = None,
    executor: Executor | None = None,
) -> PlaylistFetch:
    """Every item of a playlist the member owns or collaborates on.

    Raises PlaylistNotFound for an unknown id and PlaylistNotReadable (with the playlist's
    name and owner) when Spotify refuses its items to this member."""
    before = client.requests_made
    playlist = client.playlist_details(playlist_id)
    for attempt in range(1, MAX_READS + 1):
        try:
            pages = _read_pages(client, playlist_id, concurrency, progress, executor)
        except PlaylistNotReadable:
            raise PlaylistNotReadable(playlist_id, playlist.name, playlist.owner_name) from None
        if len(pages) == 1:
            break  # one request reads one version of the playlist
        now = client.playlist_details(playlist_id)
        if now.snapshot_id == playlist.snapshot_id:
            break
        log.info("playlist %s changed while it was read (read %d of %d)", playlist_id, attempt, MAX_READS)
        playlist = now
    tracks: list[Track] = []
    seen: set[str] = set()
    skipped: Counter[str] = Counter()
    duplicates = 0
    for page in pages:
        skipped.update(page.skipped)
        for track in page.tracks:
            if track.id in seen:
                duplicates += 1
                continue
            seen.add(track.id)
            tracks.append(track)
    return PlaylistFetch(playlist, tracks, skipped, duplicates, client.requests_made - before)


def _read_pages(
    client: SpotifyUserClient,
    playlist_id: str,
    concurrency: int,
    progress: ProgressFn | None,
    executor: Executor | None,
) -> list[PlaylistItemsPage]:
    first = client.playlist_items_page(playlist_id, 0)
    total = first.total
    if progress:
        progress(min(PAGE_SIZE, total), total)
    offsets = list(range(PAGE_SIZE, total, PAGE_SIZE))
    pages = [first]
    if not offsets:
        return pages
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="playlist")
    try:
        for offset, page in zip(offsets, pool.map(partial(client.playlist_items_page, playlist_id), offsets), strict=True):
            pages.append(page)
            if progress:
                progress(min(offset + PAGE_SIZE, total), total)
    finally:
        if own_pool:
            pool.shutdown()
    return pages
