"""Reading a member's Liked Songs, all of them or only what is new.

Liked Songs come newest first, 50 to a page. A full read fetches the first page (which gives
the total), then the rest concurrently. An incremental read walks from the newest page and stops
at the first page that holds a song it already knows, so a weekly refresh costs a request or two.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from bot.spotify.client import PAGE_SIZE, SpotifyUserClient
from music import Track

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class LikedSongsFetch:
    new: list[tuple[Track, datetime]]  # a full read: every liked song; incremental: the unknown ones
    total: int  # songs in the member's Liked Songs
    complete: bool  # True when every page was read (a full read)
    requests_made: int


def fetch_liked_songs(
    client: SpotifyUserClient,
    known_ids: set[str],
    *,
    concurrency: int = 8,
    progress: ProgressFn | None = None,
    executor: Executor | None = None,
) -> LikedSongsFetch:
    """Liked Songs newest first. `executor`: a pool shared by every sort in the process, so a
    crowd of sorts does not start a crowd of threads competing with the event loop."""
    before = client.requests_made
    first = client.liked_songs_page(0)
    total = first.total
    if progress:
        progress(len(first.items), total)

    if known_ids:
        new = [(t, at) for t, at in first.items if t.id not in known_ids]
        page = first
        offset = 0
        # Newest first: once a page holds a song we know, everything after it is known too.
        while page.next_offset is not None and all(t.id not in known_ids for t, _ in page.items):
            offset = page.next_offset
            page = client.liked_songs_page(offset)
            new.extend((t, at) for t, at in page.items if t.id not in known_ids)
            if progress:
                progress(min(offset + PAGE_SIZE, total), total)
        return LikedSongsFetch(new, total, complete=False, requests_made=client.requests_made - before)

    offsets = list(range(PAGE_SIZE, total, PAGE_SIZE))
    pages: dict[int, list[tuple[Track, datetime]]] = {0: first.items}
    read = len(first.items)
    if offsets:
        own_pool = executor is None
        pool = executor or ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="liked")
        try:
            for offset, page in zip(offsets, pool.map(client.liked_songs_page, offsets), strict=True):
                pages[offset] = page.items
                read += len(page.items)
                if progress:
                    progress(read, total)
        finally:
            if own_pool:
                pool.shutdown()
    everything: list[tuple[Track, datetime]] = []
    seen: set[str] = set()
    for offset in sorted(pages):
        for track, added_at in pages[offset]:
            if track.id not in seen:  # a song liked twice while we paged shows up once
                seen.add(track.id)
                everything.append((track, added_at))
    return LikedSongsFetch(everything, total, complete=True, requests_made=client.requests_made - before)
