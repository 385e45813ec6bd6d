"""Writing one genre playlist so that a lost answer, a retry or a crash never makes a second one
or adds a song twice.

Creating a playlist and adding songs are not safe to repeat: when Spotify's answer is lost
(`WriteOutcomeUnknown`), these functions re-read Spotify before deciding. A create is looked for
among the member's playlists by its tag (`own_playlists`); an add is checked at the positions it
was meant to fill. Replacing the first 100 songs (PUT) is safe to repeat and is retried by the
fault policy. Spotify's "delete playlist" is an unfollow, so a playlist is reused only while the
member still follows it. If a rewrite of 101 to 1,000 songs fails for good midway, the previous
songs are put back (local files cannot be put back: Spotify refuses them in a write).
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)
ITEMS_PER_REQUEST = 100
RESTORABLE = 1_000
# Failures that stop all writing for now: putting old songs back would fail the same way.
_STOPS = (SpotifyQuotaExceeded, SpotifyRateLimited, NeedsRelink, OwnerPremiumRequired)


@dataclass(frozen=True)
class PlaylistWrite:
    id: str
    url: str
    created: bool


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


def add_once(client: SpotifyUserClient, playlist_id: str, uris: list[str], position: int) -> None:
    """Insert up to 100 songs at `position`; if the answer is lost, look at those positions
    before trying again, so a chunk is never added twice."""
    for _ in range(client.policy.max_attempts):
        try:
            client.add_playlist_items(playlist_id, uris, position=position)
            return
        except WriteOutcomeUnknown:
            if client.playlist_items_at(playlist_id, position, len(uris)) == uris:
                return  # it landed; only the answer was lost
    raise SpotifyUnavailable("Spotify kept losing its answer to adding songs")


def replace_items(client: SpotifyUserClient, playlist_id: str, uris: list[str]) -> None:
    """Make the playlist hold exactly `uris`: PUT the first 100 (safe to repeat), add the rest in order."""
    uris = addable(uris)
    client.put_playlist_items(playlist_id, uris[:ITEMS_PER_REQUEST])
    for start in range(ITEMS_PER_REQUEST, len(uris), ITEMS_PER_REQUEST):
        add_once(client, playlist_id, uris[start : start + ITEMS_PER_REQUEST], start)


def prepend_items(client: SpotifyUserClient, playlist_id: str, uris: list[str]) -> None:
    """Insert the newest songs at the top, in order (one request per 100)."""
    uris = addable(uris)
    for start in range(0, len(uris), ITEMS_PER_REQUEST):
        add_once(client, playlist_id, uris[start : start + ITEMS_PER_REQUEST], start)


def append_items(client: SpotifyUserClient, playlist_id: str, uris: list[str], *, at: int) -> None:
    """Add songs after the `at` songs the playlist holds, in order (one request per 100)."""
    uris = addable(uris)
    for start in range(0, len(uris), ITEMS_PER_REQUEST):
        add_once(client, playlist_id, uris[start : start + ITEMS_PER_REQUEST], at + start)


def fill(
    client: SpotifyUserClient, playlist_id: str, uris: list[str], *, name: str, url: str, empty: bool = False
) -> None:
    """Rewrite the playlist to hold `uris`; a rewrite that fails midway puts the old songs back.
    `empty`: the playlist is known to hold nothing (genrebot has just made it), so it is not read."""
    # Reading the old songs first costs a request per 50: worth it up to RESTORABLE songs. A
    # bigger rewrite that fails is left for the next sort (its record says "contents unknown").
    restorable = ITEMS_PER_REQUEST < len(uris) <= RESTORABLE
    previous = ([] if empty else addable(client.playlist_item_uris(playlist_id))) if restorable else None
    try:
        replace_items(client, playlist_id, uris)
    except _STOPS:
        raise
    except SpotifyError as exc:
        if previous is None:
            raise  # a single PUT either happened or did not: nothing half-written
        try:
            replace_items(client, playlist_id, previous)
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
        except _STOPS:
            raise
        except SpotifyError as exc:
            raise PlaylistWriteFailed(name, restored=False, playlist_id=ref.id, url=ref.url) from exc
    else:
        fill(client, ref.id, uris, name=name, url=ref.url)
    if not created:
        describe(client, ref.id, slot, name, description)
    return PlaylistWrite(ref.id, ref.url, created)
