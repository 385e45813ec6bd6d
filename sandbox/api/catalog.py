"""Look-ups a development-mode app still has (one track, one artist) and audio features.

Since November 2024 new apps get 403 from `/audio-features`; `SandboxState.audio_features_enabled`
plays an old extended-quota app that still gets them. Since February 2026 artists come without
`genres`, `popularity` and `followers`, and tracks without `popularity` and `preview_url`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.api.base import ApiError, Caller, Route
from sandbox.api.objects import Shapes
from sandbox.records import is_spotify_id
from sandbox.state import SandboxState

MAX_FEATURE_IDS = 100


class CatalogArea:
    def __init__(self, state: SandboxState, shapes: Shapes) -> None:
        self.state = state
        self.shapes = shapes

    def routes(self) -> list[Route]:
        return [
            ("GET", "/v1/tracks/{track_id}", self.track),
            ("GET", "/v1/artists/{artist_id}", self.artist),
            ("GET", "/v1/audio-features", self.audio_features),
        ]

    async def track(self, request: web.Request, caller: Caller) -> web.Response:
        track_id = request.match_info["track_id"]
        if not is_spotify_id(track_id):
            raise ApiError(400, "Invalid base62 id")
        track = self.state.tracks.get(track_id)
        if track is None or track_id in self.state.unavailable:
            raise ApiError(404, "Resource not found")
        return web.json_response(self.shapes.track(track))

    async def artist(self, request: web.Request, caller: Caller) -> web.Response:
        artist_id = request.match_info["artist_id"]
        if not is_spotify_id(artist_id):
            raise ApiError(400, "Invalid base62 id")
        with self.state.lock:
            name = next((n for t in self.state.tracks.values()
                         for n, a in zip(t.artists, t.artist_ids, strict=False) if a == artist_id), None)
        if name is None:
            raise ApiError(404, "Resource not found")
        body = self.shapes.artist(name, artist_id)
        body["images"] = []  # and no genres, popularity or followers for development-mode apps
        return web.json_response(body)

    async def audio_features(self, request: web.Request, caller: Caller) -> web.Response:
        if not self.state.audio_features_enabled:
            raise ApiError(403, "Forbidden")
        ids = [i for i in request.rel_url.query.get("ids", "").split(",") if i]
        if not ids or len(ids) > MAX_FEATURE_IDS:
            raise ApiError(400, "Invalid ids")
        features: list[dict[str, Any] | None] = []
        for track_id in ids:
            track = self.state.tracks.get(track_id)
            if track is None or not track.audio_features:
                features.append(None)
                continue
            entry: dict[str, Any] = dict(track.audio_features)
            entry.update({"id": track_id, "type": "audio_features", "uri": f"spotify:track:{track_id}",
                          "duration_ms": track.duration_ms or 0, "time_signature": 4,
                          "track_href": self.shapes.url(f"/v1/tracks/{track_id}"),
                          "analysis_url": self.shapes.url(f"/v1/audio-analysis/{track_id}")})
            for integral in ("key", "mode"):
                if integral in entry:
                    entry[integral] = int(entry[integral])
            features.append(entry)
        return web.json_response({"audio_features": features})
