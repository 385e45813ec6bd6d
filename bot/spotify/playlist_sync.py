"""Writing one genre playlist: reuse the one genrebot made before, or make a new one.

Spotify's "delete playlist" is an unfollow, so a playlist is reused only while the member still
follows it. Replacing items takes several requests (PUT 100, then POST 100 at a time); if one
fails for good, the previous songs are put back, so no playlist is left half-written silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.spotify.client import SpotifyUserClient
from bot.spotify.errors import PlaylistWriteFailed, SpotifyError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaylistWrite:
    id: str
    url: str
    created: bool


def write_playlist(
    client: SpotifyUserClient,
    *,
    existing_id: str | None,
    name: str,
    description: str,
    uris: list[str],
    prepend: list[str] | None = None,
    append: list[str] | None = None,
) -> PlaylistWrite:
    """Make the playlist hold `uris`. With `prepend` (or `append`), the caller vouches that the
    playlist already holds `uris` minus these songs, so only they are added at the top (or the
    end): one request for up to 100 songs, instead of rewriting the whole playlist every week."""
    playlist_id: str | None = None
    url = ""
    if existing_id and client.playlist_is_followed(existing_id):
        playlist_id = existing_id
        url = f"https://open.spotify.com/playlist/{existing_id}"
    if playlist_id is None:
        ref = client.create_playlist(name, description, public=False)
        try:
            client.replace_playlist_items(ref.id, uris)
        except SpotifyError as exc:
            raise PlaylistWriteFailed(name, restored=False, playlist_id=ref.id, url=ref.url) from exc
        return PlaylistWrite(ref.id, ref.url, created=True)

    if prepend is not None:
        for start in range(0, len(prepend), 100):
            client.add_playlist_items(playlist_id, prepend[start : start + 100], position=start)
        client.update_playlist_details(playlist_id, name, description)
        return PlaylistWrite(playlist_id, url, created=False)
    if append is not None:
        for start in range(0, len(append), 100):
            client.add_playlist_items(playlist_id, append[start : start + 100])
        client.update_playlist_details(playlist_id, name, description)
        return PlaylistWrite(playlist_id, url, created=False)

    previous = client.playlist_item_uris(playlist_id) if len(uris) > 100 else None
    try:
        client.replace_playlist_items(playlist_id, uris)
    except SpotifyError as exc:
        if previous is None:
            raise  # a single PUT either happened or did not: nothing half-written
        try:
            client.replace_playlist_items(playlist_id, previous)
        except SpotifyError:
            log.warning("could not restore playlist %s after a failed write", playlist_id)
            raise PlaylistWriteFailed(name, restored=False, playlist_id=playlist_id, url=url) from exc
        raise PlaylistWriteFailed(name, restored=True, playlist_id=playlist_id, url=url) from exc
    client.update_playlist_details(playlist_id, name, description)
    return PlaylistWrite(playlist_id, url, created=False)
