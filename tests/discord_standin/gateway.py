"""The gateway WebSocket: HELLO, heartbeats, IDENTIFY (with Discord's privileged-intent and
sharding checks), READY and GUILD_CREATE, numbered dispatches, RESUME with replay, dropped
connections, and Discord's own requests to reconnect (op 7 Reconnect, op 9 Invalid Session).

Heartbeats: HELLO asks for one every `heartbeat_interval_s` (41.25 s, as Discord's HELLO says).
discord.py beats from its own thread but sends each beat through the event loop, so an event loop
held by blocking work (inference, pandas) delays the beat; a test asks for a short interval
(`DiscordStandIn(heartbeat_interval_s=1.0)`) to see it. The stand-in shares the test's event loop,
so it judges a held loop by the loop thread's CPU time, not the clock: more than `HELD_GRACE`
intervals of it between two beats means one piece of work held the loop (many short callbacks let
the beat through), however loaded the machine, which only stretches the clock. A connection that
sends no beat for `SILENT_GRACE` intervals of the clock (a loop stuck waiting on I/O, or dead) is
judged the same way. Either is closed with 4009 "Session timed out." and is a violation. Discord
publishes no grace of its own: these are the stand-in's.

Sharding as on Discord: `GET /gateway/bot` recommends a shard count (one shard per 1,000 guilds,
and never more than `max_guilds_per_shard`, 2,500 on Discord, per shard); each connection names
its `[shard_id, shard_count]` in IDENTIFY (none means `[0, 1]`) and gets only the guilds with
`(guild_id >> 22) % shard_count == shard_id`, their events, and (shard 0) everything outside a
guild. A shard that would hold more than `max_guilds_per_shard` guilds is closed with 4011
"Sharding required."; a shard id outside its count with 4010 "Invalid shard.". Each shard is its
own session with its own sequence numbers, resumed on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.discord_standin.base import INTENT_GUILD_MEMBERS, PRIVILEGED_INTENTS
from tests.discord_standin.guilds import GuildsMixin

RECOMMENDED_GUILDS_PER_SHARD = 1000  # what Discord's /gateway/bot recommendation is based on
HEARTBEAT_INTERVAL_S = 41.25  # what Discord's HELLO asks for
HELD_GRACE = 1.5  # intervals of the loop thread's CPU time between two beats: the loop was held
SILENT_GRACE = 10  # intervals of the clock without a beat: the client stopped beating


@dataclass
class GatewaySession:
    """One shard's session: its socket while connected, and its numbered dispatches for RESUME."""

    shard_id: int
    shard_count: int
    session_id: str
    ws: web.WebSocketResponse | None = None
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class HeartbeatWatch:
    """One connection's beats: when the last came, by the clock and by the loop thread's CPU time.
    Read on the event loop's thread only (`time.thread_time` is that thread's)."""

    interval_s: float
    beat_at: float = field(default_factory=time.monotonic)
    beat_at_cpu: float = field(default_factory=time.thread_time)

    def beat(self) -> None:
        self.beat_at, self.beat_at_cpu = time.monotonic(), time.thread_time()

    def missed(self) -> str | None:
        """Why the connection counts as timed out, or None."""
        held, silent = time.thread_time() - self.beat_at_cpu, time.monotonic() - self.beat_at
        if held > self.interval_s * HELD_GRACE:
            return f"the event loop was held for {held:.1f}s of CPU time between two beats"
        if silent > self.interval_s * SILENT_GRACE:
            return f"no beat for {silent:.1f}s"
        return None


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's formula: which shard receives a guild's events."""
    return (guild_id >> 22) % shard_count


class GatewayMixin(GuildsMixin):
    sessions: dict[int, GatewaySession]  # by shard id
    max_guilds_per_shard: int
    heartbeat_interval_s: float

    def recommended_shards(self) -> int:
        """The `shards` field of GET /gateway/bot."""
        guilds = len(self.guild_ids)
        return max(1, math.ceil(guilds / RECOMMENDED_GUILDS_PER_SHARD), math.ceil(guilds / self.max_guilds_per_shard))

    def guilds_of_shard(self, shard_id: int, shard_count: int) -> list[int]:
        return [g for g in self.guild_ids if shard_of(g, shard_count) == shard_id and g not in self.removed_from]

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        session: GatewaySession | None = None
        interval = self.heartbeat_interval_s
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": round(interval * 1000)}, "s": None, "t": None})
        beats = HeartbeatWatch(interval)
        watchdog = asyncio.create_task(self._watch_heartbeats(ws, beats, lambda: session))
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                session = await self._gateway_frame(ws, json.loads(frame.data), session, beats)
                if ws.closed:
                    break
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
        return ws

    async def _gateway_frame(self, ws: web.WebSocketResponse, payload: dict[str, Any],
                             session: GatewaySession | None, beats: HeartbeatWatch) -> GatewaySession | None:
        """Answer one frame the client sent; the connection's session afterwards."""
        op = payload.get("op")
        if op == 1:
            if await self._timed_out(ws, beats, session):
                return session
            beats.beat()
            await ws.send_json({"op": 11})
        elif op == 2:
            return await self._identify(ws, payload["d"])
        elif op == 6:
            return await self._resume(ws, payload["d"])
        elif op == 8 and session is not None:
            await self._request_members(payload["d"])
        return session

    async def _watch_heartbeats(self, ws: web.WebSocketResponse, beats: HeartbeatWatch,
                                current_session: Callable[[], GatewaySession | None]) -> None:
        """Close a connection that stopped beating; a held loop is also caught when its late beat
        comes (`_gateway_frame`), so this one needs no timing of its own to be right."""
        while not ws.closed:
            await asyncio.sleep(beats.interval_s / 4)
            if await self._timed_out(ws, beats, current_session()):
                return

    async def _timed_out(self, ws: web.WebSocketResponse, beats: HeartbeatWatch,
                         session: GatewaySession | None) -> bool:
        """Close with 4009, as a violation, a connection whose beats say its loop was held or that
        stopped beating; whether it was."""
        missed = beats.missed()
        if missed is None or ws.closed:
            return False
        shard = session.shard_id if session is not None else 0
        self.violations.append(f"no gateway heartbeat on shard {shard} (heartbeat_interval {beats.interval_s}s):"
                               f" {missed}: was the event loop blocked?")
        await ws.close(code=4009, message=b"Session timed out.")
        return True

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

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard_id, shard_count = (int(n) for n in (data.get("shard") or (0, 1)))
        if shard_count < 1 or not 0 <= shard_id < shard_count:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        guilds = self.guilds_of_shard(shard_id, shard_count)
        if len(guilds) > self.max_guilds_per_shard:
            await ws.close(code=4011, message=b"Sharding required.")
            return None
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS & ~self.portal_intents:
            await ws.close(code=4014, message=b"Disallowed intent(s).")  # discord.py: PrivilegedIntentsRequired
            return None
        self.identified_intents = intents
        if any(s.shard_count != shard_count for s in self.sessions.values()):
            self.sessions.clear()  # the bot re-sharded: the old sessions are gone
        suffix = "" if shard_count == 1 else f"-{shard_id}"
        session = self.sessions[shard_id] = GatewaySession(shard_id, shard_count, self.session_id + suffix, ws)
        self.identifies.append((shard_id, shard_count))
        await self._send(session, "READY", {
            "v": 10, "user": self.bot_user, "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url, "application": {"id": str(self.application_id), "flags": 0},
            "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
            "shard": [shard_id, shard_count],
        })
        for guild_id in guilds:
            await self._send(session, "GUILD_CREATE", self._guild(guild_id))
        if len(self.sessions) == shard_count:
            self.identified.set()
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> GatewaySession | None:
        session = next((s for s in self.sessions.values() if s.session_id == data.get("session_id")), None)
        if session is None or data.get("token") != self.token:
            await ws.send_json({"op": 9, "d": False, "s": None, "t": None})  # not resumable: IDENTIFY again
            return None
        session.ws = ws
        since = int(data.get("seq") or 0)
        self.resumed += 1
        for event in [e for e in session.events if e["s"] > since]:
            await ws.send_json(event)
        session.seq += 1
        await ws.send_json({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
        return session

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to the shard that owns its guild (shard 0 for DMs and the like)."""
        count = next(iter(self.sessions.values())).shard_count if self.sessions else 1
        guild = data.get("guild_id")
        session = self.sessions.get(shard_of(int(guild), count) if guild else 0)
        if session is not None:
            await self._send(session, event, data)

    async def _send(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.events.append(frame)
        if session.ws is not None and not session.ws.closed:
            try:
                await session.ws.send_json(frame)
            except ConnectionError:
                pass  # replayed on RESUME

    async def remove_bot(self, guild_id: int) -> None:
        """The bot is kicked from (or leaves) the guild: GUILD_DELETE without `unavailable` (which
        discord.py reports as on_guild_remove), no more READY for it, and its members are 403 50001
        "Missing Access" to the bot, until `add_bot` (a re-invite: GUILD_CREATE)."""
        self.removed_from.add(guild_id)
        await self._dispatch_to_guild(guild_id, "GUILD_DELETE", {"id": str(guild_id)})

    async def add_bot(self, guild_id: int) -> None:
        """A re-invite: GUILD_CREATE without `unavailable` (false there means back from an outage)."""
        self.removed_from.discard(guild_id)
        joined = {key: value for key, value in self._guild(guild_id).items() if key != "unavailable"}
        await self._dispatch_to_guild(guild_id, "GUILD_CREATE", joined)

    async def _dispatch_to_guild(self, guild_id: int, event: str, data: dict[str, Any]) -> None:
        count = next(iter(self.sessions.values())).shard_count if self.sessions else 1
        session = self.sessions.get(shard_of(guild_id, count))
        if session is not None:
            await self._send(session, event, data)

    async def drop_connection(self) -> None:
        """Close every shard's socket with a resumable code, as Discord does during outages."""
        for session in self.sessions.values():
            if session.ws is not None:
                await session.ws.close(code=4000, message=b"Unknown error")

    async def request_reconnect(self) -> None:
        """Discord's op 7 Reconnect on every shard ("reconnect and resume immediately"): the
        session stays resumable, and what is dispatched meanwhile is replayed on RESUME."""
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.send_json({"op": 7, "d": None, "s": None, "t": None})

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Discord's op 9 Invalid Session on every shard. Not resumable (`d` false): the sessions
        are gone, a RESUME is answered with op 9 again, the client must IDENTIFY anew, and what
        was dispatched to the old sessions is never replayed."""
        for session in list(self.sessions.values()):
            if session.ws is not None and not session.ws.closed:
                await session.ws.send_json({"op": 9, "d": resumable, "s": None, "t": None})
        if not resumable:
            self.sessions.clear()
            self.identified.clear()

    async def close_sockets(self) -> None:
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close()
