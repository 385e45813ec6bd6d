"""Writing one genre playlist so that a lost answer, a retry or a crash never makes a second one
or adds a song twice, and re-sorting it touches only the songs that change.

Creating a playlist and adding songs are not safe to repeat: when Spotify's answer is lost
(`WriteOutcomeUnknown`), these functions re-read Spotify before deciding. A create is looked for
among the member's playlists by its tag (`own_playlists`); an add is checked at the positions it
was meant to fill. Replacing the first 100 songs (PUT) and removing songs by URI (every
occurrence) are safe to repeat and are retried by the fault policy. Spotify's "delete playlist"
is an unfollow, so a playlist is reused only while the member still follows it.

An existing playlist whose songs are known (read back, or recorded at genrebot's last write
and confirmed by Spotify's unchanged snapshot id, see `held_items`) is edited in place when that
costs no more requests than a rewrite, or at most EDIT_ALLOWANCE more while it keeps at least
half the songs in place (`use_edit`): the songs that stay keep their "date added", and an edit
that fails midway leaves a playlist the next sort reads and finishes. Otherwise it is
rewritten; if a rewrite of more than 100 songs fails for good midway, the previous songs are put
back when they are known (local files cannot be put back: Spotify refuses them in a write). A
failure midway is `PlaylistWriteFailed`, saying whether the old songs were put back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.spotify.client import PlaylistRef, SpotifyUserClient
from bot.spotify.errors import (
    NeedsRelink,
    OwnerPremiumRequired,
    PlaylistWriteFailed,
    SpotifyError,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    WriteOutcomeUnknown,
)
from bot.spotify.own_playlists import PlaylistSlot, addable, fit_name, tagged_description
from bot.spotify.playlist_edit import ITEMS_PER_REQUEST, ItemsEdit, plan_edit, rewrite_requests

log = logging.getLogger(__name__)
RESTORABLE = 1_000  # songs an unknown playlist is read back before a rewrite, so a failure can be undone
# An edit that keeps most songs in place may cost this many requests more than a rewrite: it
# keeps their "date added" (a small playlist's rewrite is one PUT, so without it any removal
# plus an insert would reset every date in it).
EDIT_ALLOWANCE = 2
# Failures that stop all writing for now: putting old songs back would fail the same way.
STOPS = (SpotifyQuotaExceeded, SpotifyRateLimited, NeedsRelink, OwnerPremiumRequired)


@dataclass(frozen=True)
class PlaylistWrite:
    id: str
    url: str
    created: bool


@dataclass(frozen=True)
class KnownItems:
    """What genrebot last wrote to a playlist, and the snapshot id Spotify gave it then."""

    snapshot_id: str
    uris: tuple[str, ...]


def create_once(client: SpotifyUserClient, slot: PlaylistSlot, name: str, description: str) -> PlaylistRef:
    """Create the slot's playlist (private, tagged); if the answer is lost, find the one Spotify
    made by its tag before trying again, so at most one playlist exists per slot."""
    title, text = fit_name(name, slot.part), tagged_description(description, slot)
    for _ in range(client.policy.max_attempts):
        try:
            return client.create_playlist(title, text, public=False)
        except WriteOutcomeUnknown:
            made = client.own_playlists().get(slot.tag)
            if made is not None:
                return PlaylistRef(made.id, made.url)
    raise SpotifyUnavailable("Spotify kept losing its answer to creating a playlist")


def add_once(client: SpotifyUserClient, playlist_id: str, uris: list[str], position: int) -> str | None:
    """Insert up to 100 songs at `position`; if the answer is lost, look at those positions
    before trying again, so a chunk is never added twice. The new snapshot id, if answered."""
    for _ in range(client.policy.max_attempts):
        try:
            return client.add_playlist_items(playlist_id, uris, position=position)
        except WriteOutcomeUnknown:
            if client.playlist_items_at(playlist_id, position, len(uris)) == uris:
                return None  # it landed; only the answer was lost
    raise SpotifyUnavailable("Spotify kept losing its answer to adding songs")


def replace_items(client: SpotifyUserClient, playlist_id: str, uris: list[str]) -> str | None:
    """Make the playlist hold exactly `uris`: PUT the first 100 (safe to repeat), add the rest in order."""
    uris = addable(uris)
    snapshot = client.put_playlist_items(playlist_id, uris[:ITEMS_PER_REQUEST])
    for start in range(ITEMS_PER_REQUEST, len(uris), ITEMS_PER_REQUEST):
        snapshot = add_once(client, playlist_id, uris[start : start + ITEMS_PER_REQUEST], start)
    return snapshot


def prepend_items(client: SpotifyUserClient, playlist_id: str, uris: list[str]) -> str | None:
    """Insert the newest songs at the top, in order (one request per 100)."""
    uris = addable(uris)
    snapshot = None
    for start in range(0, len(uris), ITEMS_PER_REQUEST):
        snapshot = add_once(client, playlist_id, uris[start : start + ITEMS_PER_REQUEST], start)
    return snapshot


def append_items(client: SpotifyUserClient, playlist_id: str, uris: list[str], *, at: int) -> str | None:
    """Add songs after the `at` songs the playlist holds, in order (one request per 100)."""
    uris = addable(uris)
    snapshot = None
    for start in range(0, len(uris), ITEMS_PER_REQUEST):
        snapshot = add_once(client, playlist_id, uris[start : start + ITEMS_PER_REQUEST], at + start)
    return snapshot


def apply_edit(client: SpotifyUserClient, playlist_id: str, edit: ItemsEdit) -> str | None:
    """Removals (retried by the policy: removing by URI twice removes nothing more), then inserts
    checked like any add. Run again on what Spotify holds, a half-done edit finishes."""
    snapshot = None
    for batch in edit.removal_batches:
        snapshot = client.remove_playlist_items(playlist_id, batch)
    for position, uris in edit.inserts:
        snapshot = add_once(client, playlist_id, list(uris), position)
    return snapshot


def held_items(client: SpotifyUserClient, playlist_id: str, known: KnownItems) -> list[str] | None:
    """The songs the playlist holds if nobody changed it since genrebot wrote `known` (its snapshot
    id is the same: one request), else None. Any change, details included, makes a new snapshot."""
    return list(known.uris) if client.playlist_snapshot_id(playlist_id) == known.snapshot_id else None


def fill(
    client: SpotifyUserClient,
    playlist_id: str,
    uris: list[str],
    *,
    name: str,
    url: str,
    empty: bool = False,
    held: Sequence[str] | None = None,
) -> str | None:
    """Make the playlist hold exactly `uris`; the playlist's snapshot id after the last write, if answered.

    `empty`: genrebot has just made it (nothing to read or edit). `held`: what it is known to hold.
    Otherwise a playlist of 101 to RESTORABLE songs is read first (a request per 50 songs), so a
    failed rewrite can be undone; smaller and bigger ones are not (a rewrite costs less than the
    read). When the current songs are known, `use_edit` decides between an edit and a rewrite.
    """
    current: Sequence[str] | None = [] if empty else held
    if current is None and ITEMS_PER_REQUEST < len(uris) <= RESTORABLE:
        current = client.playlist_item_uris(playlist_id)
    edit = None if empty or current is None else plan_edit(current, uris)
    if edit is not None and use_edit(edit, len(uris)):
        try:
            return apply_edit(client, playlist_id, edit)
        except STOPS:
            raise
        except SpotifyError as exc:  # what is left undone, the next sort reads and finishes
            raise PlaylistWriteFailed(name, restored=False, playlist_id=playlist_id, url=url) from exc
    return rewrite(client, playlist_id, uris, previous=current, name=name, url=url)


def use_edit(edit: ItemsEdit, songs: int) -> bool:
    """Edit rather than rewrite a playlist of `songs`: when the edit makes no more requests, or at
    most EDIT_ALLOWANCE more while it keeps at least half the songs in place. A read of the
    current songs is paid either way (a rewrite reads them too, to undo a failure), so it is left
    out of both counts."""
    allowance = EDIT_ALLOWANCE if 2 * edit.kept >= songs else 0
    return edit.requests <= rewrite_requests(songs) + allowance


def rewrite(
    client: SpotifyUserClient, playlist_id: str, uris: list[str], *, previous: Sequence[str] | None, name: str, url: str
) -> str | None:
    """Replace every song; if that fails midway, put `previous` back when it is known."""
    try:
        return replace_items(client, playlist_id, uris)
    except STOPS:
        raise
    except SpotifyError as exc:
        if len(addable(uris)) <= ITEMS_PER_REQUEST:
            raise  # a single PUT either happened or did not: nothing half-written
        if previous is None:
            raise PlaylistWriteFailed(name, restored=False, playlist_id=playlist_id, url=url) from exc
        try:
            replace_items(client, playlist_id, list(previous))
        except SpotifyError:
            log.warning("could not restore playlist %s after a failed write", playlist_id)
            raise PlaylistWriteFailed(name, restored=False, playlist_id=playlist_id, url=url) from exc
        raise PlaylistWriteFailed(name, restored=True, playlist_id=playlist_id, url=url) from exc


def describe(client: SpotifyUserClient, playlist_id: str, slot: PlaylistSlot, name: str, description: str) -> None:
    """Set the name and tagged description (a playlist adopted from an older release gets its tag)."""
    client.update_playlist_details(playlist_id, fit_name(name, slot.part), tagged_description(description, slot))


def write_playlist(
    client: SpotifyUserClient,
    *,
    slot: PlaylistSlot,
    existing_id: str | None,
    name: str,
    description: str,
    uris: list[str],
    prepend: list[str] | None = None,
) -> PlaylistWrite:
    """Make the slot's playlist hold `uris`: the known one while the member follows it, else the
    member's tagged one, else a new one. With `prepend`, the caller vouches that the playlist
    already holds `uris` minus these newest songs, so only they are added at the top.
    (The sort service runs these steps itself, recording the playlist in between.)"""
    ref: PlaylistRef | None = None
    if existing_id and client.playlist_is_followed(existing_id):
        ref = PlaylistRef(existing_id, f"https://open.spotify.com/playlist/{existing_id}")
    else:
        prepend = None
        adopted = client.own_playlists().get(slot.tag)
        if adopted is not None:
            ref = PlaylistRef(adopted.id, adopted.url)
    created = ref is None
    if ref is None:
        ref = create_once(client, slot, name, description)
    if prepend is not None:
        prepend_items(client, ref.id, prepend)
    elif created:
        try:
            replace_items(client, ref.id, uris)
        except STOPS:
            raise
        except SpotifyError as exc:
            raise PlaylistWriteFailed(name, restored=False, playlist_id=ref.id, url=ref.url) from exc
    else:
        fill(client, ref.id, uris, name=name, url=ref.url)
    if not created:
        describe(client, ref.id, slot, name, description)
    return PlaylistWrite(ref.id, ref.url, created)
