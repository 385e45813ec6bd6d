"""Reading a member's Liked Songs, all of them or only what is new, without silently missing any.

Liked Songs come newest first, 50 to a page, addressed by offset. A full read fetches the first
page (which gives the total), then the rest concurrently. Songs liked or un-liked during the read
move every later page, so the oldest songs would fall off the end unseen: every page also gives
the total, and a read whose pages disagree about it, or that meets a song on two pages, is read
again (`MAX_FULL_READS` times, then `LibraryChangedDuringRead`). What a full read cannot store is
counted by reason, as a playlist read counts it: local files, songs Spotify no longer serves, and
songs Spotify counts in the total but leaves out of its pages (spotify/web-api#212).

An incremental read walks from the newest page and stops at the first page that holds a song it
already knows, so a weekly refresh costs a request or two. It cannot see un-liked songs; the
total it returns lets the caller notice that the library is not what it knows (see
`bot.services.sorting.reading`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from bot.spotify.client import PAGE_SIZE, SKIPPED_UNLISTED, LikedPage, SpotifyUserClient
from bot.spotify.errors import LibraryChangedDuringRead
from music import Track

ProgressFn = Callable[[int, int], None]
# Each page's songs as soon as it is read (from the reading thread), so a caller can start on them.
PageFn = Callable[[list[tuple[Track, datetime]]], None]
MAX_FULL_READS = 3


@dataclass(frozen=True)
class LikedSongsFetch:
    new: list[tuple[Track, datetime]]  # a full read: every liked song; incremental: the unknown ones
    total: int  # entries in the member's Liked Songs, as Spotify counts them (local files too)
    complete: bool  # True when every page was read (a full read)
    requests_made: int
    reads: int = 1  # full reads it took (more than one when the library moved during a read)
    # A full read: client.SKIPPED_* reason -> entries that are not songs genrebot can sort (local
    # files, songs Spotify no longer serves, songs it counts but does not list). Empty for an
    # incremental read, which sees only the newest.
    skipped: Counter[str] = field(default_factory=Counter)


def fetch_liked_songs(
    client: SpotifyUserClient,
    known_ids: set[str],
    *,
    concurrency: int = 8,
    progress: ProgressFn | None = None,
    executor: Executor | None = None,
    on_page: PageFn | None = None,
) -> LikedSongsFetch:
    """Liked Songs newest first; only the new ones when `known_ids` is given. `executor`: a pool
    shared by every sort in the process, so a crowd of sorts does not start a crowd of threads.
    `on_page` gets each page's songs as it is read (a full read that is read again hands its
    pages over again): a preview, since only the returned fetch says what the library is."""
    before = client.requests_made
    if known_ids:
        new, total = _incremental(client, known_ids, progress, on_page)
        return LikedSongsFetch(new, total, complete=False, requests_made=client.requests_made - before)
    own_pool = executor is None
    pool = executor or ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="liked")
    try:
        for attempt in range(1, MAX_FULL_READS + 1):
            everything, total, skipped, consistent = _full_read(client, pool, progress, on_page)
            if consistent:
                # Spotify may count songs it leaves out of every page (spotify/web-api#212).
                unlisted = total - len(everything) - sum(skipped.values())
                if unlisted > 0:
                    skipped[SKIPPED_UNLISTED] = unlisted
                return LikedSongsFetch(everything, total, True, client.requests_made - before, attempt, skipped)
    finally:
        if own_pool:
            pool.shutdown()
    raise LibraryChangedDuringRead()


def _incremental(
    client: SpotifyUserClient, known_ids: set[str], progress: ProgressFn | None, on_page: PageFn | None = None
) -> tuple[list[tuple[Track, datetime]], int]:
    """The songs liked since, newest first: pages until one holds a song already known."""
    page = client.liked_songs_page(0)
    total = page.total
    new = [(t, at) for t, at in page.items if t.id not in known_ids]
    if on_page:
        on_page(new)
    if progress:
        progress(len(page.items), total)
    seen = {t.id for t, _ in new}
    offset = 0
    # Newest first: once a page holds a song we know, everything after it is known too.
    while page.next_offset is not None and all(t.id not in known_ids for t, _ in page.items):
        offset = page.next_offset
        page = client.liked_songs_page(offset)
        total = max(total, page.total)
        newly = len(new)
        for track, added_at in page.items:
            if track.id not in known_ids and track.id not in seen:  # a song may move onto the next page
                seen.add(track.id)
                new.append((track, added_at))
        if on_page:
            on_page(new[newly:])
        if progress:
            progress(min(offset + PAGE_SIZE, total), total)
    return new, total


def _full_read(
    client: SpotifyUserClient, pool: Executor, progress: ProgressFn | None, on_page: PageFn | None = None
) -> tuple[list[tuple[Track, datetime]], int, Counter[str], bool]:
    """Every page at once, and what they skipped; False when the library moved under the read
    (totals differ, or a song showed up on two pages)."""
    first = client.liked_songs_page(0)
    total = first.total
    if on_page:
        on_page(first.items)
    if progress:
        progress(len(first.items), total)
    pages: dict[int, LikedPage] = {0: first}
    read = len(first.items)
    offsets = list(range(PAGE_SIZE, total, PAGE_SIZE))
    for offset, page in zip(offsets, pool.map(client.liked_songs_page, offsets), strict=True):
        pages[offset] = page
        read += len(page.items)
        if on_page:
            on_page(page.items)
        if progress:
            progress(min(read, total), total)
    everything, repeated = _in_order([pages[offset].items for offset in sorted(pages)])
    consistent = not repeated and all(page.total == total for page in pages.values())
    return everything, total, sum((page.skipped for page in pages.values()), Counter()), consistent


def _in_order(pages: Sequence[list[tuple[Track, datetime]]]) -> tuple[list[tuple[Track, datetime]], bool]:
    """The pages' songs in order, each once; True if some song was met twice."""
    everything: list[tuple[Track, datetime]] = []
    seen: set[str] = set()
    repeated = False
    for items in pages:
        for track, added_at in items:
            if track.id in seen:
                repeated = True
                continue
            seen.add(track.id)
            everything.append((track, added_at))
    return everything, repeated
