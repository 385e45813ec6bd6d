"""The stand-in's clock: a test fast-forwards it instead of waiting, interaction tokens die 15 minutes
after the interaction (50027), and interaction ids carry their creation time as Discord's do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import discord
import pytest

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.tinybot import USER, TinyBot, running, until


class ClockBot(TinyBot):
    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="longwork", description="works past the token's life, then delivers")
        async def longwork(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True)
            await interaction.edit_original_response(content="working…")
            await self.gate.wait()
            try:
                await interaction.edit_original_response(content="result")
            except discord.HTTPException as exc:
                self.errors.append(exc)
                await interaction.user.send("result (by DM: the reply had expired)")

        @self.tree.command(name="when", description="notes when Discord says the interaction was created")
        async def when(interaction: discord.Interaction) -> None:
            self.seen.append(interaction.created_at)
            await interaction.response.send_message("noted", ephemeral=True)


@pytest.fixture
async def world() -> AsyncIterator[tuple[DiscordStandIn, ClockBot]]:
    server, bot = DiscordStandIn(), ClockBot()
    async with running(server, bot):
        yield server, bot


async def test_after_fifteen_minutes_the_edit_fails_and_a_dm_still_arrives(world: tuple[DiscordStandIn, ClockBot]) -> None:
    """The long-sort case: the final edit gets 401 50027, the member still sees the progress line,
    and the result can reach them by DM."""
    server, bot = world
    record = await server.invoke("longwork", user_id=USER)
    await record.wait_for(lambda m: m.content == "working…")
    server.advance(15 * 60 + 1)
    bot.gate.set()
    await until(lambda: bool(server.dms.get(USER)))
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (401, 50027)
    assert error.text == "Invalid Webhook Token"
    assert record.rejected == [(401, 50027)]
    assert record.original() is not None and record.original().content == "working…"  # type: ignore[union-attr]
    assert server.dms[USER][0].content == "result (by DM: the reply had expired)"
    assert server.take_violations() == ["/longwork: follow-up or edit after the 15-minute token expired"]


async def test_just_before_fifteen_minutes_the_edit_still_works(world: tuple[DiscordStandIn, ClockBot]) -> None:
    """A token is good for its whole lifetime: an edit at 14:55 lands."""
    server, bot = world
    record = await server.invoke("longwork", user_id=USER)
    await record.wait_for(lambda m: m.content == "working…")
    server.advance(15 * 60 - 5)
    assert server.now() < record.expires_at
    bot.gate.set()
    await record.wait_for(lambda m: m.content == "result")
    assert not bot.errors and not server.violations and USER not in server.dms


async def test_interaction_ids_carry_their_creation_time(world: tuple[DiscordStandIn, ClockBot]) -> None:
    """discord.py's `created_at` (read from the snowflake) is now, and moves with the stand-in's clock,
    so a bot can tell how long its token has left."""
    server, bot = world
    before = datetime.now(UTC)
    await server.invoke("when", user_id=USER)
    await until(lambda: len(bot.seen) == 1)
    server.advance(600)
    await server.invoke("when", user_id=USER)
    await until(lambda: len(bot.seen) == 2)
    first, second = bot.seen
    assert isinstance(first, datetime) and isinstance(second, datetime)
    assert before - timedelta(seconds=1) <= first <= datetime.now(UTC)
    assert timedelta(seconds=600) <= second - first < timedelta(seconds=660)
