"""Deciding which liked songs go into which genre playlist.

Pure logic shared by `/sort`, the weekly refresh and `genrebot sort --csv`: apply the member's
choices (genres, level, confidence floor, minimum playlist size, `multi`) to predictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from music import PredictionLike

Level = Literal["genre", "subgenre"]

# How likely a song's second genre must be for `multi` to add the song there as well.
SECOND_GENRE_FLOOR = 0.30
_ACRONYMS = {"edm": "EDM", "r&b": "R&B", "idm": "IDM", "uk": "UK", "dnb": "DnB"}


class UnknownGenre(ValueError):
    """A requested genre is not in the model's taxonomy."""

    def __init__(self, unknown: Sequence[str], valid: Sequence[str]) -> None:
        self.unknown = tuple(unknown)
        self.valid = tuple(valid)
        super().__init__(f"unknown genre(s): {', '.join(self.unknown)}")


@dataclass(frozen=True)
class SortOptions:
    genres: tuple[str, ...] | None = None  # playlist keys to make; None = all
    level: Level = "genre"
    min_confidence: float = 0.0
    min_playlist_size: int = 5
    multi: bool = False
    dry_run: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        if self.min_playlist_size < 1:
            raise ValueError("min_playlist_size must be at least 1")


@dataclass
class PlaylistPlan:
    playlists: dict[str, list[str]] = field(default_factory=dict)  # key -> track ids, liked order
    unsorted: list[str] = field(default_factory=list)  # low confidence, or in a too-small group
    not_chosen: int = 0  # songs whose genre the member did not pick


def genre_label(key: str) -> str:
    """'r&b' -> 'R&B', 'album rock' -> 'Album Rock', 'rock/hard rock' -> 'Hard Rock'."""
    leaf = key.split("/")[-1]
    return " ".join(_ACRONYMS.get(word.lower(), word[:1].upper() + word[1:]) for word in leaf.split())


PLAYLIST_NAME_LIMIT = 100  # Spotify refuses longer playlist names
PLAYLIST_NAME_SUFFIX = " · genrebot"


def playlist_name(key: str, source_name: str | None = None) -> str:
    """'Rock · genrebot' from Liked Songs; 'Rock · Road trip 2019 · genrebot' from a playlist.

    The source's name is shortened (with '…') so the whole name stays within Spotify's 100
    characters; the genre and the genrebot mark are always there whole."""
    label = genre_label(key)
    if source_name is None:
        return f"{label}{PLAYLIST_NAME_SUFFIX}"[:PLAYLIST_NAME_LIMIT]
    room = PLAYLIST_NAME_LIMIT - len(label) - len(" · ") - len(PLAYLIST_NAME_SUFFIX)
    return f"{label} · {shorten(source_name, max(1, room))}{PLAYLIST_NAME_SUFFIX}"[:PLAYLIST_NAME_LIMIT]


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters: whitespace runs (line breaks too) become one space,
    and a cut ends with '…' at a word boundary where one is near."""
    line = " ".join(text.split()) or "untitled"
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ·-,") + "…"


def subgenre_key(genre: str, subgenre: str) -> str:
    return f"{genre}/{subgenre}"


def resolve_genres(requested: Sequence[str], taxonomy: Mapping[str, Sequence[str]], level: Level) -> tuple[str, ...]:
    """Map names a member typed ('Rock', 'hard rock', 'rock/hard rock') to playlist keys."""
    valid = valid_keys(taxonomy, level)
    by_name = {k.lower(): k for k in valid}
    by_name.update({genre_label(k).lower(): k for k in valid})
    if level == "subgenre":
        by_name.update({k.split("/")[-1].lower(): k for k in valid})
    resolved, unknown = [], []
    for name in requested:
        key = by_name.get(name.strip().lower())
        if key is None:
            unknown.append(name.strip())
        elif key not in resolved:
            resolved.append(key)
    if unknown:
        raise UnknownGenre(unknown, [genre_label(k) for k in valid])
    return tuple(resolved)


def valid_keys(taxonomy: Mapping[str, Sequence[str]], level: Level) -> list[str]:
    if level == "genre":
        return list(taxonomy)
    return [subgenre_key(g, s) for g, subs in taxonomy.items() for s in subs]


def plan_playlists(
    liked_track_ids: Sequence[str],
    predictions: Mapping[str, PredictionLike],
    options: SortOptions,
    taxonomy: Mapping[str, Sequence[str]],
) -> PlaylistPlan:
    """Group liked songs (newest first) into playlist keys according to the member's options."""
    chosen = set(options.genres) if options.genres else None
    groups: dict[str, list[str]] = {}
    unsorted: list[str] = []
    not_chosen = 0
    for track_id in liked_track_ids:
        prediction = predictions.get(track_id)
        if prediction is None:
            unsorted.append(track_id)
            continue
        keys = _keys_for(prediction, options, taxonomy)
        if not keys:
            unsorted.append(track_id)
            continue
        picked = [k for k in keys if chosen is None or k in chosen]
        if not picked:
            not_chosen += 1
            continue
        for key in picked:
            groups.setdefault(key, []).append(track_id)
    plan = PlaylistPlan(not_chosen=not_chosen)
    placed: set[str] = set()
    small: list[str] = []
    for key in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        if len(groups[key]) >= options.min_playlist_size:
            plan.playlists[key] = groups[key]
            placed.update(groups[key])
        else:
            small.extend(groups[key])
    seen: set[str] = set()
    for track_id in [*unsorted, *small]:
        if track_id not in placed and track_id not in seen:
            seen.add(track_id)
            plan.unsorted.append(track_id)
    return plan


def _keys_for(prediction: PredictionLike, options: SortOptions, taxonomy: Mapping[str, Sequence[str]]) -> list[str]:
    confidence = prediction.genre_confidence
    if options.level == "subgenre":
        if prediction.subgenre is None or prediction.subgenre_confidence is None:
            return []
        confidence = prediction.subgenre_confidence
    if confidence < options.min_confidence:
        return []
    keys = [_key(prediction.genre, prediction.subgenre, options.level)]
    if options.multi and options.level == "genre":
        ranked = sorted(prediction.genre_probabilities.items(), key=lambda kv: -kv[1])
        floor = max(SECOND_GENRE_FLOOR, options.min_confidence)
        if len(ranked) > 1 and ranked[1][0] in taxonomy and ranked[1][1] >= floor:
            keys.append(ranked[1][0])
    return keys


def _key(genre: str, subgenre: str | None, level: Level) -> str:
    if level == "subgenre" and subgenre is not None:
        return subgenre_key(genre, subgenre)
    return genre
