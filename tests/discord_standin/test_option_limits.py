"""What a member can send for a typed option: a value of the option's type, within its `min_value`
/`max_value` (integers, numbers) or `min_length`/`max_length` (strings). Discord's client does not
send anything else and the API refuses it, so nothing reaches the bot; only the option being typed
in an autocomplete interaction is sent unchecked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.tinybot import USER, TinyBot, delivered_interactions, running


class LimitsBot(TinyBot):
    """/alarm has an hour 0-23, a share 0-1, a label of 2-8 characters, a flag and a song that autocompletes."""

    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="alarm", description="options with ranges and lengths")
        async def alarm(interaction: discord.Interaction, hour: app_commands.Range[int, 0, 23],
                        share: app_commands.Range[float, 0.0, 1.0] = 0.5,
                        label: app_commands.Range[str, 2, 8] = "wake", loud: bool = False, song: str = "") -> None:
            self.seen.append((hour, share, label, loud, song))
            await interaction.response.send_message(f"{hour} {share} {label} {loud}")

        @alarm.autocomplete("song")
        async def songs(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            self.seen.append(("typed", current))
            return [app_commands.Choice(name="any song", value="any song")]

        @alarm.autocomplete("hour")
        async def hours(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[int]]:
            self.seen.append(("hour typed", current))
            return [app_commands.Choice(name="7", value=7)]


@pytest.fixture
async def world() -> AsyncIterator[tuple[DiscordStandIn, LimitsBot]]:
    server, bot = DiscordStandIn(), LimitsBot()
    async with running(server, bot):
        yield server, bot


@pytest.mark.parametrize(("options", "refusal"), [
    pytest.param({"hour": 24}, "above its max_value 23", id="integer-above-max"),
    pytest.param({"hour": -1}, "below its min_value 0", id="integer-below-min"),
    pytest.param({"hour": "24"}, "above its max_value 23", id="integer-typed-as-text-above-max"),
    pytest.param({"hour": 8, "share": 1.5}, "above its max_value 1", id="number-above-max"),
    pytest.param({"hour": 8, "share": -0.01}, "below its min_value 0", id="number-below-min"),
    pytest.param({"hour": 8, "label": "x"}, "shorter than its min_length 2", id="string-too-short"),
    pytest.param({"hour": 8, "label": "ninechars"}, "longer than its max_length 8", id="string-too-long"),
    pytest.param({"hour": 8, "song": "s" * 6001}, "longer than the 6000 characters any string option takes",
                 id="string-over-6000-without-max-length"),
    pytest.param({"hour": "eight"}, "not an integer", id="text-for-an-integer"),
    pytest.param({"hour": 8.5}, "not an integer", id="fraction-for-an-integer"),
    pytest.param({"hour": True}, "not an integer", id="boolean-for-an-integer"),
    pytest.param({"hour": 2 ** 53}, "not an integer", id="integer-beyond-discords-range"),
    pytest.param({"hour": 8, "share": "half"}, "not a number", id="text-for-a-number"),
    pytest.param({"hour": 8, "share": float("nan")}, "not a number", id="nan-for-a-number"),
    pytest.param({"hour": 8, "loud": "yes"}, "not a boolean", id="text-for-a-boolean"),
    pytest.param({"hour": 8, "loud": 1}, "not a boolean", id="integer-for-a-boolean"),
    pytest.param({"hour": 8, "label": ["wake"]}, "not a string", id="list-for-a-string"),
])
async def test_value_of_the_wrong_type_or_out_of_bounds_is_refused_and_never_delivered(
    world: tuple[DiscordStandIn, LimitsBot], options: dict[str, object], refusal: str,
) -> None:
    """A wrong-typed, out-of-range or wrong-length value raises, and no interaction reaches the bot."""
    server, bot = world
    with pytest.raises(AssertionError, match=f"Discord refuses /alarm .*: {refusal}"):
        await server.invoke("alarm", options, user_id=USER)
    assert delivered_interactions(server) == 0 and not server.interactions
    record = await server.invoke("alarm", {"hour": 7}, user_id=USER)  # the gateway keeps order
    await record.wait_for(lambda m: m.content == "7 0.5 wake False")
    assert bot.seen == [(7, 0.5, "wake", False, "")] and not server.violations


async def test_values_at_the_bounds_are_delivered_typed(world: tuple[DiscordStandIn, LimitsBot]) -> None:
    """The bounds themselves are valid, and text a member types is delivered as the option's type."""
    server, bot = world
    record = await server.invoke("alarm", {"hour": 23, "share": 1, "label": "eight ch", "loud": True},
                                 user_id=USER)
    await record.wait_for(lambda m: m.content == "23 1.0 eight ch True")
    record = await server.invoke("alarm", {"hour": "0", "share": "0", "label": "ab", "loud": "false"},
                                 user_id=USER)
    await record.wait_for(lambda m: m.content == "0 0.0 ab False")
    assert bot.seen == [(23, 1.0, "eight ch", True, ""), (0, 0.0, "ab", False, "")] and not server.violations


async def test_the_option_being_typed_in_autocomplete_is_sent_unchecked(
    world: tuple[DiscordStandIn, LimitsBot],
) -> None:
    """Discord sends the focused option as typed so far, even an out-of-range or unparsable number."""
    server, bot = world
    assert await server.autocomplete("alarm", "hour", "99", user_id=USER) == [{"name": "7", "value": 7}]
    assert await server.autocomplete("alarm", "hour", "-", user_id=USER) == [{"name": "7", "value": 7}]
    assert bot.seen == [("hour typed", "99"), ("hour typed", "-")] and not server.violations


async def test_autocomplete_with_an_out_of_range_value_beside_it_is_refused(
    world: tuple[DiscordStandIn, LimitsBot],
) -> None:
    """While typing in an autocomplete option, the other options must still be in range."""
    server, _ = world
    with pytest.raises(AssertionError, match="Discord refuses /alarm hour=24: above its max_value 23"):
        await server.autocomplete("alarm", "song", "ro", user_id=USER, options={"hour": 24})
    assert delivered_interactions(server) == 0 and not server.interactions
