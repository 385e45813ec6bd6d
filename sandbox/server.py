"""The sandbox's HTTP face: Spotify's accounts service and Web API v1 on one port.

Speaks the real protocol so unmodified clients (spotipy, a browser) work against it: the
authorisation-code flow with a consent page (`sandbox.accounts`), bearer tokens that expire,
scopes, paging objects with absolute `next` URLs, Spotify's error bodies, trailing slashes, and
the Web API areas in `sandbox.api`. Every request passes one middleware (latency, injected
faults before or after processing, the request log); every Web API call passes `_authorised`
(token, registered user, quota, the app's rolling rate limit, then the area's own checks).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from aiohttp import web, web_app

from sandbox.accounts import AccountsService, token_error
from sandbox.api.base import ApiError, ApiHandler, Caller, api_error, int_param
from sandbox.api.catalog import CatalogArea
from sandbox.api.liked_songs import LikedSongsArea
from sandbox.api.objects import Shapes
from sandbox.api.playlists import PlaylistsArea
from sandbox.api.profile import ProfileArea
from sandbox.api.removed import RemovedArea
from sandbox.faults import Fault, retry_after_header, whole_seconds
from sandbox.records import is_spotify_id
from sandbox.state import SandboxState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# What Spotify answers every Web API call of a development-mode app whose owner has no Premium.
OWNER_PREMIUM_REQUIRED = "Active premium subscription required for the owner of the app"
# What Spotify answers every Web API call for a user the development-mode app's owner has not
# listed, worded as in 2026 (Lioncat6/OSC-Chat-Tools#32, May 2026). Earlier wordings: "User not
# approved for app" (2021, spotipy-dev/spotipy#688), "User not registered in the Developer
# Dashboard" (2021-2023, spotipy-dev/spotipy#1044), "Check settings on
# developer.spotify.com/dashboard, the user may not be registered." (2024-2025,
# sigma67/spotify_to_ytmusic#122). Sent as plain text: "Spotify decided to return a plain string for
# some error responses instead of returning one of their documented JSON error objects"
# (spotipy-dev/spotipy#689, the fix of #688 for this very answer).
USER_NOT_REGISTERED = ("The user is not registered for this application. "
                       "Please check your settings on https://developer.spotify.com/dashboard.")
# What a proxy or CDN in front of Spotify may serve, with status 200, instead of Spotify's answer.
PROXY_ERROR_PAGE = ("<html><head><title>502 Bad Gateway</title></head>"
                    "<body><h1>Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>")
HANG_LIMIT_S = 120.0  # a hung request is released at the latest after this, or when the server stops


class SandboxApp:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.released = asyncio.Event()  # set on stop: hung requests end
        self.likes_asked = 0  # calls of /_sandbox/like so far
        self.app = web.Application(middlewares=[self._log_and_faults], client_max_size=2 * 1024 * 1024)
        AccountsService(state).register(self.app)
        self.app.router.add_get("/_sandbox/stats", self.stats)
        self.app.router.add_post("/_sandbox/like", self.like_new_songs)
        shapes = Shapes(state)
        areas = (ProfileArea(shapes), LikedSongsArea(state, shapes), PlaylistsArea(state, shapes),
                 CatalogArea(state, shapes), RemovedArea())
        for area in areas:
            for method, path, handler in area.routes():
                wrapped = self._authorised(handler)
                # Spotify accepts a trailing slash and spotipy relies on it (`me/`, `audio-features/?ids=`).
                self.app.router.add_route(method, path, wrapped)
                self.app.router.add_route(method, path + "/", wrapped)

    def _authorised(self, handler: ApiHandler) -> Handler:
        state = self.state

        async def authorised(request: web.Request) -> web.StreamResponse:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return api_error(401, "No token provided")
            token = header[7:]
            grant = state.tokens.grant_for(token)
            if grant is None:
                expired = token in state.tokens.access
                return api_error(401, "The access token expired" if expired else "Invalid access token")
            user = state.users.get(grant.user_id)
            if user is None:
                return api_error(401, "Invalid access token")
            if not state.owner_premium:
                return api_error(403, OWNER_PREMIUM_REQUIRED)
            if not user.registered:
                # A plain-text body, not Spotify's JSON error object (spotipy-dev/spotipy#689).
                return web.Response(status=403, text=USER_NOT_REGISTERED)
            quota = state.quota_block(grant.client_id)
            if quota is not None:
                return api_error(429, "Quota exceeded", reason="QUOTA_EXCEEDED",
                                 headers=retry_after_header(quota.retry_after))
            wait = state.admit(grant.client_id)
            if wait is not None:
                return api_error(429, "API rate limit exceeded", headers={"Retry-After": str(whole_seconds(wait))})
            try:
                return await handler(request, Caller(user, grant))
            except ApiError as error:
                return error.response()

        return authorised

    @web.middleware
    async def _log_and_faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        state = self.state
        path = request.path
        try:
            if state.latency_s and (path.startswith("/v1/") or path == "/api/token"):
                await asyncio.sleep(state.latency_s)
            before = state.take_fault(request.method, path)
            after = None if before is not None else state.take_fault(request.method, path, after_processing=True)
            if before is not None:
                response = await self._fail(request, before)
            else:
                response = await self._answer(request, handler, path)
                if response.status < 400:
                    state.request_processed(request.method, path)
                if after is not None:  # the request took effect; its answer is lost
                    response = await self._fail(request, after, response)
        except web.HTTPException as exc:
            state.log(request.method, path, exc.status)
            raise
        state.log(request.method, path, response.status)
        return response

    async def _answer(self, request: web.Request, handler: Handler, path: str) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status == 404 and path.startswith("/v1/"):
                return api_error(404, "Service not found")
            if exc.status == 405 and path.startswith("/v1/"):
                return api_error(405, "Method not allowed")
            raise

    async def _fail(
        self, request: web.Request, fault: Fault, answer: web.StreamResponse | None = None
    ) -> web.StreamResponse:
        if fault.action == "cut":
            return await self._cut(request, answer)
        if fault.action == "garbled":
            return self._garbled(answer)
        if fault.action == "hang":
            try:
                await asyncio.wait_for(self.released.wait(), HANG_LIMIT_S)
            except TimeoutError:
                pass
        if fault.action in ("drop", "hang"):
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=499)  # never reaches the client: the connection is gone
        headers = retry_after_header(fault.retry_after)
        if not request.path.startswith("/v1/"):  # the accounts service answers in its own form; `reason` is its code
            return token_error(fault.status, fault.reason or "server_error", fault.message, headers)
        return api_error(fault.status, fault.message, reason=fault.reason, headers=headers)

    async def _cut(self, request: web.Request, answer: web.StreamResponse | None) -> web.StreamResponse:
        """The answer's status and headers, then half its body, then a broken connection: what a
        client sees when the network fails while Spotify's answer is on its way."""
        body = answer.body if isinstance(answer, web.Response) and isinstance(answer.body, bytes) else b"{}"
        status = answer.status if answer is not None else 200
        cut = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        cut.content_length = len(body)
        await cut.prepare(request)
        await cut.write(body[: max(1, len(body) // 2)])
        if request.transport is not None:
            request.transport.abort()
        return cut

    @staticmethod
    def _garbled(answer: web.StreamResponse | None) -> web.Response:
        """200 with a body that is not JSON. Before processing, an error page a proxy or CDN in
        front of Spotify served as 200; after it, the real answer's first half whose Content-Length
        says that is all of it (the connection stays whole, so only the parse fails)."""
        if answer is None:
            return web.Response(status=200, content_type="text/html", text=PROXY_ERROR_PAGE)
        body = answer.body if isinstance(answer, web.Response) and isinstance(answer.body, bytes) else b"{}"
        return web.Response(status=200, content_type="application/json", body=body[: max(1, len(body) // 2)])

    async def stats(self, request: web.Request) -> web.Response:
        """Request counts, for benchmarks that run the sandbox in another process."""
        with self.state.lock:
            api_requests = [r for r in self.state.requests if r.path.startswith("/v1/")]
        by_route: dict[str, int] = {}
        for r in api_requests:  # "GET /v1/playlists/{id}/items": ids read as {id}
            route = f"{r.method} " + "/".join("{id}" if is_spotify_id(part) else part for part in r.path.split("/"))
            by_route[route] = by_route.get(route, 0) + 1
        return web.json_response({"api_requests": len(api_requests), "by_route": by_route})

    async def like_new_songs(self, request: web.Request) -> web.Response:
        """`user` likes `count` new synthetic songs: for benchmarks of the weekly refresh. The songs
        depend on `seed` alone (default: how many times this was asked before, plus one), never on
        how many requests came before, so a benchmark adds the same songs whatever a commit changed."""
        from sandbox.library import synthetic_library

        user = request.rel_url.query.get("user", "")
        try:
            count = int_param(request.rel_url.query, "count", 1, minimum=1, maximum=10_000)
            seed = int_param(request.rel_url.query, "seed", self.likes_asked + 1, minimum=1)
        except ApiError as error:
            return error.response()
        if user not in self.state.users:
            return api_error(400, "unknown user")
        self.likes_asked += 1
        self.state.like(user, synthetic_library(count, seed=seed, prefix="liked-later"))
        return web.json_response({"liked": count})


class SandboxServer:
    """Runs the sandbox in the current event loop."""

    def __init__(self, state: SandboxState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._app: SandboxApp | None = None

    async def start(self) -> str:
        self._app = SandboxApp(self.state)
        self._runner = web.AppRunner(self._app.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.port
        self.state.base_url = f"http://{self.host}:{self.port}"
        return self.state.base_url

    async def stop(self) -> None:
        if self._app is not None:
            self._app.released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            forget_middleware_chains()


def forget_middleware_chains() -> None:
    """Empty aiohttp's process-wide cache of middleware chains (`web_app._cached_build_middleware`,
    keyed on each route's handler and app): otherwise a stopped sandbox's app, and through its
    handlers the whole `SandboxState`, stays alive until 1,024 newer chains push it out. Apps
    still serving rebuild their chain on their next request. (The bot's `WebServer` does the
    same: the sandbox imports nothing of the bot.)"""
    cache = getattr(web_app, "_cached_build_middleware", None)
    if cache is not None:
        cache.cache_clear()


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
