"""What development-mode apps lost, answered as Spotify answers them: 403 `Forbidden`.

Spotify's February 2026 change (new apps from 11 February, existing ones from 9 March) removed
the batch look-ups, browse and discovery endpoints, other users' profiles and playlists, and
replaced the per-type save/follow endpoints with `/me/library` and `/playlists/{id}/tracks`
with `/playlists/{id}/items`; the November 2024 change removed audio analysis, recommendations
and related artists. Developers calling them get `{"error": {"status": 403, "message":
"Forbidden"}}` (not 410). This list is every operation the 2026 OpenAPI description marks
deprecated except `GET /audio-features`, which `catalog` serves behind its switch; a self-test
checks the list against the description.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.api.base import ApiError, Caller, Route

REMOVED_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("GET", "/albums"), ("GET", "/artists"), ("GET", "/tracks"), ("GET", "/shows"), ("GET", "/episodes"),
    ("GET", "/audiobooks"), ("GET", "/chapters"), ("GET", "/markets"),
    ("GET", "/artists/{id}/top-tracks"), ("GET", "/artists/{id}/related-artists"),
    ("GET", "/audio-features/{id}"), ("GET", "/audio-analysis/{id}"),
    ("GET", "/recommendations"), ("GET", "/recommendations/available-genre-seeds"),
    ("GET", "/browse/featured-playlists"), ("GET", "/browse/new-releases"), ("GET", "/browse/categories"),
    ("GET", "/browse/categories/{category_id}"), ("GET", "/browse/categories/{category_id}/playlists"),
    ("GET", "/users/{user_id}"), ("GET", "/users/{user_id}/playlists"), ("POST", "/users/{user_id}/playlists"),
    ("GET", "/playlists/{playlist_id}/tracks"), ("POST", "/playlists/{playlist_id}/tracks"),
    ("PUT", "/playlists/{playlist_id}/tracks"), ("DELETE", "/playlists/{playlist_id}/tracks"),
    ("PUT", "/playlists/{playlist_id}/followers"), ("DELETE", "/playlists/{playlist_id}/followers"),
    ("GET", "/playlists/{playlist_id}/followers/contains"),
    ("PUT", "/me/tracks"), ("DELETE", "/me/tracks"), ("GET", "/me/tracks/contains"),
    ("PUT", "/me/albums"), ("DELETE", "/me/albums"), ("GET", "/me/albums/contains"),
    ("PUT", "/me/episodes"), ("DELETE", "/me/episodes"), ("GET", "/me/episodes/contains"),
    ("PUT", "/me/shows"), ("DELETE", "/me/shows"), ("GET", "/me/shows/contains"),
    ("PUT", "/me/audiobooks"), ("DELETE", "/me/audiobooks"), ("GET", "/me/audiobooks/contains"),
    ("PUT", "/me/following"), ("DELETE", "/me/following"), ("GET", "/me/following/contains"),
)


class RemovedArea:
    def routes(self) -> list[Route]:
        return [(method, "/v1" + path, self.forbidden) for method, path in REMOVED_OPERATIONS]

    async def forbidden(self, request: web.Request, caller: Caller) -> web.Response:
        raise ApiError(403, "Forbidden")
