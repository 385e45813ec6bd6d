"""A bot in more servers than one gateway session may hold keeps its gateway by sharding."""

from __future__ import annotations

import pytest

from tests.discord_standin.gateway import shard_of
from tests.e2e.conftest import GUILD, BotWorld

OTHER_GUILD = GUILD + (1 << 22)  # on the other shard when there are two
MEMBER = 100_000_000_000_003_001


@pytest.mark.standin(guild_ids=(GUILD, OTHER_GUILD), max_guilds_per_shard=1)
async def test_a_bot_in_more_servers_than_a_shard_holds_connects_with_shards(world: BotWorld) -> None:
    """With more servers than one session may hold, the bot opens the recommended shards and answers."""
    assert shard_of(GUILD, 2) != shard_of(OTHER_GUILD, 2)
    bot = await world.start_bot()
    assert sorted(world.discord.identifies) == [(0, 2), (1, 2)]
    assert {guild.id for guild in bot.guilds} == {GUILD, OTHER_GUILD}
    reply = (await world.command("genres", user=MEMBER)).original()
    assert reply is not None and reply.embeds
