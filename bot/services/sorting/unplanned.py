"""Playlists a sort no longer plans. A playlist is never left holding what the library no longer
says: a continuation its genre no longer needs (`stale_parts`) and, on a sort of every family or
genre, a playlist of that level whose genre fell short of the minimum size (`retired`) are emptied
and kept, their link working, their description saying why; the genre fills them again when it
returns. A sort of picked genres, or at the other level, leaves the others alone. A playlist an
older model made ('rap', 'rock/hard rock') is taken over by the key it reads as now
(`taken_over`): the writer moves its record (one transaction, before Spotify is touched, so a
killed run resumes with it under the new key) and renames the same playlist; with no record (a
lost database) it is adopted under that key by its tag (`adoptable_under_current_keys`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bot.services.genre_names import Level, genre_label, key_label, pick_of_key
from bot.services.playlist_plan import PlaylistPlan
from bot.services.sorting.targets import PlaylistTarget, origin, record_key, source_playlist_name
from bot.spotify.own_playlists import OwnPlaylist, PlaylistSlot, slot_of_tag
from classifier.taxonomy import Taxonomy
from music import LIKED_SONGS, SortSource
from storage.records import PlaylistRecord


def stale_parts(plan: PlaylistPlan, targets: Sequence[PlaylistTarget],
                existing: dict[str, PlaylistRecord]) -> list[PlaylistTarget]:
    """Continuations a genre no longer needs (its songs fit in fewer parts now): emptied, kept."""
    planned = {record_key(t.slot) for t in targets}
    sources = {t.slot.key: t.slot.source for t in targets}
    stale = []
    for key in plan.playlists:
        part = 2
        while record_key(slot := PlaylistSlot(key, part, sources.get(key, LIKED_SONGS.key))) in existing:
            if record_key(slot) not in planned:
                stale.append(PlaylistTarget(slot, [], 0, plan.label(key)))
            part += 1
    return stale


def too_few_description(label: str, source: SortSource, min_songs: int, today: str) -> str:
    """Why a playlist genrebot keeps holds no songs: its family or genre fell short of a playlist."""
    return (f"No songs this time: genrebot found fewer than {min_songs} {label} songs in {origin(source)} "
            f"on {today}, too few for a playlist. It fills again when there are enough.")


def replaced_description(label: str, source: SortSource, by: str, today: str) -> str:
    """Why an older model's playlist holds no songs: the key it reads as has a playlist of its own."""
    return (f"No songs: since {today} genrebot sorts these songs from {origin(source)} into “{by}”. "
            f"This {label} playlist was made by an earlier genrebot model.")


def split_record_key(key: str) -> tuple[str, int]:
    """A storage key read back as its genre key and part: 'rock#2' -> ('rock', 2)."""
    base, mark, part = key.rpartition("#")
    return (base, int(part)) if mark and part.isdigit() and int(part) > 1 else (key, 1)


def key_level(key: str) -> Level:
    """The level a playlist key is of: 'family/genre' is a genre's, any other a family's."""
    return "genre" if "/" in key else "family"


def taken_over(plan: PlaylistPlan, existing: dict[str, PlaylistRecord], taxonomy: Taxonomy) -> dict[str, str]:
    """Records under an older model's key ('rap', 'rock/hard rock', 'rap#2') that now read as a key
    this plan has, of the same level, with no record of its own: old storage key -> new storage key.
    Two older keys reading as one new key ('rock/album rock', 'rock/classic rock'): the first by name
    is taken over, the other is left to `retired` (replaced)."""
    moves: dict[str, str] = {}
    claimed = set(existing)
    for old in sorted(existing):
        base, part = split_record_key(old)
        new_base = _current_key(base, taxonomy)
        if new_base is None or new_base == base or new_base not in plan.playlists:
            continue
        new = record_key(PlaylistSlot(new_base, part))
        if key_level(new_base) == key_level(base) and new not in claimed:
            moves[old] = new
            claimed.add(new)
    return moves


def retired(plan: PlaylistPlan, existing: dict[str, PlaylistRecord], taxonomy: Taxonomy,
            source: SortSource = LIKED_SONGS) -> list[PlaylistTarget]:
    """Playlists of this plan's level that a sort of every family (or genre) no longer has: their
    genre fell short of the minimum size (songs un-liked, moved by pooling, a higher minimum), or
    their key is an older model's whose new key already has a playlist. Emptied and kept, like a
    continuation no longer needed: the link keeps working and the genre fills it again when it
    returns. A sort of picked genres, and playlists of the other level, leave them alone."""
    if not plan.every_genre:
        return []
    targets = []
    for key in sorted(existing):
        base, part = split_record_key(key)
        if base in plan.playlists or key_level(base) != plan.level:
            continue
        current = _current_key(base, taxonomy)
        label = key_label(base, taxonomy) if current == base else genre_label(base)
        if current is not None and current != base and current in plan.playlists:
            by = source_playlist_name(plan.label(current), source)
            why = partial(replaced_description, label, source, by)
        else:
            why = partial(too_few_description, label, source, plan.min_playlist_size)
        targets.append(PlaylistTarget(PlaylistSlot(base, part, source.key), [], 0, label, why))
    return targets


def _current_key(key: str, taxonomy: Taxonomy) -> str | None:
    """The key this taxonomy gives what a stored key names (itself if current), or None."""
    pick = pick_of_key(key, taxonomy)
    return pick.playlist_key if pick else None



def adoptable_under_current_keys(own: dict[str, OwnPlaylist], taxonomy: Taxonomy) -> dict[str, OwnPlaylist]:
    """The member's tagged playlists by tag, and those tagged with an older model's key ('rap') also
    under the tag of the key it reads as now ('hip-hop'), of the same level, when no playlist has
    that tag: after a lost database, the older playlist is adopted and renamed, not left beside a
    new one. Two older tags reading as one key: the first by tag."""
    found = dict(own)
    for tag in sorted(own):
        slot = slot_of_tag(tag)
        current = _current_key(slot.key, taxonomy) if slot else None
        if slot is None or current is None or current == slot.key or key_level(current) != key_level(slot.key):
            continue
        found.setdefault(PlaylistSlot(current, slot.part, slot.source).tag, own[tag])
    return found
