"""genrebot removed from a server (GUILD_DELETE) and invited back: the server's leaderboards count
nobody while it is gone, and count its members again as soon as they use genrebot there."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import GUILD, BotWorld

MEMBER = 100_000_000_000_008_001


async def noted_in(world: BotWorld, member: int, guild: int, timeout: float = 10) -> bool:
    """Whether the member's membership of the server is stored, within `timeout` (it is noted in
    the background of a command: polled, as there is no event to await)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if guild in await world.services.stats.member_guilds(member):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_members_count_again_in_a_server_that_invites_genrebot_back(world: BotWorld) -> None:
    """Kicked (the server's memberships are forgotten) and re-invited within the hour, a member's next
    command there counts them in its leaderboards again."""
    bot = await world.start_bot()
    await world.link(MEMBER, "member0")
    await world.final(await world.command("sort", user=MEMBER))
    assert await noted_in(world, MEMBER, GUILD)
    await world.discord.remove_bot(GUILD)
    assert await _forgotten(world, MEMBER)
    joined = asyncio.ensure_future(bot.wait_for("guild_join", check=lambda guild: guild.id == GUILD, timeout=10))
    await world.discord.add_bot(GUILD)
    await joined
    await world.final(await world.command("status", user=MEMBER))
    assert await noted_in(world, MEMBER, GUILD), "the member's command after the re-invite did not count them"
    board = await world.final(await world.command("leaderboard", user=MEMBER))
    assert "Nothing classified yet" not in (board.embeds[0].get("description") or "")


async def _forgotten(world: BotWorld, member: int, timeout: float = 10) -> bool:
    """Whether the removal forgot the member's membership of GUILD, within `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if GUILD not in await world.services.stats.member_guilds(member):
            return True
        await asyncio.sleep(0.05)
    return False
