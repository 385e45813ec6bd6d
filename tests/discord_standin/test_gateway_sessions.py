"""The gateway's own requests and its heartbeat check: op 7 Reconnect and op 9 Invalid Session
reach the unmodified discord.py client, and a client whose event loop is blocked misses its beats."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.tinybot import USER, TinyBot, running, until


class SessionsBot(TinyBot):
    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="wait", description="defers, waits for the gate, then edits")
        async def wait(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await self.gate.wait()
            await interaction.edit_original_response(content="done")

        @self.tree.command(name="block", description="holds the event loop for 2.5 seconds of CPU time")
        async def block(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            held_from = time.thread_time()
            while time.thread_time() - held_from < 2.5:  # on purpose: the blocking work the check catches
                pass
            await interaction.edit_original_response(content="done")


@pytest.fixture
async def world() -> AsyncIterator[tuple[DiscordStandIn, SessionsBot]]:
    server, bot = DiscordStandIn(heartbeat_interval_s=1.0), SessionsBot()
    async with running(server, bot):
        yield server, bot


async def test_op_7_reconnect_makes_the_client_resume(world: tuple[DiscordStandIn, SessionsBot]) -> None:
    """After op 7 the client resumes, and what was dispatched meanwhile arrives."""
    server, bot = world
    held = await server.invoke("wait", user_id=USER)
    await held.wait_acknowledged()
    await server.request_reconnect()
    meanwhile = await server.invoke("wait", user_id=USER + 1)
    bot.gate.set()
    await held.wait_for(lambda m: m.content == "done", 10)
    await meanwhile.wait_for(lambda m: m.content == "done", 10)
    assert server.resumed == 1 and server.identifies == [(0, 1)]


async def test_op_9_invalid_session_makes_the_client_identify_anew(
    world: tuple[DiscordStandIn, SessionsBot],
) -> None:
    """After op 9 (not resumable) the client identifies again; a command after it is answered."""
    server, bot = world
    held = await server.invoke("wait", user_id=USER)
    await held.wait_acknowledged()
    await server.invalidate_sessions()
    await server.wait_ready()
    bot.gate.set()
    await held.wait_for(lambda m: m.content == "done", 10)
    after = await server.invoke("wait", user_id=USER + 1)
    await after.wait_for(lambda m: m.content == "done", 10)
    assert server.identifies == [(0, 1), (0, 1)] and server.resumed == 0


async def test_a_blocked_event_loop_misses_heartbeats_and_is_closed_4009(
    world: tuple[DiscordStandIn, SessionsBot],
) -> None:
    """2.5 s of blocking work (CPU time, however long the clock says it took) with a 1 s heartbeat
    interval: closed with 4009, recorded as a violation."""
    server, _ = world
    record = await server.invoke("block", user_id=USER)
    await record.wait_for(lambda m: m.content == "done", 60)
    await until(lambda: bool(server.violations))
    assert "no gateway heartbeat" in server.take_violations()[0]
    await server.wait_ready()
    await until(lambda: len(server.identifies) + server.resumed >= 2)  # 4009: the client reconnects


async def test_a_late_beat_from_an_idle_event_loop_is_not_a_blocked_loop() -> None:
    """A beat 2.5 intervals late while the client's event loop idles (a loaded machine gave its
    heartbeat thread no time) is neither closed nor a violation: only a held loop is."""
    server = DiscordStandIn(heartbeat_interval_s=0.2)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(server.gateway_url) as ws:
            assert (await ws.receive_json())["op"] == 10
            for _ in range(2):
                await asyncio.sleep(0.5)  # the event loop idles: the beat is late, the loop not held
                await ws.send_json({"op": 1, "d": None})
                assert (await ws.receive_json())["op"] == 11
        assert server.violations == []
    finally:
        await server.stop()


async def test_a_connection_silent_for_many_intervals_is_closed_4009() -> None:
    """A client that stops beating altogether (its loop stuck on I/O, or dead) is closed with 4009
    after `SILENT_GRACE` intervals, as a violation."""
    server = DiscordStandIn(heartbeat_interval_s=0.05)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(server.gateway_url) as ws:
            assert (await ws.receive_json())["op"] == 10
            closed = await ws.receive()
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 4009
        assert "no gateway heartbeat" in server.take_violations()[0]
    finally:
        await server.stop()
