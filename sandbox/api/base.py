"""What every Web API area shares: the caller, Spotify's error answers, strict parameter
parsing, paging objects, and the one place that finds a playlist and decides who may use it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from aiohttp import web

from sandbox import scopes
from sandbox.records import Grant, SandboxPlaylist, SandboxUser, is_spotify_id
from sandbox.state import SandboxState

MAX_LIMIT = 50
MAX_URIS = 100


class ApiError(Exception):
    """An answer in Spotify's error shape: `{"error": {"status": N, "message": "..."}}`."""

    def __init__(self, status: int, message: str, *, reason: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return api_error(self.status, self.message, reason=self.reason, headers=self.headers)


def api_error(status: int, message: str, *, reason: str | None = None,
              headers: Mapping[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if reason:
        body["reason"] = reason
    return web.json_response({"error": body}, status=status, headers=headers)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the user behind the token and what the token allows."""

    user: SandboxUser
    grant: Grant

    @property
    def client_id(self) -> str:
        return self.grant.client_id

    def has(self, scope: str) -> bool:
        return scope in self.grant.scopes

    def require(self, *any_of: str) -> None:
        if not any(self.has(scope) for scope in any_of):
            raise ApiError(403, scopes.INSUFFICIENT_SCOPE)


ApiHandler = Callable[[web.Request, Caller], Awaitable[web.StreamResponse]]
Route = tuple[str, str, ApiHandler]


class Access(Enum):
    """What a caller wants to do with a playlist; `playlist_for` checks it."""

    METADATA = "metadata"  # anyone may look a playlist up by id
    READ_ITEMS = "read items"  # owner or collaborator (2026 rule for development-mode apps)
    EDIT_ITEMS = "edit items"  # owner or collaborator, with the modify scope for its visibility
    EDIT_DETAILS = "edit details"  # owner only


def playlist_for(state: SandboxState, request: web.Request, caller: Caller, access: Access) -> SandboxPlaylist:
    """The playlist in the path, or the error Spotify answers: 400 for a malformed id, 404 for
    an unknown one, 403 for a caller who may not do `access` (or lacks the scope for it)."""
    playlist_id = request.match_info["playlist_id"]
    if not is_spotify_id(playlist_id):
        raise ApiError(400, "Invalid base62 id")
    playlist = state.playlists.get(playlist_id)
    if playlist is None:
        raise ApiError(404, "Resource not found")
    user_id = caller.user.id
    if access is Access.READ_ITEMS:
        if not playlist.public:
            caller.require(scopes.PLAYLIST_READ_PRIVATE)
        if not playlist.is_editor(user_id):
            raise ApiError(403, "Forbidden")
    elif access is Access.EDIT_ITEMS:
        caller.require(scopes.modify_scope(playlist.public))
        if not playlist.is_editor(user_id):
            raise ApiError(403, "You cannot add tracks to a playlist you don't own.")
    elif access is Access.EDIT_DETAILS and playlist.owner_id != user_id:
        raise ApiError(403, "You cannot change details of a playlist you don't own.")
    return playlist


def int_param(query: Mapping[str, str], name: str, default: int, *, minimum: int = 0,
              maximum: int | None = None) -> int:
    """A whole-number query parameter within bounds; anything else is 400, never a crash."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip(), 10)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError(400, f"Invalid {name}")
    return value


def limit_offset(request: web.Request, *, default: int = 20, max_offset: int | None = None) -> tuple[int, int]:
    query = request.rel_url.query
    limit = int_param(query, "limit", default, minimum=1, maximum=MAX_LIMIT)
    offset = int_param(query, "offset", 0, minimum=0, maximum=max_offset)
    return limit, offset


async def json_body(request: web.Request) -> Any:
    """The request's JSON, None without a body; malformed JSON is 400 as on Spotify."""
    if not request.can_read_body:
        return None
    text = await request.text()
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ApiError(400, "Error parsing JSON.") from None


def paging(base_url: str, path: str, items: list[Any], total: int, limit: int, offset: int,
           extra: str = "") -> dict[str, Any]:
    """Spotify's paging object, with absolute `next`/`previous` URLs (spotipy follows them)."""

    def page_url(at: int) -> str:
        return f"{base_url}{path}?offset={at}&limit={limit}{extra}"

    return {
        "href": page_url(offset),
        "items": items,
        "limit": limit,
        "next": page_url(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": page_url(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
