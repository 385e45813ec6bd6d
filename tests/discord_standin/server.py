"""A local stand-in for Discord that the unmodified discord.py client connects to.

Serves the REST routes genrebot uses and a gateway WebSocket (HELLO, heartbeats, IDENTIFY,
READY, GUILD_CREATE, RESUME), dispatches INTERACTION_CREATE events shaped like Discord's,
records every request, and checks what Discord checks: acknowledgement within 3 seconds,
tokens valid 15 minutes, content and embed limits, component shapes. A broken rule is recorded
in `violations` and answered the way Discord answers it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

ACK_DEADLINE_S = 3.0
TOKEN_LIFETIME_S = 15 * 60
_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> int:
    return next(_snowflakes)


@dataclass
class Message:
    """One message the bot produced. For kind "edit" it is the full state after that edit."""

    content: str | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    kind: str = "callback"  # "callback", "edit", "followup", "dm"
    id: int = 0


@dataclass
class RecordedRequest:
    method: str
    path: str
    json: Any
    files: list[tuple[str, bytes]]
    at: float


@dataclass
class InteractionRecord:
    id: int
    token: str
    command: str
    user_id: int
    dispatched_at: float
    acknowledged_at: float | None = None
    callback_type: int | None = None
    responses: list[Message] = field(default_factory=list)
    autocomplete_choices: list[dict[str, Any]] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def original(self) -> Message | None:
        """The original response as it stands after every edit."""
        current: Message | None = None
        for message in self.responses:
            if message.kind in ("callback", "edit"):
                current = message  # an edit record is already the merged state
        return current

    async def wait_acknowledged(self, timeout: float = 5) -> None:
        await self.wait_until(lambda: self.acknowledged_at is not None, timeout)

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"/{self.command}: condition not met in {timeout}s; responses: {self.responses}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 30) -> Message:
        found: list[Message] = []

        def matched() -> bool:
            original = self.original()
            for message in [m for m in [original] if m] + [m for m in self.responses if m.kind == "followup"]:
                if predicate(message):
                    found.append(message)
                    return True
            return False

        await self.wait_until(matched, timeout)
        return found[0]

    def touch(self) -> None:
        self._changed.set()


def _json(data: Any, status: int = 200) -> web.Response:
    """Discord's JSON: discord.py parses a body only when Content-Type is exactly application/json."""
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def message_pings_everyone(message: Message) -> bool:
    """Discord's rule: @everyone/@here in content pings unless allowed_mentions forbids it."""
    content = message.content or ""
    if "@everyone" not in content and "@here" not in content:
        return False
    allowed = message.allowed_mentions
    if allowed is None:
        return True
    return "everyone" in (allowed.get("parse") or [])


def check_message(payload: dict[str, Any]) -> list[str]:
    """The limits Discord enforces on a message body (400 Invalid Form Body otherwise)."""
    return [text for _, text in _problems(payload)]


def form_errors(problems: list[tuple[str, str]]) -> dict[str, Any]:
    """Discord's nested `errors` object: {"content": {"_errors": [{"code": ..., "message": ...}]}}."""
    errors: dict[str, Any] = {}
    for where, text in problems:
        node = errors
        for key in where.split("."):
            node = node.setdefault(key, {})
        node.setdefault("_errors", []).append({"code": "BASE_TYPE_INVALID", "message": text})
    return errors


def _problems(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, what) for every limit the body breaks; `where` is a dotted path for `errors`."""
    problems: list[tuple[str, str]] = []
    content = payload.get("content")
    if content is not None and len(content) > 2000:
        problems.append(("content", f"content over 2000 characters ({len(content)})"))
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        problems.append(("embeds", "more than 10 embeds"))
    total = 0
    for i, embed in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                problems.append((f"embeds.{i}.{key}", f"embed {key} over {limit} characters"))
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append((f"embeds.{i}.fields", "more than 25 embed fields"))
        for j, f in enumerate(fields):
            name, value = f.get("name") or "", f.get("value") or ""
            total += len(name) + len(value)
            if len(name) > 256 or not name:
                problems.append((f"embeds.{i}.fields.{j}.name", "embed field name empty or over 256 characters"))
            if len(value) > 1024 or not value:
                problems.append((f"embeds.{i}.fields.{j}.value", "embed field value empty or over 1024 characters"))
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > 2048:
            problems.append((f"embeds.{i}.footer.text", "embed footer over 2048 characters"))
        if len(author) > 256:
            problems.append((f"embeds.{i}.author.name", "embed author over 256 characters"))
    if total > 6000:
        problems.append(("embeds", f"embeds over 6000 characters in all ({total})"))
    rows = payload.get("components") or []
    if len(rows) > 5:
        problems.append(("components", "more than 5 action rows"))
    for i, row in enumerate(rows):
        for j, component in enumerate(row.get("components") or []):
            if component.get("type") != 2:
                continue
            where = f"components.{i}.components.{j}"
            if len(component.get("label") or "") > 80:
                problems.append((f"{where}.label", "button label over 80 characters"))
            if component.get("style") == 5:
                if not component.get("url") or component.get("custom_id"):
                    problems.append((where, "link button needs a url and no custom_id"))
                elif len(component["url"]) > 512:
                    problems.append((f"{where}.url", "button url over 512 characters"))
            elif not component.get("custom_id") or len(component["custom_id"]) > 100:
                problems.append((f"{where}.custom_id", "button needs a custom_id of at most 100 characters"))
    return problems


class DiscordStandIn:
    def __init__(
        self,
        *,
        token: str = "test-token",
        application_id: int = 900_000_000_000_000_001,
        guild_ids: Sequence[int] = (800_000_000_000_000_001,),
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user = {"id": str(application_id), "username": "genrebot", "discriminator": "0",
                         "global_name": "genrebot", "avatar": None, "bot": True, "flags": 0}
        self.guild_ids = list(guild_ids)
        self.channel_ids = {g: snowflake() for g in guild_ids}
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.synced_commands: dict[str, dict[str, Any]] = {}
        self.dms: dict[int, list[Message]] = {}
        self.closed_dms: set[int] = set()
        self.dm_channels: dict[int, int] = {}  # channel id -> user id
        self.interactions: dict[str, InteractionRecord] = {}  # by token
        self.clock_offset = 0.0
        self.identified = asyncio.Event()
        self.resumed = 0
        self.session_id = "standin-session"
        self._events: list[dict[str, Any]] = []  # every dispatch, for RESUME replay
        self._seq = 0
        self._ws: web.WebSocketResponse | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_ready(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self.identified.wait(), timeout)

    def now(self) -> float:
        return time.monotonic() + self.clock_offset

    # --- gateway ------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            op = payload.get("op")
            if op == 1:
                await ws.send_json({"op": 11})
            elif op == 2:
                if payload["d"].get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                await self._dispatch("READY", {
                    "v": 10, "user": self.bot_user, "session_id": self.session_id,
                    "resume_gateway_url": self.gateway_url, "application": {"id": str(self.application_id), "flags": 0},
                    "guilds": [{"id": str(g), "unavailable": True} for g in self.guild_ids],
                    "shard": [0, 1],
                })
                for guild_id in self.guild_ids:
                    await self._dispatch("GUILD_CREATE", self._guild(guild_id))
                self.identified.set()
            elif op == 6:
                if payload["d"].get("session_id") != self.session_id or payload["d"].get("token") != self.token:
                    await ws.send_json({"op": 9, "d": False, "s": None, "t": None})  # not resumable: IDENTIFY again
                    continue
                since = int(payload["d"].get("seq") or 0)
                self.resumed += 1
                for event in [e for e in self._events if e["s"] > since]:
                    await ws.send_json(event)
                self._seq += 1
                await ws.send_json({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
        return ws

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._events.append(frame)
        if self._ws is not None and not self._ws.closed:
            try:
                await self._ws.send_json(frame)
            except ConnectionError:
                pass  # replayed on RESUME

    async def drop_connection(self) -> None:
        """Close the gateway socket with a resumable code, as Discord does during outages."""
        if self._ws is not None:
            await self._ws.close(code=4000, message=b"Unknown error")

    def _guild(self, guild_id: int) -> dict[str, Any]:
        channel_id = self.channel_ids[guild_id]
        return {
            "id": str(guild_id), "name": f"Guild {guild_id % 1000}", "owner_id": "1", "icon": None,
            "roles": [{"id": str(guild_id), "name": "@everyone", "permissions": "2248473465835073", "position": 0,
                       "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": [self._channel(guild_id, channel_id)], "members": [], "emojis": [], "stickers": [],
            "features": [], "member_count": 30, "large": False, "unavailable": False, "threads": [],
            "presences": [], "voice_states": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [], "joined_at": "2026-01-01T00:00:00+00:00", "preferred_locale": "en-US",
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "mfa_level": 0, "system_channel_flags": 0, "premium_tier": 0, "nsfw_level": 0,
        }

    @staticmethod
    def _channel(guild_id: int, channel_id: int) -> dict[str, Any]:
        return {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": "general", "position": 0,
                "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                "rate_limit_per_user": 0}

    # --- driving the bot ---------------------------------------------------------------------

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": str(user_id), "username": f"member{user_id % 100000}", "discriminator": "0",
                "global_name": f"Member {user_id % 100000}", "avatar": None, "flags": 0}

    def _command(self, name: str) -> dict[str, Any]:
        command = self.synced_commands.get(name)
        assert command is not None, f"the bot never synced /{name} (synced: {sorted(self.synced_commands)})"
        return command

    _CONVERT: dict[int, Callable[[Any], Any]] = {3: str, 4: int, 5: bool, 10: float}

    def _options(
        self, command: str, spec: list[dict[str, Any]], values: dict[str, Any], focused: str | None,
        resolved: dict[str, dict[str, Any]], guild_id: int | None,
    ) -> list[dict[str, Any]]:
        """The options as Discord sends them, each value typed per the synced option type."""
        known = {o["name"]: o for o in spec}
        unknown = set(values) - set(known)
        assert not unknown, f"/{command} has no option(s) {sorted(unknown)} (it has {sorted(known)})"
        out = []
        for option in spec:
            name, kind = option["name"], option["type"]
            if name not in values:
                assert not option.get("required") or focused is not None, f"/{command}: required option {name!r} missing"
                continue
            value = values[name]
            if name == focused:
                out.append({"name": name, "type": kind, "value": str(value), "focused": True})
                continue
            if kind in self._CONVERT:
                value = self._CONVERT[kind](value)
            elif kind in (6, 9):  # user / mentionable: a user id
                user = self._user(int(value))
                resolved.setdefault("users", {})[str(value)] = user
                if guild_id:
                    resolved.setdefault("members", {})[str(value)] = self._member(int(value), with_user=False)
                value = str(value)
            elif kind == 7:
                channel = self._channel(guild_id or 0, int(value))
                resolved.setdefault("channels", {})[str(value)] = {**channel, "permissions": "2248473465835073"}
                value = str(value)
            elif kind == 8:
                resolved.setdefault("roles", {})[str(value)] = self._role(int(value))
                value = str(value)
            out.append({"name": name, "type": kind, "value": value})
        return out

    def _member(self, user_id: int, *, with_user: bool = True) -> dict[str, Any]:
        member: dict[str, Any] = {
            "roles": [], "joined_at": "2026-01-01T00:00:00+00:00", "permissions": "2248473465835073",
            "deaf": False, "mute": False, "flags": 0, "nick": None, "avatar": None, "pending": False,
        }
        if with_user:
            member["user"] = self._user(user_id)
        return member

    @staticmethod
    def _role(role_id: int) -> dict[str, Any]:
        return {"id": str(role_id), "name": f"role{role_id % 1000}", "permissions": "0", "position": 1,
                "color": 0, "hoist": False, "managed": False, "mentionable": True, "flags": 0}

    def _interaction_payload(
        self, kind: int, command: str, options: dict[str, Any], user_id: int, guild_id: int | None,
        subcommand: str | None, focused: str | None,
    ) -> tuple[dict[str, Any], InteractionRecord]:
        spec = self._command(command)
        if "guild_id" in spec:
            assert guild_id == int(spec["guild_id"]), (
                f"/{command} was synced to guild {spec['guild_id']} only; it cannot be run in {guild_id or 'a DM'}")
        resolved: dict[str, dict[str, Any]] = {}
        if subcommand:
            sub = next((o for o in spec.get("options", []) if o["name"] == subcommand and o["type"] == 1), None)
            assert sub is not None, f"/{command} has no subcommand {subcommand!r}"
            opts = [{"name": subcommand, "type": 1,
                     "options": self._options(command, sub.get("options", []), options, focused, resolved, guild_id)}]
        else:
            opts = self._options(command, spec.get("options", []), options, focused, resolved, guild_id)
        interaction_id, token = snowflake(), f"itok-{snowflake()}"
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(self.application_id), "type": kind, "token": token,
            "version": 1, "locale": "en-US", "app_permissions": "2248473465835073", "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)} if guild_id else {"1": str(user_id)},
            "context": 0 if guild_id else 1, "attachment_size_limit": 10 * 1024 * 1024,
            "data": {"id": spec["id"], "name": command, "type": 1, "options": opts},
        }
        if resolved:
            payload["data"]["resolved"] = resolved
        if "guild_id" in spec:
            payload["data"]["guild_id"] = spec["guild_id"]
        if guild_id:
            channel_id = self.channel_ids[guild_id]
            payload.update({
                "guild_id": str(guild_id), "guild_locale": "en-US", "channel_id": str(channel_id),
                "channel": self._channel(guild_id, channel_id), "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
                "member": self._member(user_id),
            })
        else:
            dm_channel = self._dm_channel_for(user_id)
            payload.update({"channel_id": str(dm_channel), "user": self._user(user_id),
                            "channel": {"id": str(dm_channel), "type": 1, "recipients": [self._user(user_id)]}})
        label = f"{command} {subcommand}" if subcommand else command
        record = InteractionRecord(interaction_id, token, label, user_id, time.monotonic())
        self.interactions[token] = record
        return payload, record

    async def invoke(
        self, command: str, options: dict[str, Any] | None = None, *, user_id: int,
        guild_id: int | None = ..., subcommand: str | None = None,  # type: ignore[assignment]
    ) -> InteractionRecord:
        """Dispatch a slash command as a member would run it (guild_id None: in a DM); returns its record."""
        guild = self.guild_ids[0] if guild_id is ... else guild_id
        payload, record = self._interaction_payload(2, command, options or {}, user_id, guild, subcommand, None)
        await self._dispatch("INTERACTION_CREATE", payload)
        asyncio.get_running_loop().call_later(ACK_DEADLINE_S, self._check_ack, record)
        return record

    async def autocomplete(
        self, command: str, option: str, value: str, *, user_id: int, options: dict[str, Any] | None = None,
        guild_id: int | None = ..., subcommand: str | None = None,  # type: ignore[assignment]
    ) -> list[dict[str, Any]]:
        """Send an autocomplete interaction (the typed option focused); returns the bot's choices."""
        guild = self.guild_ids[0] if guild_id is ... else guild_id
        values = {**(options or {}), option: value}
        payload, record = self._interaction_payload(4, command, values, user_id, guild, subcommand, option)
        await self._dispatch("INTERACTION_CREATE", payload)
        await record.wait_until(lambda: record.autocomplete_choices is not None, 5)
        return record.autocomplete_choices or []

    def _check_ack(self, record: InteractionRecord) -> None:
        if record.acknowledged_at is None:
            self.violations.append(f"no acknowledgement within 3s for /{record.command}")

    def close_dms(self, user_id: int) -> None:
        self.closed_dms.add(user_id)

    def _dm_channel_for(self, user_id: int) -> int:
        for channel, user in self.dm_channels.items():
            if user == user_id:
                return channel
        channel = snowflake()
        self.dm_channels[channel] = user_id
        return channel

    def take_violations(self) -> list[str]:
        found, self.violations = self.violations, []
        return found

    # --- REST --------------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
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
        return None, []

    def _message_object(self, message: Message, channel_id: int, webhook: bool = True) -> dict[str, Any]:
        return {
            "id": str(message.id), "channel_id": str(channel_id), "type": 0, "content": message.content or "",
            "author": self.bot_user, "embeds": message.embeds or [], "components": message.components or [],
            "attachments": [{"id": str(snowflake()), "filename": name, "size": len(data), "url": f"https://cdn.invalid/{name}",
                             "proxy_url": f"https://cdn.invalid/{name}"} for name, data in (message.attachments or [])],
            "mentions": [], "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False,
            "timestamp": datetime.now(UTC).isoformat(), "edited_timestamp": None, "flags": message.flags,
            **({"webhook_id": str(self.application_id), "application_id": str(self.application_id)} if webhook else {}),
        }

    def _error(self, status: int, code: int, message: str) -> web.Response:
        return _json({"code": code, "message": message}, status=status)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._body(request)
        self.requests.append(RecordedRequest(request.method, path, body, files, time.monotonic()))
        parts = [p for p in path.split("/") if p]
        method = request.method
        auth = request.headers.get("Authorization", "")
        if parts[:1] not in (["interactions"], ["webhooks"]) and auth != f"Bot {self.token}":
            return self._error(401, 0, "401: Unauthorized")
        if path == "/users/@me" and method == "GET":
            return _json(self.bot_user)
        if path == "/oauth2/applications/@me" and method == "GET":
            return _json({
                "id": str(self.application_id), "name": "genrebot", "description": "", "icon": None,
                "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
                "owner": self._user(1), "summary": "", "team": None,
            })
        if path in ("/gateway", "/gateway/bot"):
            return _json({"url": self.gateway_url, "shards": 1,
                                      "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
        if parts[:1] == ["applications"] and parts[-1] == "commands" and method == "PUT":
            guild = int(parts[3]) if len(parts) == 5 and parts[2] == "guilds" else None
            return self._sync(body or [], guild)
        if parts[:1] == ["interactions"] and parts[-1] == "callback":
            return self._callback(parts[2], body or {}, files)
        if parts[:1] == ["webhooks"] and len(parts) >= 3:
            return self._webhook(method, parts[2], parts[3:], body or {}, files)
        if path == "/users/@me/channels" and method == "POST":
            user_id = int((body or {}).get("recipient_id", 0))
            return _json({"id": str(self._dm_channel_for(user_id)), "type": 1,
                                      "recipients": [self._user(user_id)], "last_message_id": None})
        if parts[:1] == ["users"] and len(parts) == 2 and method == "GET":
            return _json(self._user(int(parts[1])))
        if parts[:1] == ["channels"] and parts[-1] == "messages" and method == "POST":
            return self._channel_message(int(parts[1]), body or {}, files)
        return self._error(404, 0, "404: Not Found")

    def _sync(self, commands: list[dict[str, Any]], guild_id: int | None = None) -> web.Response:
        out = []
        for command in commands:
            problems = []
            if not 1 <= len(command.get("name", "")) <= 32:
                problems.append(f"command name {command.get('name')!r} must be 1-32 characters")
            if len(command.get("description", "")) > 100:
                problems.append(f"/{command.get('name')} description over 100 characters")
            if len(command.get("options", [])) > 25:
                problems.append(f"/{command.get('name')} has more than 25 options")
            if problems:
                self.violations.extend(problems)
                errors = form_errors([(str(len(out)), p) for p in problems])
                return _json({"code": 50035, "message": "Invalid Form Body", "errors": errors}, status=400)
            stored = {**command, "id": str(snowflake()), "application_id": str(self.application_id),
                      "version": str(snowflake()), "type": command.get("type", 1)}
            if guild_id is not None:
                stored["guild_id"] = str(guild_id)
            stored.setdefault("options", [])
            stored.setdefault("default_member_permissions", None)
            stored.setdefault("nsfw", False)
            self.synced_commands[command["name"]] = stored
            out.append(stored)
        return _json(out)

    @staticmethod
    def _message_from(kind: str, body: dict[str, Any], files: list[tuple[str, bytes]],
                      base: Message | None = None) -> Message:
        """A new message, or (with `base`) the state after editing `base` with `body`."""
        if base is None:
            base = Message(kind=kind)
        if files:
            attachments = list(files)
        elif "attachments" in body:
            # attachments the edit keeps are listed by id; an empty list removes them all
            attachments = list(base.attachments) if body["attachments"] else []
        else:
            attachments = list(base.attachments)
        return Message(
            content=body["content"] if "content" in body else base.content,
            embeds=list(body["embeds"] or []) if "embeds" in body else list(base.embeds),
            components=list(body["components"] or []) if "components" in body else list(base.components),
            attachments=attachments,
            flags=int(body["flags"] or 0) if "flags" in body else base.flags,
            allowed_mentions=body["allowed_mentions"] if "allowed_mentions" in body else base.allowed_mentions,
            kind=kind,
            id=base.id or snowflake(),
        )

    def _invalid(self, record: InteractionRecord | None, body: dict[str, Any]) -> web.Response | None:
        problems = _problems(body)
        if problems:
            where = f"/{record.command}: " if record else ""
            self.violations.extend(where + text for _, text in problems)
            return _json({"code": 50035, "message": "Invalid Form Body", "errors": form_errors(problems)}, status=400)
        return None

    def _callback(self, token: str, body: dict[str, Any], files: list[tuple[str, bytes]]) -> web.Response:
        record = self.interactions.get(token)
        if record is None:
            return self._error(404, 10062, "Unknown interaction")
        if record.acknowledged_at is not None:
            self.violations.append(f"/{record.command}: interaction acknowledged twice")
            return self._error(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - record.dispatched_at > ACK_DEADLINE_S:
            return self._error(404, 10062, "Unknown interaction")  # the violation was recorded at 3 s
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if kind == 8:
            record.acknowledged_at = time.monotonic()
            record.autocomplete_choices = data.get("choices", [])
            record.touch()
            return _json({"interaction": {"id": str(record.id), "type": 4}, "resource": {"type": 8}})
        if kind == 9:  # a modal: acknowledges, but there is no message
            record.acknowledged_at = time.monotonic()
            record.callback_type = kind
            record.touch()
            return _json({"interaction": {"id": str(record.id), "type": 2}, "resource": {"type": 9}})
        if kind not in (4, 5, 6, 7):
            self.violations.append(f"/{record.command}: unknown callback type {kind}")
            errors = form_errors([("type", f"unknown callback type {kind}")])
            return _json({"code": 50035, "message": "Invalid Form Body", "errors": errors}, status=400)
        invalid = self._invalid(record, data)
        if invalid is not None:
            return invalid
        record.acknowledged_at = time.monotonic()
        record.callback_type = kind
        message = self._message_from("callback", data, files)
        if kind == 5:
            message.content = None
        record.responses.append(message)
        record.touch()
        channel = self.channel_ids.get(self.guild_ids[0], 0)
        return _json({
            "interaction": {"id": str(record.id), "type": 2, "response_message_id": str(message.id),
                            "response_message_loading": kind == 5,
                            "response_message_ephemeral": bool(message.flags & 64)},
            "resource": {"type": kind, "message": self._message_object(message, channel)},
        })

    def _webhook(self, method: str, token: str, rest: list[str], body: dict[str, Any],
                 files: list[tuple[str, bytes]]) -> web.Response:
        record = self.interactions.get(token)
        if record is None:
            return self._error(404, 10015, "Unknown Webhook")
        if self.now() - record.dispatched_at > TOKEN_LIFETIME_S:
            self.violations.append(f"/{record.command}: follow-up or edit after the 15-minute token expired")
            return self._error(401, 50027, "Invalid Webhook Token")
        if record.acknowledged_at is None:
            return self._error(404, 10015, "Unknown Webhook")
        channel = self.channel_ids.get(self.guild_ids[0], 0)
        if method == "GET" and rest[:2] == ["messages", "@original"]:
            original = record.original()
            return _json(self._message_object(original, channel)) if original else self._error(404, 10008, "Unknown Message")
        invalid = self._invalid(record, body)
        if invalid is not None:
            return invalid
        if method == "POST" and not rest:
            message = self._message_from("followup", body, files)
        elif method == "PATCH" and rest[:2] == ["messages", "@original"]:
            message = self._message_from("edit", body, files, record.original())
        elif method == "PATCH" and rest[:1] == ["messages"] and len(rest) == 2:
            target = next((m for m in reversed(record.responses) if str(m.id) == rest[1]), None)
            if target is None:
                return self._error(404, 10008, "Unknown Message")
            message = self._message_from("followup" if target.kind == "followup" else "edit", body, files, target)
        elif method == "DELETE":
            return web.Response(status=204)
        else:
            return self._error(404, 0, "404: Not Found")
        record.responses.append(message)
        record.touch()
        state = record.original() if message.kind == "edit" else message
        return _json(self._message_object(state or message, channel))

    def _channel_message(self, channel_id: int, body: dict[str, Any], files: list[tuple[str, bytes]]) -> web.Response:
        user_id = self.dm_channels.get(channel_id)
        if user_id is None:
            return self._error(404, 10003, "Unknown Channel")
        if user_id in self.closed_dms:
            return self._error(403, 50007, "Cannot send messages to this user")
        invalid = self._invalid(None, body)
        if invalid is not None:
            return invalid
        message = self._message_from("dm", body, files)
        self.dms.setdefault(user_id, []).append(message)
        return _json(self._message_object(message, channel_id, webhook=False))
