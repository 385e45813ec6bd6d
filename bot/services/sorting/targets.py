"""What a sort writes to Spotify: each playlist's slot (genre key and part) and storage key, its
name and description, and a plan's playlists as targets (a genre past Spotify's 10,000 songs in
parts: "Rock · genrebot (2)", kept under `rock#2`). A playlist's name says its source unless that
is Liked Songs ("Rock · Road Trip · genrebot")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.services.genre_names import playlist_name, shorten
from bot.services.playlist_plan import PlaylistPlan
from bot.spotify.own_playlists import PlaylistSlot, fit_name, split_into_parts
from music import LIKED_SONGS, SortSource

SOURCE_NAME_IN_DESCRIPTION = 100


def source_playlist_name(label: str, source: SortSource) -> str:
    """The name of the playlist of a family or genre (by its label) sorted from `source`."""
    return playlist_name(label, None if source.is_liked_songs else source.name)


def playlist_description(label: str, source: SortSource, songs: int, today: str) -> str:
    """What the playlist holds, on one line (`own_playlists.tagged_description` fits it to 300 with the tag)."""
    return f"{label} songs from {origin(source)}, sorted by genrebot on {today} ({songs} songs)."


def origin(source: SortSource) -> str:
    if source.is_liked_songs:
        return "your Liked Songs"
    return f"your playlist “{shorten(source.name, SOURCE_NAME_IN_DESCRIPTION)}”"


@dataclass(frozen=True)
class PlaylistTarget:
    """One Spotify playlist this run writes: a slot (genre key and part) and its songs."""

    slot: PlaylistSlot
    ids: list[str]  # track ids, liked order
    new_count: int
    label: str  # what the playlist is named after ("Jazz & Blues", "K-Pop")
    # Why a playlist this run empties holds no songs (its description, given the date); None for a
    # planned playlist and for a continuation part its genre no longer needs.
    empty_because: Callable[[str], str] | None = None


def record_key(slot: PlaylistSlot) -> str:
    """The storage key of a slot (within its source): the genre key, then `key#2`, `key#3`..."""
    return slot.key if slot.part == 1 else f"{slot.key}#{slot.part}"


def plan_targets(plan: PlaylistPlan, new_ids: set[str], source: str = LIKED_SONGS.key) -> list[PlaylistTarget]:
    """Every planned playlist, split at Spotify's 10,000 songs into parts."""
    targets = []
    for key, ids in plan.playlists.items():
        for index, part_ids in enumerate(split_into_parts(ids), start=1):
            slot = PlaylistSlot(key, index, source)
            targets.append(PlaylistTarget(slot, part_ids, _count_new(part_ids, new_ids), plan.label(key)))
    return targets


def outcome_name(target: PlaylistTarget, source: SortSource) -> str:
    return fit_name(source_playlist_name(target.label, source), target.slot.part)


def _count_new(ids: Sequence[str], new_ids: set[str]) -> int:
    return sum(1 for t in ids if t in new_ids)

