"""Planning an edit of a playlist in place: which songs to remove and which to insert where, so
that it ends holding exactly the target list.

A rewrite (PUT the first 100 songs, POST the rest) resets every song's "date added" and, past
what can be read back first, cannot be undone if it fails midway. An edit touches only the
songs that change: the songs that stay keep their place and their date. Spotify removes by URI
(every occurrence of it, so a removal is safe to repeat) and inserts at a position, so an edit
can express a playlist whose remaining songs are already in the target's order. Songs out of
that order (the member moved them), listed twice, or not the target's at all are removed first;
then the missing songs go in from the top down, each run of them at the position it has in the
target, so every insert's position is right when it is made.

Pure functions over URIs: `bot.spotify.playlist_sync` reads and writes, and decides whether an
edit is worth it (`ItemsEdit.requests` against `rewrite_requests`).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

ITEMS_PER_REQUEST = 100  # URIs per add, replace or remove request
EDITABLE_PREFIXES = ("spotify:track:", "spotify:episode:")  # what Spotify removes by URI


@dataclass(frozen=True)
class ItemsEdit:
    """Removals first (every occurrence of each URI, 100 a request), then inserts top to bottom."""

    remove: tuple[str, ...]
    inserts: tuple[tuple[int, tuple[str, ...]], ...]  # (position, at most 100 URIs)
    kept: int = 0  # songs left where they are, their "date added" with them

    @property
    def requests(self) -> int:
        return math.ceil(len(self.remove) / ITEMS_PER_REQUEST) + len(self.inserts)

    @property
    def removal_batches(self) -> list[list[str]]:
        return [list(self.remove[i : i + ITEMS_PER_REQUEST]) for i in range(0, len(self.remove), ITEMS_PER_REQUEST)]


def rewrite_requests(songs: int) -> int:
    """Writes a rewrite makes: one PUT (even of nothing) and a POST per further 100 songs."""
    return max(1, math.ceil(songs / ITEMS_PER_REQUEST))


def plan_edit(current: Sequence[str], target: Sequence[str]) -> ItemsEdit | None:
    """The removals and inserts that turn `current` into `target`, keeping in place the most songs
    that are already in the target's order; None when no edit can (an entry Spotify cannot remove
    by URI: a local file, or "" for an entry it shows as null; a song listed twice in the target).
    """
    if len(set(target)) != len(target) or not all(uri.startswith(EDITABLE_PREFIXES) for uri in current):
        return None
    position_in_target = {uri: index for index, uri in enumerate(target)}
    occurrences = Counter(current)
    candidates = [uri for uri in current if uri in position_in_target and occurrences[uri] == 1]
    kept = set(_longest_in_order(candidates, position_in_target))
    remove = tuple(dict.fromkeys(uri for uri in current if uri not in kept))
    inserts: list[tuple[int, tuple[str, ...]]] = []
    run_start: int | None = None
    for index in range(len(target) + 1):
        missing = index < len(target) and target[index] not in kept
        if missing and run_start is None:
            run_start = index
        if run_start is not None and (not missing or index - run_start == ITEMS_PER_REQUEST):
            inserts.append((run_start, tuple(target[run_start:index])))
            run_start = index if missing else None
    return ItemsEdit(remove, tuple(inserts), len(kept))


def _longest_in_order(uris: Sequence[str], position_in_target: dict[str, int]) -> list[str]:
    """The longest subsequence of `uris` whose target positions increase (patience sorting)."""
    tails: list[int] = []  # target position ending the best subsequence of each length
    tail_at: list[int] = []  # index in `uris` of that ending
    previous: list[int] = [-1] * len(uris)
    for index, uri in enumerate(uris):
        at = position_in_target[uri]
        length = bisect.bisect_left(tails, at)
        if length == len(tails):
            tails.append(at)
            tail_at.append(index)
        else:
            tails[length] = at
            tail_at[length] = index
        previous[index] = tail_at[length - 1] if length else -1
    chain: list[str] = []
    index = tail_at[-1] if tail_at else -1
    while index >= 0:
        chain.append(uris[index])
        index = previous[index]
    return chain[::-1]
