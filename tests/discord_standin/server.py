"""`DiscordStandIn`: one object that owns the stand-in's state and its HTTP + WebSocket server.

The behaviour lives by concern in the mixins it is made of: `gateway` (the WebSocket),
`rest` (routes, authentication, rate limits), `commands` (synced commands and the interactions a
member produces), `interactions` (callbacks and the token's webhook), `guilds` (members, users,
DMs); `rules` holds Discord's checks on bodies, `spec` its OpenAPI description, `rate_limits`
its buckets. The package docstring (`tests/discord_standin/__init__.py`) is the user's guide.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from tests.discord_standin.base import (
    ATTACHMENT_SIZE_LIMIT,
    MAX_GUILDS_PER_SHARD,
    TOKEN_LIFETIME_S,
    snowflake,
)
from tests.discord_standin.gateway import HEARTBEAT_INTERVAL_S, GatewayMixin
from tests.discord_standin.oauth2 import OAuth2Mixin
from tests.discord_standin.rate_limits import RateLimiter, RateLimitHit, RateLimits, Throttle
from tests.discord_standin.records import ServerFault
from tests.discord_standin.rest import REQUEST_SIZE_MAX, RestMixin
from tests.discord_standin.spec import RequestSpec


class DiscordStandIn(GatewayMixin, RestMixin, OAuth2Mixin):
    def __init__(
        self,
        *,
        token: str = "test-token",
        application_id: int = 900_000_000_000_000_001,
        guild_ids: Sequence[int] = (800_000_000_000_000_001,),
        rate_limits: RateLimits | None = None,
        attachment_size_limit: int = ATTACHMENT_SIZE_LIMIT,
        token_lifetime_s: float = TOKEN_LIFETIME_S,
        portal_intents: int = 0,
        validate_bodies: bool = True,
        max_guilds_per_shard: int = MAX_GUILDS_PER_SHARD,
        oauth_redirect_uris: Sequence[str] = (),
        oauth_client_secret: str = "standin-client-secret",
        heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user = {"id": str(application_id), "username": "genrebot", "discriminator": "0",
                         "global_name": "genrebot", "avatar": None, "bot": True, "flags": 0}
        self.guild_ids = list(guild_ids)
        self.channel_ids = {g: snowflake() for g in guild_ids}
        self.members = {g: set() for g in guild_ids}
        self.departed = {g: set() for g in guild_ids}
        self.denied_in_channel = {}
        self.removed_from = set()
        self.channel_kinds = {}
        self.faults = []
        self.requests = []
        self.violations = []
        self.synced_commands = {}
        self.dms = {}
        self.dm_delivered = asyncio.Event()
        self.closed_dms = set()
        self.user_names = {}
        self.dm_channels = {}
        self.dm_nonces = {}
        self.interactions = {}
        self.clock_offset = 0.0
        self.limiter = RateLimiter(rate_limits or RateLimits())
        self.request_spec = RequestSpec.load() if validate_bodies else None
        self._spec_problems = []
        self._spec_operation = ""
        self.attachment_size_limit = attachment_size_limit
        self.token_lifetime_s = token_lifetime_s
        self.portal_intents = portal_intents
        self.identified_intents = 0
        self.identified = asyncio.Event()
        self.resumed = 0
        self.session_id = "standin-session"
        self.sessions = {}
        self.max_guilds_per_shard = max_guilds_per_shard
        self.heartbeat_interval_s = heartbeat_interval_s
        self.identifies = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.oauth_client_secret = oauth_client_secret
        self.oauth_redirect_uris = set(oauth_redirect_uris)
        self.oauth_codes = {}
        self.oauth_tokens = {}
        self.oauth_sessions = {}
        self.oauth_grants = set()

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=REQUEST_SIZE_MAX)
        app.router.add_get("/gateway", self._gateway)
        self.register_oauth(app)  # before the REST catch-all: the token endpoint is form-encoded
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        await self.close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_ready(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self.identified.wait(), timeout)

    # --- rate limits ------------------------------------------------------------------------

    @property
    def rate_limits(self) -> RateLimits:
        return self.limiter.limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits) -> None:
        self.limiter.limits = limits

    @property
    def rate_limited(self) -> list[RateLimitHit]:
        """Every 429 answered so far, in order."""
        return self.limiter.hits

    def fail(self, count: int = 1, *, status: int = 503, method: str | None = None, path_prefix: str = "",
             after_processing: bool = False, until: Callable[[], Awaitable[object]] | None = None) -> None:
        """Fault hook: answer the next `count` matching requests (`path_prefix` under /api/v10) with
        `status`, as Discord does in an outage, before any route runs (nothing is delivered).
        `status=0`: close the connection unanswered instead (the network between the bot and Discord
        failing; discord.py raises aiohttp's error, not an HTTPException). `after_processing`: the
        request takes effect first (the answer is lost); `until`: it waits for that first."""
        self.faults.append(ServerFault(count, status, method, path_prefix, after_processing, until))

    def throttle(self, count: int = 1, *, retry_after: float = 1.0, scope: str = "user",
                 method: str | None = None, path_prefix: str = "") -> None:
        """Fault hook: answer the next `count` matching requests with a 429 (scope "user",
        "shared" or "global") whatever the buckets say; `path_prefix` is under /api/v10."""
        self.limiter.throttles.append(Throttle(count, retry_after, scope, method, path_prefix))
