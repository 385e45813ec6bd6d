"""Sharding as Discord does it: GET /gateway/bot recommends a shard count, a session that would
hold too many guilds is closed with 4011, and each shard gets only its own guilds' events."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest
from discord.ext import commands

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.gateway import shard_of
from tests.discord_standin.tinybot import GUILD, USER, TinyBot, pointed_at, until

OTHER_GUILD = GUILD + (1 << 22)  # the next shard's guild when there are two shards


def two_guilds_one_per_shard() -> DiscordStandIn:
    assert shard_of(GUILD, 2) != shard_of(OTHER_GUILD, 2)
    return DiscordStandIn(guild_ids=(GUILD, OTHER_GUILD), max_guilds_per_shard=1)


class ShardedBot(commands.AutoShardedBot):
    """discord.py's sharded bot with one global command that says which shard answered."""

    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents(guilds=True), guild_ready_timeout=0.1)

        @self.tree.command(name="where", description="names the shard")
        async def where(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"shard {interaction.guild.shard_id if interaction.guild else 0}")

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return  # the stand-in has no IDENTIFY rate limit: skip discord.py's 5 s between shards


async def test_gateway_bot_recommends_enough_shards_and_start_limits() -> None:
    """GET /gateway/bot answers the URL, the shard count the guilds need and the session start limits."""
    server = two_guilds_one_per_shard()
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, http.get(
            f"{server.api_base}/gateway/bot", headers={"Authorization": f"Bot {server.token}"}
        ) as answer:
            body = await answer.json()
    finally:
        await server.stop()
    assert body["url"] == server.gateway_url and body["shards"] == 2
    assert set(body["session_start_limit"]) == {"total", "remaining", "reset_after", "max_concurrency"}


async def test_an_unsharded_bot_over_the_guild_limit_is_closed_with_4011() -> None:
    """A session that would hold more guilds than a shard may gets 4011 'Sharding required.'."""
    server, bot = two_guilds_one_per_shard(), TinyBot()
    await server.start()
    try:
        async with pointed_at(server):
            with pytest.raises(discord.ConnectionClosed) as closed:
                await asyncio.wait_for(bot.start(server.token), 10)
            await bot.close()
    finally:
        await server.stop()
    assert closed.value.code == 4011 and not server.identifies


async def test_an_auto_sharded_bot_gets_each_guild_on_its_own_shard() -> None:
    """AutoShardedBot identifies two shards; a command in each guild arrives on that guild's shard."""
    server, bot = two_guilds_one_per_shard(), ShardedBot()
    await server.start()
    async with pointed_at(server):
        task = asyncio.create_task(bot.start(server.token))
        try:
            await server.wait_ready()
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            assert sorted(server.identifies) == [(0, 2), (1, 2)]
            for guild in (GUILD, OTHER_GUILD):
                record = await server.invoke("where", user_id=USER, guild_id=guild)
                reply = await record.wait_for(lambda m: bool(m.content))
                assert reply.content == f"shard {shard_of(guild, 2)}"
            await until(lambda: bot.shard_count == 2)
        finally:
            await bot.close()
            await asyncio.gather(task, return_exceptions=True)
            await server.stop()
    assert not server.violations


async def test_a_shard_id_outside_its_count_is_closed_with_4010() -> None:
    """IDENTIFY with shard [2, 2] is refused with 4010 'Invalid shard.'."""
    server = DiscordStandIn()
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(server.gateway_url) as ws:
            await ws.receive_json()  # HELLO
            await ws.send_json({"op": 2, "d": {"token": server.token, "intents": 1, "shard": [2, 2],
                                               "properties": {}}})
            closing = await ws.receive()
    finally:
        await server.stop()
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4010
