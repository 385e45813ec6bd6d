"""The REST routes: authentication, rate limits, then one handler per route the bot may call
(login, gateway discovery, command sync, interaction callbacks and webhooks, users, DMs, guild
members). Unknown routes answer 404 as Discord does."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.discord_standin.base import (
    INTENT_GUILD_MEMBERS,
    MIB,
    NONCE_WINDOW_S,
    error_response,
    json_response,
)
from tests.discord_standin.commands import CommandsMixin
from tests.discord_standin.interactions import InteractionsMixin, message_from
from tests.discord_standin.rate_limits import RouteLimit
from tests.discord_standin.records import RecordedRequest

REQUEST_SIZE_MAX = 512 * MIB  # beyond the largest attachment limit, so 40005 comes from the rules


class BodyTooLarge(Exception):
    pass


class RestMixin(CommandsMixin, InteractionsMixin):
    async def _body(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        try:
            if request.content_type.startswith("multipart/"):
                payload: Any = None
                files: list[tuple[str, bytes]] = []
                reader = await request.multipart()
                async for part in reader:  # type: ignore[union-attr]
                    data = await part.read()  # type: ignore[union-attr]
                    if part.name == "payload_json":  # type: ignore[union-attr]
                        payload = json.loads(data)
                    else:
                        files.append((part.filename or "", bytes(data)))  # type: ignore[union-attr]
                return payload, files
            if request.can_read_body:
                text = await request.text()
                return (json.loads(text) if text else None), []
        except web.HTTPRequestEntityTooLarge as exc:
            raise BodyTooLarge() from exc
        return None, []

    def _route_limit(self, method: str, parts: list[str]) -> RouteLimit | None:
        """Which bucket a request counts against (None: a route the stand-in does not serve)."""
        limits = self.limiter.limits
        head = parts[:1]
        if head == ["interactions"]:
            return RouteLimit("interaction-callback", None, counts_globally=False)
        if head == ["webhooks"] and len(parts) >= 3:
            # follow-ups, edits and reads of one interaction token share one bucket
            return RouteLimit("interaction-webhook", limits.interaction_webhook, "+".join(parts[1:3]),
                              counts_globally=False)
        if head == ["channels"] and parts[2:] == ["messages"] and method == "POST":
            return RouteLimit("channel-messages", limits.channel_messages, parts[1])
        if parts == ["users", "@me", "channels"] and method == "POST":
            return RouteLimit("dm-channels", limits.dm_channels)
        if head == ["guilds"] and parts[2:3] == ["members"]:
            return RouteLimit("guild-members", limits.guild_members, parts[1])
        if head == ["applications"] and parts[-1:] == ["commands"]:
            return RouteLimit("command-sync", limits.command_sync, parts[3] if len(parts) == 5 else "")
        known = (["users", "@me"], ["oauth2", "applications", "@me"], ["gateway"], ["gateway", "bot"])
        if parts in known or (head == ["users"] and len(parts) == 2):
            template = "users/{id}" if head == ["users"] and parts[1] != "@me" else "/".join(parts)
            return RouteLimit(f"{method} {template}", limits.other)
        return None

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        parts = [p for p in path.split("/") if p]
        method = request.method
        now = self.now()
        try:
            body, files = await self._body(request)
        except BodyTooLarge:
            body, files = None, []
            self.requests.append(RecordedRequest(method, path, None, [], now, 413))
            return error_response(413, 40005, "Request entity too large")
        recorded = RecordedRequest(method, path, body, files, now)
        self.requests.append(recorded)
        fault = next((f for f in self.faults if f.matches(method, path)), None)
        if fault is not None:
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            if fault.until is not None:
                await fault.until()
            if fault.after_processing:
                self._route(request, method, path, parts, body, files)
            recorded.status = fault.status
            if fault.status == 0 and request.transport is not None:  # dropped: no answer at all
                request.transport.abort()
            return error_response(fault.status or 503, 0, f"{fault.status}: Service Unavailable")
        decision = self.limiter.check(method, path, self._route_limit(method, parts), now)
        if decision.banned:  # Cloudflare's page, not Discord's JSON: discord.py raises HTTPException(429)
            recorded.status = 429
            return web.Response(status=429, text="error code: 1015", content_type="text/plain")
        if decision.body is not None:
            response = json_response(decision.body, status=429)
        else:
            if self.request_spec is not None:
                self._spec_problems = self.request_spec.problems(method, path, body)
                self._spec_operation = f"{method} {self.request_spec.operation(method, path)}"
            response = self._route(request, method, path, parts, body, files)
            self._spec_problems = []
        response.headers.update(decision.headers)
        response.headers["Via"] = "1.1 google"  # discord.py treats a 429 without it as a Cloudflare ban
        recorded.status = response.status
        recorded.headers = dict(decision.headers)
        if response.status in (401, 403):
            self.limiter.count_invalid(now)
        return response

    def _route(self, request: web.Request, method: str, path: str, parts: list[str], body: Any,
               files: list[tuple[str, bytes]]) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):  # a user's OAuth2 token (see oauth2.py)
            return self._bearer(method, path, auth)
        if parts[:1] not in (["interactions"], ["webhooks"]) and auth != f"Bot {self.token}":
            return error_response(401, 0, "401: Unauthorized")
        if path == "/users/@me" and method == "GET":
            return json_response(self.bot_user)
        if path == "/oauth2/applications/@me" and method == "GET":
            return json_response({
                "id": str(self.application_id), "name": "genrebot", "description": "", "icon": None,
                "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
                "owner": self._user(1), "summary": "", "team": None,
            })
        if path in ("/gateway", "/gateway/bot"):
            if path == "/gateway":  # the unauthenticated route: a URL only
                return json_response({"url": self.gateway_url})
            return json_response({"url": self.gateway_url, "shards": self.recommended_shards(),
                                  "session_start_limit": {"total": 1000, "remaining": 1000 - len(self.identifies),
                                                          "reset_after": 86_400_000, "max_concurrency": 1}})
        if parts[:1] == ["applications"] and parts[-1] == "commands" and method == "PUT":
            guild = int(parts[3]) if len(parts) == 5 and parts[2] == "guilds" else None
            return self._sync(body or [], guild)
        if parts[:1] == ["interactions"] and parts[-1] == "callback":
            return self._callback(parts[2], body or {}, files)
        if parts[:1] == ["webhooks"] and len(parts) >= 3:
            return self._webhook(method, parts[2], parts[3:], body or {}, files)
        if path == "/users/@me/channels" and method == "POST":
            if (refused := self._off_spec(None)) is not None:
                return refused
            user_id = int((body or {}).get("recipient_id", 0))
            return json_response({"id": str(self._dm_channel_for(user_id)), "type": 1,
                                  "recipients": [self._user(user_id)], "last_message_id": None})
        if parts[:1] == ["users"] and len(parts) == 2 and method == "GET":
            return json_response(self._user(int(parts[1])))
        if parts[:1] == ["channels"] and parts[2:] == ["messages"] and method == "POST":
            return self._channel_message(int(parts[1]), body or {}, files)
        if parts[:1] == ["guilds"] and parts[2:3] == ["members"] and method == "GET":
            return self._guild_members(int(parts[1]), parts[3:], request.query)
        return error_response(404, 0, "404: Not Found")

    def _channel_message(self, channel_id: int, body: dict[str, Any], files: list[tuple[str, bytes]]) -> web.Response:
        user_id = self.dm_channels.get(channel_id)
        if user_id is None:
            return error_response(404, 10003, "Unknown Channel")
        if user_id in self.closed_dms or not self.shares_a_guild(user_id):
            return error_response(403, 50007, "Cannot send messages to this user")
        refused = self._refuse_message(None, body, files, None)
        if refused is not None:
            return refused
        nonce = body.get("nonce") if body.get("enforce_nonce") else None
        if nonce is not None and (earlier := self.dm_nonces.get((channel_id, str(nonce)))) is not None:
            # Discord: "checked for uniqueness in the past few minutes. If another message was created
            # by the same author with the same nonce, that message will be returned and no new
            # message will be created."
            if self.now() - earlier[1] <= NONCE_WINDOW_S:
                return json_response(self._message_object(earlier[0], channel_id, webhook=False))
        message = message_from("dm", body, files)
        if nonce is not None:
            self.dm_nonces[(channel_id, str(nonce))] = (message, self.now())
        self.dms.setdefault(user_id, []).append(message)
        self.dm_delivered.set()
        return json_response(self._message_object(message, channel_id, webhook=False))

    def _guild_members(self, guild_id: int, rest: list[str], query: Any) -> web.Response:
        """Get one member (any bot may), search by name, or list them all (only with the privileged
        GUILD_MEMBERS intent switched on in the developer portal)."""
        if guild_id not in self.guild_ids:
            return error_response(404, 10004, "Unknown Guild")
        if guild_id in self.removed_from:
            return error_response(403, 50001, "Missing Access")
        members = sorted(self.members.get(guild_id, set()))
        try:
            limit = min(1000, max(1, int(query.get("limit", 1))))
            after = int(query.get("after", 0))
        except ValueError:
            return error_response(400, 50035, "Invalid Form Body")
        if rest == ["search"]:
            prefix = str(query.get("query", "")).lower()
            found = [m for m in members if self._user(m)["username"].startswith(prefix)]
            return json_response([self._member(m) for m in found[:limit]])
        if not rest:
            if not self.portal_intents & INTENT_GUILD_MEMBERS:
                return error_response(403, 50001, "Missing Access")
            return json_response([self._member(m) for m in members if m > after][:limit])
        if len(rest) == 1 and rest[0].isdigit():
            if int(rest[0]) not in members:
                return error_response(404, 10007, "Unknown Member")
            return json_response(self._member(int(rest[0])))
        return error_response(404, 0, "404: Not Found")
