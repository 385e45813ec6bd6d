"""Discord's 3-second rule while the database is busy: a command acknowledges before it writes, so a
long write transaction (a big sort storing its library) never makes a member's command time out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tests.e2e.conftest import BotWorld

MEMBER = 100_000_000_000_002_001
NEWCOMER = 100_000_000_000_002_002


@asynccontextmanager
async def database_write_held(world: BotWorld) -> AsyncIterator[None]:
    """Hold storage's one write lock in an open transaction, as a long write of a big sort does."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with world.services.db.transaction():
            entered.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await entered.wait()
    try:
        yield
    finally:
        release.set()
        await holder


COMMANDS = [
    pytest.param("link", None, None, id="link"),
    pytest.param("privacy", {"leaderboard": "off"}, None, id="privacy"),
    pytest.param("schedule", {"weekday": "monday", "hour": 8, "timezone": "UTC"}, "set", id="schedule-set"),
    pytest.param("schedule", None, "off", id="schedule-off"),
]


@pytest.mark.parametrize(("command", "options", "sub"), COMMANDS)
async def test_a_command_that_writes_is_acknowledged_while_a_long_write_holds_the_database(
    world: BotWorld, command: str, options: dict[str, object] | None, sub: str | None
) -> None:
    """/link, /privacy and /schedule acknowledge at once while the write lock is held, and answer after."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    await world.final(await world.command("schedule", {"weekday": "friday", "hour": 18, "timezone": "UTC"}, user=MEMBER, sub="set"))
    async with database_write_held(world):
        record = await world.discord.invoke(command, options, user_id=MEMBER, subcommand=sub)
        await record.wait_acknowledged(5)
    reply = await world.final(record, 30)
    assert reply.content or reply.embeds
    assert "went wrong" not in (reply.content or "")


async def test_a_newcomers_first_command_is_acknowledged_while_a_long_write_holds_the_database(
    world: BotWorld,
) -> None:
    """Noting a new member for the server's leaderboards never delays the acknowledgement."""
    await world.start_bot()
    async with database_write_held(world):
        record = await world.discord.invoke("genres", user_id=NEWCOMER)
        await record.wait_acknowledged(5)
    assert record.original() is not None and record.original().embeds  # type: ignore[union-attr]
    await world.final(await world.command("leaderboard", user=NEWCOMER))
    guilds = await world.services.db.sql.fetchall(
        "SELECT guild_id FROM guild_members WHERE discord_id = ?", (NEWCOMER,)
    )
    assert len(guilds) == 1, "the member was still noted, once the write ended"
