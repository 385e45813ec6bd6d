"""Spotify's JSON objects, built from the sandbox's records.

Shapes follow the 2026 OpenAPI description, trimmed as Spotify trims them for development-mode
apps (no `popularity`, `preview_url`, artist `genres`/`followers`, user `country`/`email`/
`product`; and, from Spotify's February 2026 changelog, "Track [REMOVED] available_markets ...
linked_from", "Album [REMOVED] available_markets", "Show [REMOVED] available_markets ... publisher",
which an app in extended quota mode keeps: `SandboxState.extended_quota`), and the documented odd
cases: a song Spotify no longer serves is `null`, a local file is a track object with `null` ids
and a `spotify:local:` URI ("Local Files in Spotify Playlists"), an episode is an episode object
(dressed as a track for a client that leaves it out of `additional_types`), and a request naming a
`market` gets Track Relinking's relinked instance and `is_playable` (and `linked_from`, naming the
song asked for, only in extended quota mode).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from music import Track
from sandbox.api.base import iso, paging
from sandbox.records import Episode, LocalFile, SandboxPlaylist, SandboxUser
from sandbox.state import SandboxState

PLAYLIST_ITEMS_PAGE = 100  # a full playlist object embeds its first 100 items


def escaped_description(text: str) -> str:
    """A playlist description as Spotify answers it: HTML-escaped (spotify/web-api#980; apostrophes
    come back as `&#x27;` and slashes as `&#x2F;`), though it is stored as the client sent it."""
    return html.escape(text).replace("/", "&#x2F;")


class Shapes:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def url(self, path: str) -> str:
        return f"{self.state.base_url}{path}"

    def _markets(self, markets: list[str]) -> dict[str, Any]:
        """`available_markets` for an extended-quota app; development-mode apps lost it (Feb 2026)."""
        return {"available_markets": markets} if self.state.extended_quota else {}

    # --- users ----------------------------------------------------------------------------------

    def user(self, user: SandboxUser, *, private: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": user.id,
            "display_name": user.display_name,
            "type": "user",
            "uri": f"spotify:user:{user.id}",
            "href": self.url(f"/v1/users/{user.id}"),
            "external_urls": {"spotify": f"https://open.spotify.com/user/{user.id}"},
            "images": [],
        }
        if private:
            body["account_id"] = user.account_id
        return body

    def user_ref(self, user_id: str) -> dict[str, Any]:
        """A playlist owner or `added_by`: the public user object, by id."""
        user = self.state.users.get(user_id)
        if user is not None:
            body = self.user(user, private=False)
            body.pop("images")
            return body
        return {"id": user_id, "type": "user", "uri": f"spotify:user:{user_id}", "display_name": None,
                "href": self.url(f"/v1/users/{user_id}"),
                "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"}}

    # --- tracks, local files, episodes -----------------------------------------------------------

    def artist(self, name: str, artist_id: str) -> dict[str, Any]:
        return {
            "id": artist_id,
            "name": name,
            "type": "artist",
            "uri": f"spotify:artist:{artist_id}",
            "href": self.url(f"/v1/artists/{artist_id}"),
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        }

    def track_in_market(self, track: Track) -> dict[str, Any]:
        """A track as a request naming a market gets it: relinked to the instance playable there
        (with `linked_from` for an extended-quota app only), and `is_playable` said ("Track
        Relinking"; only then is it there)."""
        instead = self.state.relinked.get(track.id)
        body = self.track(instead or track)
        if instead is not None and self.state.extended_quota:
            body["linked_from"] = {"id": track.id, "type": "track", "uri": track.uri,
                                   "href": self.url(f"/v1/tracks/{track.id}"),
                                   "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"}}
        playable = (instead or track).id not in self.state.unplayable
        body["is_playable"] = playable
        if not playable:
            body["restrictions"] = {"reason": "market"}
        return body

    def track(self, track: Track) -> dict[str, Any]:
        ids = track.artist_ids or ("",) * len(track.artists)
        artists = [self.artist(name, aid) for name, aid in zip(track.artists, ids, strict=False)]
        date = track.release_date or "1970"
        precision = {4: "year", 7: "month"}.get(len(date), "day")
        album_id = "al" + track.id[2:]
        return {
            "id": track.id,
            "name": track.name,
            "type": "track",
            "uri": track.uri,
            "href": self.url(f"/v1/tracks/{track.id}"),
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
            "duration_ms": track.duration_ms or 0,
            "explicit": bool(track.explicit),
            "is_local": False,
            "disc_number": 1,
            "track_number": 1,
            "artists": artists,
            "album": {
                "id": album_id,
                "name": track.album,
                "album_type": "album",
                "total_tracks": 12,
                "release_date": date,
                "release_date_precision": precision,
                "type": "album",
                "uri": f"spotify:album:{album_id}",
                "href": self.url(f"/v1/albums/{album_id}"),
                "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
                "images": [],
                "artists": artists[:1],
                **self._markets(["DE", "US"]),
            },
            **self._markets(["DE", "US"]),
            "external_ids": {},
        }

    def local_track(self, local: LocalFile) -> dict[str, Any]:
        """As documented: ids, hrefs and URIs of album and artist null, only the tags filled."""
        nobody: dict[str, Any] = {"external_urls": {}, "href": None, "id": None, "name": local.artists[0] if local.artists else "",
                                  "type": "artist", "uri": None}
        return {
            "album": {"album_type": None, **self._markets([]), "external_urls": {}, "href": None, "id": None,
                      "images": [], "name": local.album, "release_date": None, "release_date_precision": None,
                      "type": "album", "uri": None, "artists": []},
            "artists": [nobody],
            **self._markets([]),
            "disc_number": 0,
            "duration_ms": local.duration_ms or 0,
            "explicit": False,
            "external_ids": {},
            "external_urls": {},
            "href": None,
            "id": None,
            "is_local": True,
            "name": local.name,
            "track_number": 0,
            "type": "track",
            "uri": local.uri,
        }

    def episode(self, episode: Episode) -> dict[str, Any]:
        show_id = "sh" + episode.id[2:]
        return {
            "id": episode.id,
            "name": episode.name,
            "type": "episode",
            "uri": episode.uri,
            "href": self.url(f"/v1/episodes/{episode.id}"),
            "external_urls": {"spotify": f"https://open.spotify.com/episode/{episode.id}"},
            "audio_preview_url": None,
            "description": "",
            "html_description": "",
            "duration_ms": episode.duration_ms,
            "explicit": False,
            "images": [],
            "is_externally_hosted": False,
            "is_playable": True,
            "languages": ["en"],
            "release_date": episode.release_date,
            "release_date_precision": "day",
            "show": {
                "id": show_id,
                "name": episode.show,
                **({"publisher": episode.publisher} if self.state.extended_quota else {}),
                "type": "show",
                "uri": f"spotify:show:{show_id}",
                "href": self.url(f"/v1/shows/{show_id}"),
                "external_urls": {"spotify": f"https://open.spotify.com/show/{show_id}"},
                **self._markets(["DE", "US"]),
                "copyrights": [],
                "description": "",
                "html_description": "",
                "explicit": False,
                "images": [],
                "is_externally_hosted": False,
                "languages": ["en"],
                "media_type": "audio",
                "total_episodes": 1,
            },
        }

    def episode_as_track(self, episode: Episode) -> dict[str, Any]:
        """An episode as playlist items give it to a client that did not ask for episodes
        (`additional_types`, "introduced to allow existing clients to maintain their current
        behaviour"): a track-shaped object flagged `episode`, its show as album and artist, and its
        own `spotify:episode:` URI (rspotify#320, tekore#170)."""
        show_id = "sh" + episode.id[2:]
        show = {"id": show_id, "name": episode.show, "type": "artist", "uri": f"spotify:show:{show_id}",
                "href": self.url(f"/v1/shows/{show_id}"),
                "external_urls": {"spotify": f"https://open.spotify.com/show/{show_id}"}}
        return {
            "id": episode.id,
            "name": episode.name,
            "type": "track",
            "episode": True,
            "track": False,
            "uri": episode.uri,
            "href": self.url(f"/v1/episodes/{episode.id}"),
            "external_urls": {"spotify": f"https://open.spotify.com/episode/{episode.id}"},
            "duration_ms": episode.duration_ms,
            "explicit": False,
            "is_local": False,
            "is_playable": True,
            "disc_number": 0,
            "track_number": 0,
            "artists": [show],
            "album": {
                "id": show_id,
                "name": episode.show,
                "album_type": "compilation",
                "total_tracks": 1,
                "release_date": episode.release_date,
                "release_date_precision": "day",
                "type": "album",
                "uri": f"spotify:show:{show_id}",
                "href": self.url(f"/v1/shows/{show_id}"),
                "external_urls": {"spotify": f"https://open.spotify.com/show/{show_id}"},
                "images": [],
                "artists": [show],
                **self._markets(["DE", "US"]),
            },
            **self._markets(["DE", "US"]),
            "external_ids": {},
        }

    def item(self, uri: str, *, episodes: bool = True, market: str | None = None) -> tuple[dict[str, Any] | None, bool]:
        """The object behind a playlist or library entry, and whether it is a local file.
        None for a song Spotify no longer serves (or never knew). `episodes=False`: a client that
        did not ask for episodes gets one dressed as a track (`episode_as_track`); `market`: the
        request named one, so tracks are relinked (`track_in_market`)."""
        state = self.state
        if uri.startswith("spotify:local:"):
            local = state.local_files.get(uri)
            return (self.local_track(local) if local else None), True
        kind, _, ident = uri.removeprefix("spotify:").partition(":")
        if kind == "episode":
            episode = state.episodes.get(ident)
            if episode is None:
                return None, False
            return (self.episode(episode) if episodes else self.episode_as_track(episode)), False
        track = state.tracks.get(ident)
        if track is None or ident in state.unavailable:
            return None, False
        return (self.track(track) if market is None else self.track_in_market(track)), False

    def liked_entry(self, track: Track, added_at: datetime, *, market: str | None = None) -> dict[str, Any]:
        obj, _ = self.item(track.uri, market=market)
        return {"added_at": iso(added_at), "track": obj}

    # --- playlists ------------------------------------------------------------------------------

    def playlist_entry(self, playlist: SandboxPlaylist, uri: str, added_at: datetime, *, episodes: bool = True,
                       market: str | None = None) -> dict[str, Any]:
        obj, is_local = self.item(uri, episodes=episodes, market=market)
        if obj is not None and obj["type"] == "track" and not is_local:
            obj.setdefault("episode", False)  # playlist entries flag which kind they are
            obj.setdefault("track", True)
        # Spotify's 2026 migration: entries carry `item`, with `track` kept for old clients (for now).
        entry = {"added_at": iso(added_at), "added_by": self.user_ref(playlist.owner_id), "is_local": is_local,
                 "item": obj}
        if self.state.deprecated_track_fields:
            entry["track"] = obj
        return entry

    def items_page(self, playlist: SandboxPlaylist, limit: int, offset: int, *, episodes: bool = True,
                   market: str | None = None) -> dict[str, Any]:
        with self.state.lock:
            window = list(playlist.items[offset : offset + limit])
            total = len(playlist.items)
        entries = [self.playlist_entry(playlist, uri, at, episodes=episodes, market=market) for uri, at in window]
        return paging(self.state.base_url, f"/v1/playlists/{playlist.id}/items", entries, total, limit, offset)

    def playlist(self, playlist: SandboxPlaylist, *, viewer_id: str, full: bool, episodes: bool = True) -> dict[str, Any]:
        """The simplified object (lists) or the full one (look-ups), whose `items` page is there
        only for the owner and collaborators: other playlists give metadata alone (Feb 2026)."""
        items: dict[str, Any] = {"href": self.url(f"/v1/playlists/{playlist.id}/items"), "total": len(playlist.items)}
        if full and playlist.is_editor(viewer_id):
            items = self.items_page(playlist, PLAYLIST_ITEMS_PAGE, 0, episodes=episodes)
        body: dict[str, Any] = {
            "id": playlist.id,
            "name": playlist.name,
            "description": escaped_description(playlist.description),
            "public": playlist.public,
            "collaborative": playlist.collaborative,
            "type": "playlist",
            "uri": f"spotify:playlist:{playlist.id}",
            "href": self.url(f"/v1/playlists/{playlist.id}"),
            "external_urls": {"spotify": f"https://open.spotify.com/playlist/{playlist.id}"},
            "images": [],
            "snapshot_id": f"snap{playlist.snapshot}",
            "owner": self.user_ref(playlist.owner_id),
        }
        if full and not playlist.is_editor(viewer_id):
            return body
        body["items"] = items
        if self.state.deprecated_track_fields:
            body["tracks"] = items
        return body
