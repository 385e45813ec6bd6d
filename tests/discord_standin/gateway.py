"""The gateway WebSocket: HELLO, heartbeats, IDENTIFY (with Discord's privileged-intent check),
READY and GUILD_CREATE, numbered dispatches, RESUME with replay, and dropped connections."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord_standin.base import INTENT_GUILD_MEMBERS, PRIVILEGED_INTENTS
from tests.discord_standin.guilds import GuildsMixin


class GatewayMixin(GuildsMixin):
    _events: list[dict[str, Any]]  # every dispatch, for RESUME replay
    _seq: int
    _ws: web.WebSocketResponse | None

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
                if not await self._identify(ws, payload["d"]):
                    break
            elif op == 6:
                await self._resume(ws, payload["d"])
            elif op == 8:
                await self._request_members(payload["d"])
        return ws

    async def _request_members(self, data: dict[str, Any]) -> None:
        """REQUEST_GUILD_MEMBERS (op 8, what discord.py's chunking sends): one GUILD_MEMBERS_CHUNK.
        The whole list (empty query) needs the GUILD_MEMBERS intent, as on Discord."""
        guild_id = int(data["guild_id"])
        query, limit = str(data.get("query") or ""), int(data.get("limit") or 0)
        user_ids = {int(u) for u in (data.get("user_ids") or [])}
        members = sorted(self.members.get(guild_id, set()))
        if user_ids:
            found = [m for m in members if m in user_ids]
        elif query or self.identified_intents & INTENT_GUILD_MEMBERS:
            found = [m for m in members if self._user(m)["username"].startswith(query.lower())]
        else:
            found = []
        await self._dispatch("GUILD_MEMBERS_CHUNK", {
            "guild_id": str(guild_id), "members": [self._member(m) for m in found[:limit or None]],
            "chunk_index": 0, "chunk_count": 1, "nonce": data.get("nonce"),
        })

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> bool:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return False
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS & ~self.portal_intents:
            await ws.close(code=4014, message=b"Disallowed intent(s).")  # discord.py: PrivilegedIntentsRequired
            return False
        self.identified_intents = intents
        await self._dispatch("READY", {
            "v": 10, "user": self.bot_user, "session_id": self.session_id,
            "resume_gateway_url": self.gateway_url, "application": {"id": str(self.application_id), "flags": 0},
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guild_ids],
            "shard": [0, 1],
        })
        for guild_id in self.guild_ids:
            await self._dispatch("GUILD_CREATE", self._guild(guild_id))
        self.identified.set()
        return True

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("session_id") != self.session_id or data.get("token") != self.token:
            await ws.send_json({"op": 9, "d": False, "s": None, "t": None})  # not resumable: IDENTIFY again
            return
        since = int(data.get("seq") or 0)
        self.resumed += 1
        for event in [e for e in self._events if e["s"] > since]:
            await ws.send_json(event)
        self._seq += 1
        await ws.send_json({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})

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
