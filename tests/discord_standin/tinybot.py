"""The tiny discord.py bot (not genrebot) the stand-in's self-tests drive: each test file adds the
commands that break its rules on purpose, and `running` connects it to a stand-in.

The unmodified discord.py client talks to the stand-in over real sockets: only `Route.BASE` and
`DiscordWebSocket.DEFAULT_GATEWAY` are pointed at it, and restored afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import discord
import yarl
from discord.ext import commands

from tests.discord_standin import DiscordStandIn

USER = 4242
GUILD = 800_000_000_000_000_001


class TinyBot(commands.Bot):
    """Errors the bot sees land in `errors`; `gate` holds a command until the test opens it."""

    def __init__(self, intents: discord.Intents | None = None) -> None:
        intents = intents or discord.Intents(guilds=True)
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        self.errors: list[BaseException] = []
        self.gate = asyncio.Event()
        self.seen: list[object] = []

    async def setup_hook(self) -> None:
        await self.tree.sync()
        await self.tree.sync(guild=discord.Object(GUILD))


@asynccontextmanager
async def pointed_at(server: DiscordStandIn) -> AsyncIterator[None]:
    """discord.py's REST base and gateway aimed at the stand-in for the duration."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = server.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@asynccontextmanager
async def running(server: DiscordStandIn, bot: TinyBot) -> AsyncIterator[None]:
    """Start the stand-in, log the bot in and wait until READY and GUILD_CREATE were understood."""
    await server.start()
    async with pointed_at(server):
        task = asyncio.create_task(bot.start(server.token))
        try:
            await server.wait_ready()
            await asyncio.wait_for(bot.wait_until_ready(), 5)
            yield
        finally:
            bot.gate.set()
            await bot.close()
            await asyncio.gather(task, return_exceptions=True)
            await server.stop()


def delivered_interactions(server: DiscordStandIn) -> int:
    """How many interactions the stand-in has delivered to the bot over its gateway sessions."""
    return sum(frame["t"] == "INTERACTION_CREATE" for s in server.sessions.values() for frame in s.events)


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:
    """Wait for something the bot does in its own task (polling: the bot has no event to await)."""
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")
