"""Deciding which songs go into which genre playlist, and what the playlists are called.

Pure logic shared by `/sort`, the weekly refresh and `genrebot sort --csv`. The model's taxonomy
has two levels, families (Rock, Jazz & Blues, …) and the genres beneath them (Alt-Rock, K-Pop,
…); a member sorts at one `level` (a playlist per family, the default, or per genre) and may pick
families and genres by name (`genres:jazz, k-pop`). Their choices (level, picks, confidence floor,
minimum playlist size, `multi`) are applied to a library's genre probabilities as arrays: a
library has thousands of songs, and this runs once per sort.

Playlist keys, kept in storage: a family's key ('rock'), or 'family/genre' for a genre
('asian-pop/k-pop'), the shape the six-genre model's 'rock/hard rock' keys had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.services.genre_names import Level, genre_label, key_label, parse_level, pick_of_key
from classifier.taxonomy import Taxonomy

# How likely a song's second family (or genre) must be for `multi` to add the song there as well.
SECOND_GENRE_FLOOR = 0.30


@dataclass(frozen=True)
class SortOptions:
    genres: tuple[str, ...] | None = None  # playlist keys picked (families and genres); None = all
    level: Level = "family"
    min_confidence: float = 0.0
    min_playlist_size: int = 5
    multi: bool = False
    dry_run: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", parse_level(self.level))
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        if self.min_playlist_size < 1:
            raise ValueError("min_playlist_size must be at least 1")


@dataclass
class PlaylistPlan:
    playlists: dict[str, list[str]] = field(default_factory=dict)  # key -> track ids, library order
    unsorted: list[str] = field(default_factory=list)  # low confidence, or in a too-small group
    not_chosen: int = 0  # songs whose family or genre the member did not pick
    labels: dict[str, str] = field(default_factory=dict)  # key -> what the playlist is named after
    level: Level = "family"
    # Every family (or genre) at `level` was open to this plan (no `genres:` pick): a playlist of
    # that level it does not have is one whose genre fell short of `min_playlist_size` (writing
    # empties it). False for a pick, and for plans made by hand.
    every_genre: bool = False
    min_playlist_size: int = 1

    def label(self, key: str) -> str:
        """What key's playlist is named after; a key planned without a label reads as `genre_label` has it."""
        return self.labels.get(key) or genre_label(key)


# --- What the model said about each song ----------------------------------------------------


@dataclass(frozen=True)
class SongGenres:
    """Each song's family and genre (the genre is always in the family), its runner-ups for
    `multi`, and their probabilities: arrays aligned with `track_ids`, indices into the
    taxonomy's `families` and `genres`."""

    track_ids: Sequence[str]
    family: np.ndarray
    family_confidence: np.ndarray
    genre: np.ndarray
    genre_confidence: np.ndarray
    second_family: np.ndarray
    second_family_confidence: np.ndarray
    second_genre: np.ndarray
    second_genre_confidence: np.ndarray

    @classmethod
    def decide(cls, track_ids: Sequence[str], probabilities: np.ndarray, taxonomy: Taxonomy) -> SongGenres:
        """From probabilities over genres [n, genres]: the family with the most probability and
        its most probable genre (as `Classifier.decide`), and the runner-up family and genre."""
        rows = np.arange(len(track_ids))
        if not len(track_ids):
            none, zero = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            return cls(list(track_ids), none, zero, none, zero, none, zero, none, zero)
        probabilities = np.asarray(probabilities, dtype=np.float32)
        family_p = probabilities @ taxonomy.membership
        ranked = np.argsort(-family_p, axis=1, kind="stable")
        family = ranked[:, 0]
        second_family = ranked[:, 1] if family_p.shape[1] > 1 else family
        within = np.where(taxonomy.genre_family[None, :] == family[:, None], probabilities, -1.0)
        genre = within.argmax(axis=1)
        others = probabilities.copy()
        others[rows, genre] = -1.0
        second_genre = others.argmax(axis=1)
        second_family_confidence = family_p[rows, second_family] if family_p.shape[1] > 1 else np.zeros(len(rows))
        return cls(
            list(track_ids), family, family_p[rows, family], genre, probabilities[rows, genre],
            second_family, second_family_confidence, second_genre, probabilities[rows, second_genre],
        )

    @classmethod
    def from_decisions(
        cls, track_ids: Sequence[str], family: np.ndarray, family_confidence: np.ndarray, genre: np.ndarray,
        genre_confidence: np.ndarray, second_family: np.ndarray, second_family_confidence: np.ndarray,
        second_genre: np.ndarray, second_genre_confidence: np.ndarray,
    ) -> SongGenres:
        """From decisions already made, runner-ups included (a huge CSV keeps no probabilities per
        genre or family: a few numbers per row)."""
        return cls(list(track_ids), *(np.asarray(a) for a in (
            family, family_confidence, genre, genre_confidence, second_family, second_family_confidence,
            second_genre, second_genre_confidence)))

    def __len__(self) -> int:
        return len(self.track_ids)

    def counts(self, taxonomy: Taxonomy, level: Level) -> dict[str, int]:
        """Songs per family (or per genre, by the genre's key), most first."""
        names = taxonomy.families if level == "family" else taxonomy.genres
        counted = np.bincount(self.family if level == "family" else self.genre, minlength=len(names))
        order = sorted((i for i in range(len(names)) if counted[i]), key=lambda i: (-counted[i], names[i]))
        return {names[i]: int(counted[i]) for i in order}


# --- Planning ---------------------------------------------------------------------------------


def playlist_keys(taxonomy: Taxonomy) -> list[str]:
    """Every playlist key: the families' (index i), then the genres' (index len(families) + j)."""
    return [*taxonomy.families, *(f"{taxonomy.family_of(g)}/{g}" for g in taxonomy.genres)]


def plan_playlists(
    songs: SongGenres, options: SortOptions, taxonomy: Taxonomy, unclassified: Sequence[str] = ()
) -> PlaylistPlan:
    """Group a library's songs (in its order, newest first for Liked Songs) into playlists.

    A song goes to its family's playlist, or at genre level its genre's; with picks, only to a
    picked one (at family level a picked genre takes its songs from its family's playlist, at
    genre level a picked family stands for each of its genres). Below `min_confidence` (of the
    family, or of the genre for a genre playlist) a song stays unsorted, as do the songs of a
    group smaller than `min_playlist_size`. `multi` also adds a song to its runner-up family (or
    genre) when that is at least SECOND_GENRE_FLOOR likely. `unclassified` songs are unsorted.
    """
    n_families = len(taxonomy.families)
    keys = playlist_keys(taxonomy)
    picked = _picked(options.genres, taxonomy, n_families + len(taxonomy.genres))
    key, confidence = _assign(
        songs.family, songs.family_confidence, songs.genre, songs.genre_confidence, options.level, picked, taxonomy
    )
    sure = confidence >= options.min_confidence
    placed = sure & (key >= 0)
    positions = np.flatnonzero(placed)
    entry_keys = key[placed]
    if options.multi and len(songs):
        second_key, second_confidence = _assign_second(songs, key, n_families, options.level, picked, taxonomy)
        floor = max(SECOND_GENRE_FLOOR, options.min_confidence)
        also = placed & (second_key >= 0) & (second_confidence >= floor) & (second_key != key)
        positions = np.concatenate([positions, np.flatnonzero(also)])
        entry_keys = np.concatenate([entry_keys, second_key[also]])
    plan = PlaylistPlan(not_chosen=int(np.count_nonzero(sure & (key < 0))), level=options.level,
                        every_genre=options.genres is None, min_playlist_size=options.min_playlist_size)
    order = np.lexsort((positions, entry_keys))
    positions, entry_keys = positions[order], entry_keys[order]
    group_keys, starts, sizes = np.unique(entry_keys, return_index=True, return_counts=True)
    track_ids = songs.track_ids
    groups = {
        keys[int(k)]: [track_ids[int(p)] for p in positions[s : s + c]]
        for k, s, c in zip(group_keys, starts, sizes, strict=True)
    }
    small: list[str] = []
    for name in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        if len(groups[name]) >= options.min_playlist_size:
            plan.playlists[name] = groups[name]
            plan.labels[name] = key_label(name, taxonomy)
        else:
            small.extend(groups[name])
    in_a_playlist = {t for ids in plan.playlists.values() for t in ids}
    unsure = [track_ids[int(p)] for p in np.flatnonzero(~sure)]
    plan.unsorted = [t for t in dict.fromkeys([*unclassified, *unsure, *small]) if t not in in_a_playlist]
    return plan


def _picked(genres: tuple[str, ...] | None, taxonomy: Taxonomy, n_keys: int) -> np.ndarray | None:
    """A mask over playlist keys of what the member picked (None: everything)."""
    if genres is None:
        return None
    mask = np.zeros(n_keys, dtype=bool)
    for key in genres:
        pick = pick_of_key(key, taxonomy)
        if pick is None:
            continue  # a key from an older model that this taxonomy does not know: nothing matches it
        if pick.level == "family":
            mask[taxonomy.family_index[pick.key]] = True
        else:
            mask[len(taxonomy.families) + taxonomy.genre_index[pick.key]] = True
    return mask


def _assign(
    family: np.ndarray, family_confidence: np.ndarray, genre: np.ndarray, genre_confidence: np.ndarray,
    level: Level, picked: np.ndarray | None, taxonomy: Taxonomy,
) -> tuple[np.ndarray, np.ndarray]:
    """Each song's playlist key index (-1: not picked) and the confidence that decides it."""
    genre_key = len(taxonomy.families) + genre
    if level == "genre":
        if picked is None:
            return genre_key, genre_confidence
        chosen = picked[genre_key] | picked[taxonomy.genre_family[genre]]
        return np.where(chosen, genre_key, -1), genre_confidence
    if picked is None:
        return family, family_confidence
    genre_picked = picked[genre_key]
    key = np.where(genre_picked, genre_key, np.where(picked[family], family, -1))
    return key, np.where(genre_picked, genre_confidence, family_confidence)


def _assign_second(
    songs: SongGenres, key: np.ndarray, n_families: int, level: Level, picked: np.ndarray | None,
    taxonomy: Taxonomy,
) -> tuple[np.ndarray, np.ndarray]:
    """The runner-up of each song at the level of its first playlist: the second family for a
    family playlist, the second genre for a genre playlist; -1 where it was not picked."""
    by_genre = key >= n_families
    second_genre_key = n_families + songs.second_genre
    if picked is None:
        genre_ok = np.ones(len(key), dtype=bool)
        family_ok = genre_ok
    else:
        genre_ok = picked[second_genre_key]
        if level == "genre":
            genre_ok = genre_ok | picked[taxonomy.genre_family[songs.second_genre]]
        family_ok = picked[songs.second_family]
    second = np.where(by_genre, np.where(genre_ok, second_genre_key, -1),
                      np.where(family_ok, songs.second_family, -1))
    confidence = np.where(by_genre, songs.second_genre_confidence, songs.second_family_confidence)
    return second, confidence
