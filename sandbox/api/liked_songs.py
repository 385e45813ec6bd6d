"""Liked Songs (`GET /me/tracks`) and "is this in my library?" (`GET /me/library/contains`)."""

from __future__ import annotations

from aiohttp import web

from sandbox import scopes
from sandbox.api.base import ApiError, Caller, Route, limit_offset, paging
from sandbox.api.objects import Shapes
from sandbox.records import is_spotify_id
from sandbox.state import SandboxState

MAX_CONTAINS_URIS = 40


class LikedSongsArea:
    def __init__(self, state: SandboxState, shapes: Shapes) -> None:
        self.state = state
        self.shapes = shapes

    def routes(self) -> list[Route]:
        return [("GET", "/v1/me/tracks", self.saved_tracks), ("GET", "/v1/me/library/contains", self.contains)]

    async def saved_tracks(self, request: web.Request, caller: Caller) -> web.Response:
        caller.require(scopes.LIBRARY_READ)
        limit, offset = limit_offset(request)
        user = caller.user
        hold = self.state.liked_page_hold(user.id, offset)
        if hold is not None:
            await hold.until()
            self.state.release_liked_page(user.id, offset, hold)
            if hold.then_status is not None:
                raise ApiError(hold.then_status, f"injected {hold.then_status}")
        with self.state.lock:
            window = [(t, at) for t, at in user.liked[offset : offset + limit] if t.id not in self.state.unlisted]
            total = len(user.liked)
        market = request.rel_url.query.get("market") or None
        items = [self.shapes.liked_entry(track, at, market=market) for track, at in window]
        body = paging(self.state.base_url, "/v1/me/tracks", items, total, limit, offset)
        self.state.liked_page_served(user.id)  # a hook may like songs now, between two pages
        return web.json_response(body)

    async def contains(self, request: web.Request, caller: Caller) -> web.Response:
        raw = request.rel_url.query.get("uris", "")
        uris = [u for u in raw.split(",") if u]
        if not uris:
            raise ApiError(400, "Missing required parameter: uris")
        if len(uris) > MAX_CONTAINS_URIS:
            raise ApiError(400, f"Too many uris: at most {MAX_CONTAINS_URIS}")
        parsed = []
        for uri in uris:
            prefix, _, rest = uri.partition(":")
            kind, _, ident = rest.partition(":")
            if prefix != "spotify" or kind not in scopes.CONTAINS_KINDS:
                raise ApiError(400, f"Unsupported URI: {uri}")
            if kind != "user" and not is_spotify_id(ident):
                raise ApiError(400, "Invalid base62 id")
            caller.require(scopes.contains_scope(kind))
            parsed.append((kind, ident, uri))
        user = caller.user
        with self.state.lock:
            liked = {t.uri for t, _ in user.liked}
            answer = []
            for kind, ident, uri in parsed:
                if kind == "playlist":
                    playlist = self.state.playlists.get(ident)
                    answer.append(bool(playlist and user.id in playlist.followers))
                else:
                    answer.append(uri in liked)
        return web.json_response(answer)
