"""Playlists: the user's list, creating one, details, and items (read, add, replace, reorder,
remove), with the rules Spotify enforces.

- `GET /me/playlists` lists what the user owns, follows or collaborates on; private ones need
  `playlist-read-private`, collaborative ones `playlist-read-collaborative` (else left out).
- `GET /playlists/{id}/items` (and the `items` page inside `GET /playlists/{id}`) is only for the
  owner and collaborators: anyone else gets 403 (2026 OpenAPI description: "A 403 Forbidden
  status code will be returned if the user is neither the owner nor a collaborator").
- Adding: catalogue URIs only ("Payload contains a non-existing ID"), no local files, at least
  one (400 "No uris provided", spotipy-dev/spotipy#1075; `{"uris": []}` too, jaedb/Iris#69) and at most
  100 per request, at most 10,000 items per playlist (an add past it is refused whole: 400 "Playlist
  size limit reached"); a `position` past the end is refused (403
  "Index out of bounds", spotipy-dev/spotipy#716), not turned into an append.
- Removing (`DELETE .../items`, body `{"items": [{"uri": ...}]}`): every occurrence of each URI
  goes, at most 100 URIs per request; a local file cannot be removed by its URI (Spotify answers
  400, spotify/web-api#612), and an entry Spotify shows as null has no URI to name.
- `fields` (on a playlist and on its items) returns only the fields named (`sandbox.api.fields`).
- An episode is an episode object only for a client that lists `episode` in `additional_types`;
  any other gets it dressed as a track (type "track", `episode: true`, its `spotify:episode:` URI).
- Every change, details included, gives the playlist a new `snapshot_id` (a version of the whole
  playlist, not of its items alone).
- Names up to 100 characters; descriptions up to 300 characters and without line breaks, else
  Spotify answers 500 (reported by ListenBrainz, metabrainz/troi-recommendation-playground#155).
  A description can be set but not changed to "" (400 "Attribute description is empty.",
  spotify/web-api#1011).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from sandbox import scopes
from sandbox.api.base import (
    MAX_URIS,
    Access,
    ApiError,
    Caller,
    Route,
    int_param,
    json_body,
    limit_offset,
    paging,
    playlist_for,
)
from sandbox.api.fields import filtered
from sandbox.api.objects import Shapes
from sandbox.records import SandboxPlaylist, is_spotify_id
from sandbox.state import SandboxState

MAX_PLAYLIST_ITEMS = 10_000
MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 300
MAX_LIST_OFFSET = 100_000


class PlaylistsArea:
    def __init__(self, state: SandboxState, shapes: Shapes) -> None:
        self.state = state
        self.shapes = shapes

    def routes(self) -> list[Route]:
        return [
            ("GET", "/v1/me/playlists", self.my_playlists),
            ("POST", "/v1/me/playlists", self.create),
            ("GET", "/v1/playlists/{playlist_id}", self.get),
            ("PUT", "/v1/playlists/{playlist_id}", self.change_details),
            ("GET", "/v1/playlists/{playlist_id}/items", self.get_items),
            ("POST", "/v1/playlists/{playlist_id}/items", self.add_items),
            ("PUT", "/v1/playlists/{playlist_id}/items", self.replace_or_reorder),
            ("DELETE", "/v1/playlists/{playlist_id}/items", self.remove_items),
        ]

    # --- the user's playlists ---------------------------------------------------------------

    async def my_playlists(self, request: web.Request, caller: Caller) -> web.Response:
        limit, offset = limit_offset(request, max_offset=MAX_LIST_OFFSET)
        visible = [p for p in self.state.playlists_of(caller.user.id) if _listable(p, caller)]
        items = [self.shapes.playlist(p, viewer_id=caller.user.id, full=False) for p in visible[offset : offset + limit]]
        return web.json_response(paging(self.state.base_url, "/v1/me/playlists", items, len(visible), limit, offset))

    async def create(self, request: web.Request, caller: Caller) -> web.Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Missing required field: name")
        public = _optional_bool(body, "public", default=True)
        collaborative = _optional_bool(body, "collaborative", default=False)
        if collaborative:
            caller.require(scopes.PLAYLIST_MODIFY_PRIVATE)
            caller.require(scopes.PLAYLIST_MODIFY_PUBLIC)
        else:
            caller.require(scopes.modify_scope(public))
        name = _name(body.get("name"))
        description = _description(body.get("description", ""))
        if collaborative and public:
            raise ApiError(400, "Collaborative playlists can only be private.")
        playlist = self.state.create_playlist(caller.user.id, name, description, public)
        playlist.collaborative = collaborative
        return web.json_response(self.shapes.playlist(playlist, viewer_id=caller.user.id, full=True), status=201)

    # --- one playlist -------------------------------------------------------------------------

    async def get(self, request: web.Request, caller: Caller) -> web.Response:
        playlist = playlist_for(self.state, request, caller, Access.METADATA)
        body = self.shapes.playlist(playlist, viewer_id=caller.user.id, full=True, episodes=_asks_for_episodes(request))
        return web.json_response(filtered(body, request.rel_url.query.get("fields")))

    async def change_details(self, request: web.Request, caller: Caller) -> web.Response:
        playlist = playlist_for(self.state, request, caller, Access.EDIT_DETAILS)
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid request body")
        public = _optional_bool(body, "public", default=playlist.public)
        collaborative = _optional_bool(body, "collaborative", default=playlist.collaborative)
        caller.require(scopes.modify_scope(public))
        name = _name(body["name"]) if "name" in body else playlist.name
        description = _description(body["description"]) if "description" in body else playlist.description
        if body.get("description") == "":  # spotify/web-api#1011: a description cannot be cleared
            raise ApiError(400, "Attribute description is empty.")
        if collaborative and public:
            raise ApiError(400, "You can only set collaborative to true on non-public playlists.")
        with self.state.lock:
            playlist.name, playlist.description = name, description
            playlist.public, playlist.collaborative = public, collaborative
            _changed(playlist)
        return web.Response(status=200)

    # --- items ------------------------------------------------------------------------------

    async def get_items(self, request: web.Request, caller: Caller) -> web.Response:
        playlist = playlist_for(self.state, request, caller, Access.READ_ITEMS)
        limit, offset = limit_offset(request)
        page = self.shapes.items_page(playlist, limit, offset, episodes=_asks_for_episodes(request),
                                      market=request.rel_url.query.get("market") or None)
        return web.json_response(filtered(page, request.rel_url.query.get("fields")))

    async def add_items(self, request: web.Request, caller: Caller) -> web.Response:
        playlist = playlist_for(self.state, request, caller, Access.EDIT_ITEMS)
        body = await json_body(request)
        query = request.rel_url.query
        # spotipy's playlist_add_items posts a bare list; the documented form is {"uris": [...]};
        # `uris` in the query string wins over the body.
        if query.get("uris"):
            uris: Any = query["uris"].split(",")
        else:
            uris = body if isinstance(body, list) else body.get("uris") if isinstance(body, dict) else None
        if not uris:  # an add of nothing is refused (spotipy-dev/spotipy#1075, jaedb/Iris#69), not a new snapshot
            raise ApiError(400, "No uris provided")
        self._check_uris(uris)
        if "position" in query:
            position: int | None = int_param(query, "position", 0)
        else:
            position = _optional_int(body, "position") if isinstance(body, dict) else None
        now = datetime.now(UTC)
        with self.state.lock:
            if len(playlist.items) + len(uris) > MAX_PLAYLIST_ITEMS:
                # 400, not the 403 Spotify's older reference named (spotify/web-api#1179): clients of
                # the real service test for `http_status == 400` and this message.
                raise ApiError(400, "Playlist size limit reached")
            if position is not None and position > len(playlist.items):
                # Spotify refuses a position past the end instead of appending (spotipy#716).
                raise ApiError(403, "Index out of bounds")
            at = len(playlist.items) if position is None else position
            playlist.items[at:at] = [(u, now) for u in uris]
            snapshot = _changed(playlist)
        return web.json_response({"snapshot_id": snapshot}, status=201)

    async def replace_or_reorder(self, request: web.Request, caller: Caller) -> web.Response:
        playlist = playlist_for(self.state, request, caller, Access.EDIT_ITEMS)
        body = await json_body(request)
        query = request.rel_url.query
        if isinstance(body, dict) and "range_start" in body and "uris" not in body and "uris" not in query:
            return web.json_response({"snapshot_id": self._reorder(playlist, body)})
        if query.get("uris") is not None:
            uris: Any = [u for u in query["uris"].split(",") if u]
        else:
            uris = body.get("uris") if isinstance(body, dict) else body if isinstance(body, list) else None
        self._check_uris(uris)
        now = datetime.now(UTC)
        with self.state.lock:
            playlist.items = [(u, now) for u in uris]
            snapshot = _changed(playlist)
        return web.json_response({"snapshot_id": snapshot})

    def _reorder(self, playlist: SandboxPlaylist, body: dict[str, Any]) -> str:
        start = _optional_int(body, "range_start")
        before = _optional_int(body, "insert_before")
        length = _optional_int(body, "range_length")
        length = 1 if length is None else length
        with self.state.lock:
            size = len(playlist.items)
            if start is None or before is None or start + length > size or before > size or length < 1:
                raise ApiError(400, "Invalid range")
            moved = playlist.items[start : start + length]
            rest = playlist.items[:start] + playlist.items[start + length :]
            at = before if before <= start else before - length
            playlist.items = rest[:at] + moved + rest[at:]
            return _changed(playlist)

    async def remove_items(self, request: web.Request, caller: Caller) -> web.Response:
        playlist = playlist_for(self.state, request, caller, Access.EDIT_ITEMS)
        body = await json_body(request)
        entries = body.get("items") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ApiError(400, "Missing required field: items")
        if len(entries) > MAX_URIS:
            raise ApiError(400, f"You can remove a maximum of {MAX_URIS} tracks per request.")
        if not all(isinstance(e, dict) and isinstance(e.get("uri"), str) for e in entries):
            raise ApiError(400, "Invalid items")
        remove = {e["uri"] for e in entries}
        for uri in remove:
            _song_or_episode(uri)
        with self.state.lock:
            playlist.items = [(u, at) for u, at in playlist.items if u not in remove]
            snapshot = _changed(playlist)
        return web.json_response({"snapshot_id": snapshot})

    def _check_uris(self, uris: Any) -> None:
        """Only songs and episodes Spotify knows can go in: local files and unknown ids are refused."""
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise ApiError(400, "Invalid uris")
        if len(uris) > MAX_URIS:
            raise ApiError(400, f"You can add a maximum of {MAX_URIS} tracks per request.")
        for uri in uris:
            kind, ident = _song_or_episode(uri)
            known = self.state.tracks if kind == "track" else self.state.episodes
            if ident not in known:
                raise ApiError(400, "Payload contains a non-existing ID")


def _song_or_episode(uri: str) -> tuple[str, str]:
    """The kind ("track" or "episode") and id of a URI a write may name; anything else (a local
    file, a malformed id) is refused as Spotify refuses it."""
    prefix, _, rest = uri.partition(":")
    kind, _, ident = rest.partition(":")
    if prefix != "spotify" or kind not in ("track", "episode"):
        raise ApiError(400, f"Invalid track uri: {uri}")
    if not is_spotify_id(ident):
        raise ApiError(400, "Invalid base62 id")
    return kind, ident


def _asks_for_episodes(request: web.Request) -> bool:
    """Whether the client lists `episode` in `additional_types`; without it Spotify dresses
    episodes as tracks, for clients older than podcasts."""
    return "episode" in request.rel_url.query.get("additional_types", "").split(",")


def _listable(playlist: SandboxPlaylist, caller: Caller) -> bool:
    if playlist.collaborative:
        return caller.has(scopes.PLAYLIST_READ_COLLABORATIVE)
    return playlist.public or caller.has(scopes.PLAYLIST_READ_PRIVATE)


def _changed(playlist: SandboxPlaylist) -> str:
    playlist.snapshot += 1
    return f"snap{playlist.snapshot}"


def _optional_bool(body: dict[str, Any], key: str, *, default: bool) -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ApiError(400, f"Invalid {key}")
    return value


def _optional_int(body: dict[str, Any] | None, key: str) -> int | None:
    value = None if body is None else body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(400, f"Invalid {key}")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "Missing required field: name")
    if len(value) > MAX_NAME_CHARS:
        raise ApiError(400, f"Invalid name: at most {MAX_NAME_CHARS} characters")
    return value


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, "Invalid description")
    if len(value) > MAX_DESCRIPTION_CHARS or "\n" in value or "\r" in value:
        # What Spotify really does with an over-long or multi-line description.
        raise ApiError(500, "Server error.")
    return value
