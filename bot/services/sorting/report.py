"""What a sort tells its caller: progress while it runs, and the report at the end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.services.known_artists import KnownArtists
from music import LIKED_SONGS, SortSource

log = logging.getLogger(__name__)

Stage = Literal["waiting", "reading", "classifying", "writing", "done"]  # waiting: for a free sort slot


@dataclass(frozen=True)
class SortProgress:
    stage: Stage
    done: int
    total: int


ProgressCallback = Callable[[SortProgress], Awaitable[None]]
ReportProgress = Callable[[SortProgress], None]


@dataclass(frozen=True)
class PlaylistOutcome:
    key: str
    name: str
    playlist_id: str | None  # None on a dry run of a playlist not made yet
    url: str | None
    count: int
    new_count: int
    created: bool
    label: str | None = None  # what the playlist is named after ("Jazz & Blues", "K-Pop")
    # A playlist of an earlier sort emptied and kept: its genre fell short this time, or it is an
    # older model's whose new key has a playlist of its own.
    emptied: bool = False


@dataclass
class SortReport:
    run_id: int
    discord_id: int
    model_version: str
    playlists: list[PlaylistOutcome]  # the playlists this sort filled (or would, on a dry run)
    unsorted: int
    not_chosen: int
    total_songs: int
    new_songs: int
    classified: int  # songs this run classified; the others had a stored prediction from this model
    dry_run: bool
    genre_mix: dict[str, int]
    chart_png: bytes | None  # the family mix drawn; None when there was no song to chart
    timings: dict[str, float] = field(default_factory=dict)
    source: SortSource = LIKED_SONGS  # what was sorted, with the name Spotify gave it at this read
    skipped: dict[str, int] = field(default_factory=dict)  # why entries of the source were not songs -> how many
    duplicates: int = 0  # entries repeating a song already in the source (sorted once)
    # The member's token predates playlist-read-collaborative: their shared playlists go unlisted.
    collaborative_playlists_hidden: bool = False
    known_artists: KnownArtists = KnownArtists(0, 0)  # of the songs placed, how many by artists the model knows
    # Playlists of an earlier sort that held songs and hold none now (or would not, on a dry run):
    # their family or genre fell short of the minimum, or an older model's key was replaced.
    emptied: list[PlaylistOutcome] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


def progress_reporter(callback: ProgressCallback | None) -> ReportProgress:
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
