"""The state every part of the stand-in shares (declared once here, set in `DiscordStandIn.__init__`),
its clock, and the way it answers: Discord's JSON errors, recorded violations."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.discord_standin.rate_limits import RateLimiter
from tests.discord_standin.records import InteractionRecord, Message, RecordedRequest, ServerFault
from tests.discord_standin.rules import invalid_form_body
from tests.discord_standin.spec import RequestSpec

ACK_DEADLINE_S = 3.0
# Discord keeps a message's enforced nonce "in the past few minutes"; the stand-in, three.
NONCE_WINDOW_S = 180.0
TOKEN_LIFETIME_S = 15 * 60
MIB = 1024 * 1024
MAX_GUILDS_PER_SHARD = 2500  # Discord closes a session that would hold more with 4011 "Sharding required."
ATTACHMENT_SIZE_LIMIT = 10 * MIB  # what Discord tells bots in an unboosted guild (tier 2: 50 MiB, tier 3: 100 MiB)

# Gateway intents (IDENTIFY's `intents` bit field) that the application must have switched on in
# the developer portal; asking for one that is not gets close code 4014.
INTENT_GUILD_MEMBERS, INTENT_GUILD_PRESENCES, INTENT_MESSAGE_CONTENT = 1 << 1, 1 << 8, 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

DISCORD_EPOCH_MS = 1_420_070_400_000
_increments = itertools.count()


def snowflake(offset_s: float = 0.0) -> int:
    """A Discord id: its top bits are its creation time (discord.py's `created_at` reads them),
    `offset_s` after now for something created on a fast-forwarded clock."""
    created_ms = int((time.time() + offset_s) * 1000) - DISCORD_EPOCH_MS
    return (created_ms << 22) | (next(_increments) % (1 << 22))


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Discord's JSON: discord.py parses a body only when Content-Type is exactly application/json."""
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def error_response(status: int, code: int, message: str) -> web.Response:
    return json_response({"code": code, "message": message}, status=status)


class StandInBase:
    """Attributes shared by the gateway, the REST routes and the interaction rules."""

    token: str
    application_id: int
    bot_user: dict[str, Any]
    guild_ids: list[int]
    channel_ids: dict[int, int]  # guild id -> its one text channel
    members: dict[int, set[int]]  # guild id -> member user ids
    departed: dict[int, set[int]]  # guild id -> users removed from it
    channel_kinds: dict[int, str]  # guild id -> where its commands are run ("text", "thread", "voice"...)
    removed_from: set[int]  # guilds the bot was removed from (`remove_bot`)
    denied_in_channel: dict[int, int]  # guild id -> permissions its channel's overwrites take from the bot
    faults: list[ServerFault]  # fault hook: 5xx answers still to give
    requests: list[RecordedRequest]
    violations: list[str]
    synced_commands: dict[str, dict[str, Any]]
    dms: dict[int, list[Message]]
    dm_delivered: asyncio.Event  # set on every delivered DM (`wait_for_dm` clears it)
    closed_dms: set[int]
    user_names: dict[int, dict[str, str]]  # user id -> the names they changed (`rename`)
    dm_channels: dict[int, int]  # channel id -> user id
    dm_nonces: dict[tuple[int, str], tuple[Message, float]]  # (DM channel, enforced nonce) -> its message, when
    interactions: dict[str, InteractionRecord]  # by token
    clock_offset: float
    limiter: RateLimiter
    request_spec: RequestSpec | None  # Discord's OpenAPI description, when ../shared/specs is there
    _spec_problems: list[tuple[str, str, str]]  # the request being answered: its departures from it
    _spec_operation: str
    attachment_size_limit: int
    token_lifetime_s: float
    portal_intents: int  # privileged intents switched on for the application
    identified_intents: int  # what the connected session asked for in IDENTIFY
    identified: asyncio.Event  # set once every shard of the bot identified
    identifies: list[tuple[int, int]]  # (shard_id, shard_count) of every accepted IDENTIFY (REST counts them too)
    max_guilds_per_shard: int
    resumed: int
    session_id: str
    port: int

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def now(self) -> float:
        """The stand-in's clock: monotonic time plus whatever a test fast-forwarded."""
        return time.monotonic() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Fast-forward the clock (token expiry, rate-limit windows) without waiting."""
        self.clock_offset += seconds

    def take_violations(self) -> list[str]:
        found, self.violations = self.violations, []
        return found

    def _off_spec(self, record: InteractionRecord | None) -> web.Response | None:
        """400 50035 when the request's body departs from Discord's OpenAPI description. Handlers
        call it after their own, more precise checks and before they change any state."""
        problems, self._spec_problems = self._spec_problems, []
        if not problems:
            return None
        where = f"/{record.command}: " if record else ""
        self.violations.extend(f"{where}{self._spec_operation}: {at}: {text}" for at, _, text in problems)
        if record is not None:
            record.rejected.append((400, 50035))
            record.touch()
        return json_response(invalid_form_body(problems), status=400)

    def _message_object(self, message: Message, channel_id: int, webhook: bool = True) -> dict[str, Any]:
        """A message as Discord returns it after a create or an edit."""
        return {
            "id": str(message.id), "channel_id": str(channel_id), "type": 0, "content": message.content or "",
            "author": self.bot_user, "embeds": message.embeds or [], "components": message.components or [],
            "attachments": [{"id": str(snowflake()), "filename": name, "size": len(data),
                             "url": f"https://cdn.invalid/{name}", "proxy_url": f"https://cdn.invalid/{name}"}
                            for name, data in (message.attachments or [])],
            "mentions": [], "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False,
            "timestamp": datetime.now(UTC).isoformat(), "edited_timestamp": None, "flags": message.flags,
            **({"webhook_id": str(self.application_id), "application_id": str(self.application_id)} if webhook else {}),
        }

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        raise NotImplementedError  # the gateway sends it

    def _user(self, user_id: int) -> dict[str, Any]:
        raise NotImplementedError  # the guild directory builds it

    def _member(self, user_id: int, *, with_user: bool = True) -> dict[str, Any]:
        raise NotImplementedError

    def _channel(self, guild_id: int, channel_id: int) -> dict[str, Any]:
        raise NotImplementedError

    def _interaction_channel(self, guild_id: int) -> dict[str, Any]:
        raise NotImplementedError

    def _dm_channel_for(self, user_id: int) -> int:
        raise NotImplementedError

    def app_permissions(self, guild_id: int | None) -> int:
        raise NotImplementedError  # the guild directory knows the channel overwrites

    def recommended_shards(self) -> int:
        raise NotImplementedError  # the gateway knows how guilds are spread over shards

    def _bearer(self, method: str, path: str, authorization: str) -> web.Response:
        raise NotImplementedError  # the OAuth2 mixin answers a user's bearer token
