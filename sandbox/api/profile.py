"""`GET /me`: the current user's profile, with the stable `account_id` (added in 2026)."""

from __future__ import annotations

from aiohttp import web

from sandbox.api.base import Caller, Route
from sandbox.api.objects import Shapes


class ProfileArea:
    def __init__(self, shapes: Shapes) -> None:
        self.shapes = shapes

    def routes(self) -> list[Route]:
        return [("GET", "/v1/me", self.me)]

    async def me(self, request: web.Request, caller: Caller) -> web.Response:
        # No scope needed: what user-read-private/-email added (country, product, email) is
        # gone for development-mode apps since February 2026.
        return web.json_response(self.shapes.user(caller.user, private=True))
