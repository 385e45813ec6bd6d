"""The sandbox's HTTP face: Spotify's accounts service and Web API v1 on one port.

Speaks the real protocol so unmodified clients (spotipy, a browser) work against it: the
authorisation-code flow with a consent page, bearer tokens that expire, paging objects with
absolute `next` URLs, Spotify's error bodies, trailing slashes, both request-body forms spotipy
sends, and playlist entries under `item` and `track`. Latency, 429s, quota 429s and 5xx can be
injected through `SandboxState`.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from music import Track
from sandbox.state import Grant, LoggedRequest, SandboxPlaylist, SandboxState, SandboxUser

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_LIMIT = 50
MAX_URIS = 100


def api_error(status: int, message: str, *, reason: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if reason:
        body["reason"] = reason
    return web.json_response({"error": body}, status=status, headers=headers)


def token_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


class SandboxApp:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.app = web.Application(middlewares=[self._log_and_faults], client_max_size=2 * 1024 * 1024)
        r = self.app.router
        r.add_get("/authorize", self.authorize)
        r.add_post("/authorize", self.authorize_decision)
        r.add_post("/api/token", self.token)
        r.add_get("/_sandbox/stats", self.stats)
        r.add_post("/_sandbox/like", self.like_new_songs)
        self._api("GET", "/v1/me", self.me)
        self._api("GET", "/v1/me/tracks", self.saved_tracks)
        self._api("GET", "/v1/audio-features", self.audio_features)
        self._api("GET", "/v1/me/playlists", self.my_playlists)
        self._api("POST", "/v1/me/playlists", self.create_playlist)
        self._api("GET", "/v1/me/library/contains", self.library_contains)
        self._api("GET", "/v1/playlists/{playlist_id}", self.get_playlist)
        self._api("PUT", "/v1/playlists/{playlist_id}", self.change_playlist)
        self._api("GET", "/v1/playlists/{playlist_id}/items", self.get_items)
        self._api("POST", "/v1/playlists/{playlist_id}/items", self.add_items)
        self._api("PUT", "/v1/playlists/{playlist_id}/items", self.replace_items)
        self._api("DELETE", "/v1/playlists/{playlist_id}/items", self.remove_items)
        self._api("DELETE", "/v1/playlists/{playlist_id}/followers", self.unfollow)
        for removed in ("/v1/playlists/{playlist_id}/tracks", "/v1/users/{user_id}/playlists"):
            for method in ("GET", "POST", "PUT", "DELETE"):
                self.app.router.add_route(method, removed, self.removed_endpoint)

    def _api(self, method: str, path: str, handler: Callable[[web.Request, SandboxUser], Awaitable[web.Response]]) -> None:
        async def authorised(request: web.Request) -> web.Response:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return api_error(401, "No token provided")
            user = self.state.user_for_token(header[7:])
            if user is None:
                return api_error(401, "The access token expired")
            if not user.registered:
                return api_error(
                    403, "User not registered in the Developer Dashboard. Check settings on developer.spotify.com/dashboard"
                )
            return await handler(request, user)

        # Spotify accepts a trailing slash and spotipy relies on it (`me/`, `audio-features/?ids=`).
        self.app.router.add_route(method, path, authorised)
        self.app.router.add_route(method, path + "/", authorised)

    @web.middleware
    async def _log_and_faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        state = self.state
        path = request.path
        try:
            if state.latency_s and (path.startswith("/v1/") or path == "/api/token"):
                await asyncio.sleep(state.latency_s)
            fault = state.take_fault(request.method, path)
            if fault is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                response: web.StreamResponse = api_error(fault.status, fault.message, reason=fault.reason, headers=headers)
            else:
                try:
                    response = await handler(request)
                except web.HTTPException as exc:
                    if exc.status == 404 and path.startswith("/v1/"):
                        response = api_error(404, "Service not found")
                    elif exc.status == 405 and path.startswith("/v1/"):
                        response = api_error(405, "Method not allowed")
                    else:
                        raise
        except web.HTTPException as exc:
            with state.lock:
                state.requests.append(LoggedRequest(request.method, path, exc.status, state.clock()))
            raise
        with state.lock:
            state.requests.append(LoggedRequest(request.method, path, response.status, state.clock()))
        return response

    async def stats(self, request: web.Request) -> web.Response:
        """Request counts, for benchmarks that run the sandbox in another process."""
        with self.state.lock:
            api_requests = [r for r in self.state.requests if r.path.startswith("/v1/")]
        by_route: dict[str, int] = {}
        for r in api_requests:
            route = f"{r.method} {r.path.split('/')[2] if r.path.count('/') > 1 else r.path}"
            by_route[route] = by_route.get(route, 0) + 1
        return web.json_response({"api_requests": len(api_requests), "by_route": by_route})

    async def like_new_songs(self, request: web.Request) -> web.Response:
        """`user` likes `count` new synthetic songs: for benchmarks of the weekly refresh."""
        from sandbox.library import synthetic_library

        user = request.rel_url.query.get("user", "")
        count = int(request.rel_url.query.get("count", "1"))
        if user not in self.state.users or not 0 < count <= 10_000:
            return api_error(400, "unknown user or bad count")
        self.state.like(user, synthetic_library(count, seed=len(self.state.requests) + 1, prefix="liked-later"))
        return web.json_response({"liked": count})

    # --- accounts service -------------------------------------------------------------------

    def _check_authorize_params(self, params: Any) -> str | None:
        client_id = params.get("client_id", "")
        if client_id not in self.state.apps:
            return "INVALID_CLIENT: Invalid client"
        if params.get("response_type") != "code":
            return "unsupported_response_type: response_type must be code"
        redirect = params.get("redirect_uri", "")
        allowed = self.state.redirect_uris
        if allowed is not None and redirect not in allowed:
            return "INVALID_CLIENT: Invalid redirect URI"
        if allowed is None and not (redirect.startswith("https://") or redirect.startswith("http://127.0.0.1")
                                    or redirect.startswith("http://[::1]")):
            return "INVALID_CLIENT: Insecure redirect URI"
        return None

    async def authorize(self, request: web.Request) -> web.Response:
        params = request.rel_url.query
        problem = self._check_authorize_params(params)
        if problem:
            return web.Response(status=400, text=problem)
        user_id = params.get("sandbox_user") or self.state.default_user
        if user_id not in self.state.users:
            return web.Response(status=400, text="no such sandbox user")
        if self.state.auto_approve:
            return self._redirect_back(params, user_id, approved=True)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        page = (
            "<!doctype html><meta name=viewport content='width=device-width'><title>Spotify sandbox</title>"
            f"<h1>Allow {html.escape(params['client_id'])} to access {html.escape(self.state.users[user_id].display_name)}'s Spotify?</h1>"
            f"<p>Scopes: {html.escape(params.get('scope', ''))}</p>"
            f"<form method=post>{hidden}<input type=hidden name=sandbox_user value='{html.escape(user_id)}'>"
            "<button name=decision value=approve>Approve</button> <button name=decision value=deny>Deny</button></form>"
        )
        return web.Response(text=page, content_type="text/html")

    async def authorize_decision(self, request: web.Request) -> web.Response:
        form = await request.post()
        params = {k: str(v) for k, v in form.items()}
        problem = self._check_authorize_params(params)
        if problem:
            return web.Response(status=400, text=problem)
        user_id = params.get("sandbox_user") or self.state.default_user or ""
        return self._redirect_back(params, user_id, approved=params.get("decision") == "approve")

    def _redirect_back(self, params: Any, user_id: str, *, approved: bool) -> web.Response:
        redirect = params["redirect_uri"]
        query: dict[str, str] = {}
        if approved:
            query["code"] = self.state.issue_code(user_id, params["client_id"], params.get("scope", ""), redirect)
        else:
            query["error"] = "access_denied"
        if params.get("state") is not None:
            query["state"] = params["state"]
        raise web.HTTPFound(f"{redirect}?{urlencode(query)}")

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id, client_secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return token_error(400, "invalid_client", "Invalid client")
        if self.state.apps.get(client_id) != client_secret or not client_id:
            return token_error(400, "invalid_client", "Invalid client")
        grant_type = form.get("grant_type")
        state = self.state
        with state.lock:
            if grant_type == "authorization_code":
                code = str(form.get("code", ""))
                entry = state.codes.pop(code, None)
                if entry is None or code in state.used_codes:
                    return token_error(400, "invalid_grant", "Invalid authorization code")
                state.used_codes.add(code)
                grant, redirect, expires = entry
                if expires < state.clock() or grant.client_id != client_id:
                    return token_error(400, "invalid_grant", "Invalid authorization code")
                if str(form.get("redirect_uri", "")) != redirect:
                    return token_error(400, "invalid_grant", "Invalid redirect URI")
                return web.json_response(state.issue_tokens(grant))
            if grant_type == "refresh_token":
                refresh = str(form.get("refresh_token", ""))
                grant = state.refresh_tokens.get(refresh)  # type: ignore[assignment]
                if grant is None or grant.client_id != client_id:
                    return token_error(400, "invalid_grant", "Invalid refresh token")
                if grant.expires_at < state.clock():
                    return token_error(400, "invalid_grant", "Refresh token expired")
                return web.json_response(state.issue_tokens(Grant(grant.user_id, grant.client_id, grant.scope, 0), refresh))
        return token_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    # --- Web API -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.state.base_url}{path}"

    def _paging(self, path: str, items: list[Any], total: int, limit: int, offset: int, extra: str = "") -> dict[str, Any]:
        def page_url(at: int) -> str:
            return self._url(f"{path}?offset={at}&limit={limit}{extra}")

        return {
            "href": page_url(offset),
            "items": items,
            "limit": limit,
            "next": page_url(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": page_url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    def _limit_offset(self, request: web.Request, default: int = 20) -> tuple[int, int] | web.Response:
        try:
            limit = int(request.rel_url.query.get("limit", default))
            offset = int(request.rel_url.query.get("offset", 0))
        except ValueError:
            return api_error(400, "Invalid limit or offset")
        if not 0 < limit <= MAX_LIMIT or offset < 0:
            return api_error(400, "Invalid limit")
        return limit, offset

    def _user_object(self, user: SandboxUser, *, private: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": user.id,
            "display_name": user.display_name,
            "type": "user",
            "uri": f"spotify:user:{user.id}",
            "href": self._url(f"/v1/users/{user.id}"),
            "external_urls": {"spotify": f"https://open.spotify.com/user/{user.id}"},
        }
        if private:
            body.update({"account_id": user.account_id, "country": "DE", "product": "premium", "email": user.email})
        return body

    def track_object(self, track: Track) -> dict[str, Any]:
        artists = [
            {
                "id": aid or None,
                "name": name,
                "type": "artist",
                "uri": f"spotify:artist:{aid}",
                "href": self._url(f"/v1/artists/{aid}"),
                "external_urls": {"spotify": f"https://open.spotify.com/artist/{aid}"},
            }
            for name, aid in zip(track.artists, track.artist_ids or ("",) * len(track.artists), strict=False)
        ]
        date = track.release_date or "1970"
        precision = {4: "year", 7: "month"}.get(len(date), "day")
        album_id = "al" + track.id[2:]
        return {
            "id": track.id,
            "name": track.name,
            "type": "track",
            "uri": track.uri,
            "href": self._url(f"/v1/tracks/{track.id}"),
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
                "href": self._url(f"/v1/albums/{album_id}"),
                "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
                "images": [],
                "artists": artists[:1],
                "available_markets": ["DE", "US"],
            },
            "available_markets": ["DE", "US"],
            "external_ids": {},
        }

    def playlist_object(self, playlist: SandboxPlaylist, *, with_items: bool = False) -> dict[str, Any]:
        owner = self.state.users.get(playlist.owner_id)
        items_ref: dict[str, Any] = {"href": self._url(f"/v1/playlists/{playlist.id}/items"), "total": len(playlist.items)}
        if with_items:  # the full playlist object embeds its first page of items
            items_ref = self._items_page(playlist, playlist.owner_id, 100, 0)
        body: dict[str, Any] = {
            "id": playlist.id,
            "name": playlist.name,
            "description": playlist.description,
            "public": playlist.public,
            "collaborative": False,
            "type": "playlist",
            "uri": f"spotify:playlist:{playlist.id}",
            "href": self._url(f"/v1/playlists/{playlist.id}"),
            "external_urls": {"spotify": f"https://open.spotify.com/playlist/{playlist.id}"},
            "images": [],
            "snapshot_id": f"snap{playlist.snapshot}",
            "owner": self._user_object(owner, private=False) if owner else {"id": playlist.owner_id, "type": "user"},
            "items": items_ref,
            "tracks": items_ref,
        }
        return body

    async def me(self, request: web.Request, user: SandboxUser) -> web.Response:
        return web.json_response(self._user_object(user, private=True))

    async def saved_tracks(self, request: web.Request, user: SandboxUser) -> web.Response:
        parsed = self._limit_offset(request)
        if isinstance(parsed, web.Response):
            return parsed
        limit, offset = parsed
        with self.state.lock:
            window = user.liked[offset : offset + limit]
            total = len(user.liked)
        items = [{"added_at": _iso(at), "track": self.track_object(t)} for t, at in window]
        return web.json_response(self._paging("/v1/me/tracks", items, total, limit, offset))

    async def audio_features(self, request: web.Request, user: SandboxUser) -> web.Response:
        if not self.state.audio_features_enabled:
            return api_error(403, "Forbidden")
        ids = [i for i in request.rel_url.query.get("ids", "").split(",") if i]
        if not ids or len(ids) > 100:
            return api_error(400, "Invalid ids")
        features: list[dict[str, Any] | None] = []
        for track_id in ids:
            track = self.state.tracks.get(track_id)
            if track is None or not track.audio_features:
                features.append(None)
                continue
            entry: dict[str, Any] = dict(track.audio_features)
            entry.update({"id": track_id, "type": "audio_features", "uri": f"spotify:track:{track_id}",
                          "duration_ms": track.duration_ms or 0, "time_signature": 4,
                          "track_href": self._url(f"/v1/tracks/{track_id}"),
                          "analysis_url": self._url(f"/v1/audio-analysis/{track_id}")})
            for integral in ("key", "mode"):
                if integral in entry:
                    entry[integral] = int(entry[integral])
            features.append(entry)
        return web.json_response({"audio_features": features})

    async def my_playlists(self, request: web.Request, user: SandboxUser) -> web.Response:
        parsed = self._limit_offset(request)
        if isinstance(parsed, web.Response):
            return parsed
        limit, offset = parsed
        playlists = self.state.playlists_of(user.id)
        items = [self.playlist_object(p) for p in playlists[offset : offset + limit]]
        return web.json_response(self._paging("/v1/me/playlists", items, len(playlists), limit, offset))

    async def create_playlist(self, request: web.Request, user: SandboxUser) -> web.Response:
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            return api_error(400, "Missing required field: name")
        playlist = self.state.create_playlist(
            user.id, body["name"], str(body.get("description") or ""), bool(body.get("public", True))
        )
        return web.json_response(self.playlist_object(playlist, with_items=True), status=201)

    async def library_contains(self, request: web.Request, user: SandboxUser) -> web.Response:
        uris = [u for u in request.rel_url.query.get("uris", "").split(",") if u]
        if not uris or len(uris) > 40:
            return api_error(400, "Missing or too many uris")
        liked = {t.uri for t, _ in user.liked}
        answer = []
        for uri in uris:
            kind, _, ident = uri.removeprefix("spotify:").partition(":")
            if kind == "playlist":
                playlist = self.state.playlists.get(ident)
                answer.append(bool(playlist and user.id in playlist.followers))
            elif kind == "track":
                answer.append(uri in liked)
            else:
                answer.append(False)
        return web.json_response(answer)

    def _playlist(self, request: web.Request) -> SandboxPlaylist | None:
        return self.state.playlists.get(request.match_info["playlist_id"])

    async def get_playlist(self, request: web.Request, user: SandboxUser) -> web.Response:
        playlist = self._playlist(request)
        if playlist is None:
            return api_error(404, "Resource not found")
        return web.json_response(self.playlist_object(playlist, with_items=True))

    async def change_playlist(self, request: web.Request, user: SandboxUser) -> web.Response:
        playlist = self._playlist(request)
        if playlist is None:
            return api_error(404, "Resource not found")
        if playlist.owner_id != user.id:
            return api_error(403, "You cannot change a playlist you don't own")
        body = await _json(request)
        if not isinstance(body, dict):
            return api_error(400, "Invalid request body")
        with self.state.lock:
            playlist.name = str(body.get("name", playlist.name))
            playlist.description = str(body.get("description", playlist.description))
            playlist.public = bool(body.get("public", playlist.public))
        return web.Response(status=200)

    async def get_items(self, request: web.Request, user: SandboxUser) -> web.Response:
        playlist = self._playlist(request)
        if playlist is None:
            return api_error(404, "Resource not found")
        if playlist.owner_id != user.id:
            return api_error(403, "Forbidden")
        parsed = self._limit_offset(request)
        if isinstance(parsed, web.Response):
            return parsed
        limit, offset = parsed
        return web.json_response(self._items_page(playlist, user.id, limit, offset))

    def _items_page(self, playlist: SandboxPlaylist, user_id: str, limit: int, offset: int) -> dict[str, Any]:
        with self.state.lock:
            window = playlist.items[offset : offset + limit]
            total = len(playlist.items)
        items = []
        for uri, at in window:
            track = self.state.tracks.get(uri.rsplit(":", 1)[-1])
            obj = self.track_object(track) if track else None
            added_by = {"id": user_id, "type": "user", "uri": f"spotify:user:{user_id}",
                        "href": self._url(f"/v1/users/{user_id}"),
                        "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"}}
            # Spotify's 2026 migration: entries carry `item`, with `track` kept for old clients.
            items.append({"added_at": _iso(at), "added_by": added_by, "is_local": False, "item": obj, "track": obj})
        return self._paging(f"/v1/playlists/{playlist.id}/items", items, total, limit, offset)

    async def _writable(self, request: web.Request, user: SandboxUser) -> SandboxPlaylist | web.Response:
        playlist = self._playlist(request)
        if playlist is None:
            return api_error(404, "Resource not found")
        if playlist.owner_id != user.id:
            return api_error(403, "You cannot change a playlist you don't own")
        return playlist

    async def add_items(self, request: web.Request, user: SandboxUser) -> web.Response:
        playlist = await self._writable(request, user)
        if isinstance(playlist, web.Response):
            return playlist
        body = await _json(request)
        # spotipy's playlist_add_items posts a bare list; the documented form is {"uris": [...]}.
        uris = body if isinstance(body, list) else (body or {}).get("uris") if isinstance(body, dict) else None
        if uris is None and request.rel_url.query.get("uris"):
            uris = request.rel_url.query["uris"].split(",")
        problem = _check_uris(uris)
        if problem:
            return problem
        position = request.rel_url.query.get("position") or (body.get("position") if isinstance(body, dict) else None)
        now = datetime.now(UTC)
        with self.state.lock:
            at = len(playlist.items) if position is None else max(0, min(int(position), len(playlist.items)))
            playlist.items[at:at] = [(u, now) for u in uris]  # type: ignore[union-attr]
            playlist.snapshot += 1
            snapshot = playlist.snapshot
        return web.json_response({"snapshot_id": f"snap{snapshot}"}, status=201)

    async def replace_items(self, request: web.Request, user: SandboxUser) -> web.Response:
        playlist = await self._writable(request, user)
        if isinstance(playlist, web.Response):
            return playlist
        body = await _json(request)
        uris = body.get("uris") if isinstance(body, dict) else body if isinstance(body, list) else None
        problem = _check_uris(uris)
        if problem:
            return problem
        now = datetime.now(UTC)
        with self.state.lock:
            playlist.items = [(u, now) for u in uris]  # type: ignore[union-attr]
            playlist.snapshot += 1
            snapshot = playlist.snapshot
        return web.json_response({"snapshot_id": f"snap{snapshot}"})

    async def remove_items(self, request: web.Request, user: SandboxUser) -> web.Response:
        playlist = await self._writable(request, user)
        if isinstance(playlist, web.Response):
            return playlist
        body = await _json(request)
        entries = (body or {}).get("items") or (body or {}).get("tracks") if isinstance(body, dict) else None
        if not isinstance(entries, list) or len(entries) > MAX_URIS:
            return api_error(400, "Invalid items")
        remove = {e.get("uri") for e in entries if isinstance(e, dict)}
        with self.state.lock:
            playlist.items = [(u, at) for u, at in playlist.items if u not in remove]
            playlist.snapshot += 1
            snapshot = playlist.snapshot
        return web.json_response({"snapshot_id": f"snap{snapshot}"})

    async def unfollow(self, request: web.Request, user: SandboxUser) -> web.Response:
        playlist = self._playlist(request)
        if playlist is None:
            return api_error(404, "Resource not found")
        self.state.unfollow(user.id, playlist.id)
        return web.Response(status=200)

    async def removed_endpoint(self, request: web.Request) -> web.Response:
        return api_error(410, "This endpoint was removed for development-mode apps in February 2026")


def _check_uris(uris: Any) -> web.Response | None:
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        return api_error(400, "Invalid uris")
    if len(uris) > MAX_URIS:
        return api_error(400, "You can add a maximum of 100 tracks per request.")
    if any(not u.startswith("spotify:track:") for u in uris):
        return api_error(400, "Invalid track uri")
    return None


async def _json(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    try:
        return json.loads(await request.text())
    except ValueError:
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SandboxServer:
    """Runs the sandbox in the current event loop."""

    def __init__(self, state: SandboxState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        self._runner = web.AppRunner(SandboxApp(self.state).app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.port
        self.state.base_url = f"http://{self.host}:{self.port}"
        return self.state.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class SandboxThread:
    """The sandbox on its own event loop in a background thread, for blocking callers."""

    def __init__(self, state: SandboxState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = SandboxServer(state, host, port)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="spotify-sandbox", daemon=True)
        self.base_url = ""

    def __enter__(self) -> SandboxThread:
        self._thread.start()
        self.base_url = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()
