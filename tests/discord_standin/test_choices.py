"""What a member can send for an option: only a listed value where the command declares `choices`
(Discord's client refuses anything else, and nothing reaches the bot), any text where the option
autocompletes or lists no choices."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.tinybot import USER, TinyBot, delivered_interactions, running

LEVELS = [app_commands.Choice(name="Calm", value="calm"), app_commands.Choice(name="Loud", value="loud")]
COUNTS = [app_commands.Choice(name=str(n), value=n) for n in (1, 2, 3)]


class ChoicesBot(TinyBot):
    """/mood has options with choices, one that autocompletes and one free; /mix set nests them."""

    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="mood", description="options with and without choices")
        @app_commands.choices(level=LEVELS)
        @app_commands.choices(count=COUNTS)
        async def mood(interaction: discord.Interaction, level: str, count: int = 1, song: str = "",
                       note: str = "") -> None:
            self.seen.append((level, count, song, note))
            await interaction.response.send_message(f"{level} x{count}")

        @mood.autocomplete("song")
        async def songs(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            self.seen.append(("typed", current))
            return [app_commands.Choice(name="any song", value="any song")]

        mix = app_commands.Group(name="mix", description="a subcommand with choices")

        @mix.command(name="set", description="a nested option with choices")
        @app_commands.choices(level=LEVELS)
        async def set_(interaction: discord.Interaction, level: str) -> None:
            self.seen.append(("mix", level))
            await interaction.response.send_message(level)

        self.tree.add_command(mix)


@pytest.fixture
async def world() -> AsyncIterator[tuple[DiscordStandIn, ChoicesBot]]:
    server, bot = DiscordStandIn(), ChoicesBot()
    async with running(server, bot):
        yield server, bot


@pytest.mark.parametrize(("options", "subcommand"), [
    pytest.param({"level": "furious"}, None, id="string-not-listed"),
    pytest.param({"level": "Calm"}, None, id="a-choice-name-is-not-its-value"),
    pytest.param({"level": "calm", "count": 4}, None, id="integer-not-listed"),
    pytest.param({"level": "`x` **y**"}, "set", id="nested-in-a-subcommand"),
])
async def test_value_outside_the_choices_is_refused_and_never_delivered(
    world: tuple[DiscordStandIn, ChoicesBot], options: dict[str, object], subcommand: str | None
) -> None:
    """A value that is not one of the option's choices raises, and no interaction reaches the bot."""
    server, bot = world
    command = "mix" if subcommand else "mood"
    with pytest.raises(AssertionError, match="Discord refuses .* not one of its choices"):
        await server.invoke(command, options, user_id=USER, subcommand=subcommand)
    assert delivered_interactions(server) == 0 and not server.interactions
    record = await server.invoke("mood", {"level": "loud"}, user_id=USER)  # the gateway keeps order
    await record.wait_for(lambda m: m.content == "loud x1")
    assert bot.seen == [("loud", 1, "", "")] and not server.violations


async def test_listed_choices_are_delivered_typed(world: tuple[DiscordStandIn, ChoicesBot]) -> None:
    """A listed value is delivered as its option's type (the integer choice 2 given as "2" too)."""
    server, bot = world
    record = await server.invoke("mood", {"level": "calm", "count": "2"}, user_id=USER)
    await record.wait_for(lambda m: m.content == "calm x2")
    record = await server.invoke("mix", {"level": "loud"}, user_id=USER, subcommand="set")
    await record.wait_for(lambda m: m.content == "loud")
    assert bot.seen == [("calm", 2, "", ""), ("mix", "loud")] and not server.violations


async def test_autocomplete_and_free_options_take_any_text(world: tuple[DiscordStandIn, ChoicesBot]) -> None:
    """An option that autocompletes, or lists no choices, may hold any string, suggested or not."""
    server, bot = world
    typed = "`never suggested` **at all**"
    assert await server.autocomplete("mood", "song", typed, user_id=USER, options={"level": "calm"}) == [
        {"name": "any song", "value": "any song"}]
    record = await server.invoke("mood", {"level": "calm", "song": typed, "note": "furious"}, user_id=USER)
    await record.wait_for(lambda m: m.content == "calm x1")
    assert bot.seen == [("typed", typed), ("calm", 1, typed, "furious")] and not server.violations


async def test_autocomplete_with_an_unlisted_choice_beside_it_is_refused(
    world: tuple[DiscordStandIn, ChoicesBot],
) -> None:
    """While typing in an autocomplete option, the other options still hold only listed choices."""
    server, _ = world
    with pytest.raises(AssertionError, match="Discord refuses .* not one of its choices"):
        await server.autocomplete("mood", "song", "ro", user_id=USER, options={"level": "furious"})
    assert delivered_interactions(server) == 0 and not server.interactions
