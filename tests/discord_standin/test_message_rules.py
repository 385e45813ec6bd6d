"""What Discord refuses in a message or an answer: empty messages (50006), attachments over the
size limit (40005), blank embed fields, and autocomplete answers over its limits or of the wrong
type (50035)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands

from tests.discord_standin import MIB, DiscordStandIn
from tests.discord_standin.tinybot import USER, TinyBot, running, until

BAD_CHOICES: dict[str, list[app_commands.Choice]] = {  # what the bot answers when the member types the key
    "many": [app_commands.Choice(name=f"genre {i}", value=f"g{i}") for i in range(26)],
    "noname": [app_commands.Choice(name="", value="pop")],
    "longname": [app_commands.Choice(name="n" * 101, value="pop")],
    "longvalue": [app_commands.Choice(name="pop", value="v" * 101)],
    "intvalue": [app_commands.Choice(name="pop", value=7)],
    "text": [app_commands.Choice(name="seven", value="7")],
    "huge": [app_commands.Choice(name="huge", value=2**53)],
}


class RulesBot(TinyBot):
    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="empty", description="sends an empty message one way or another")
        async def empty(interaction: discord.Interaction, where: str) -> None:
            try:
                if where == "reply":
                    await interaction.response.send_message("")
                    return
                await interaction.response.defer(ephemeral=True)
                if where == "followup":
                    await interaction.followup.send("")
                elif where == "edit":
                    await interaction.edit_original_response(content="")
                elif where == "dm":
                    await interaction.user.send("")
            except discord.HTTPException as exc:
                self.errors.append(exc)
                if not interaction.response.is_done():  # the refused reply did not acknowledge
                    await interaction.response.send_message("recovered", ephemeral=True)

        @self.tree.command(name="upload", description="sends a file of the given size")
        async def upload(interaction: discord.Interaction, size: int, where: str) -> None:
            self.seen.append(interaction.filesize_limit)
            await interaction.response.defer(ephemeral=True)
            file = discord.File(io.BytesIO(b"\0" * size), "big.bin")
            try:
                if where == "dm":
                    await interaction.user.send(file=file)
                else:
                    await interaction.followup.send(file=file)
            except discord.HTTPException as exc:
                self.errors.append(exc)
            self.seen.append("uploaded")

        @self.tree.command(name="files", description="sends this many small files in one message")
        async def files(interaction: discord.Interaction, count: int) -> None:
            await interaction.response.defer(ephemeral=True)
            try:
                await interaction.followup.send(files=[discord.File(io.BytesIO(b"x"), f"{n}.txt") for n in range(count)])
            except discord.HTTPException as exc:
                self.errors.append(exc)
            self.seen.append("sent")

        @self.tree.command(name="field", description="sends an embed with one field of the given value")
        async def field(interaction: discord.Interaction, value: str) -> None:
            try:
                await interaction.response.send_message(embed=discord.Embed(title="t").add_field(name="n", value=value))
            except discord.HTTPException as exc:
                self.errors.append(exc)
                await interaction.response.send_message("recovered")

        @self.tree.command(name="pick", description="autocompletes badly on request")
        async def pick(interaction: discord.Interaction, word: str, count: int = 1) -> None:
            await interaction.response.send_message(f"{word} {count}")

        async def answer(interaction: discord.Interaction, current: str) -> list[app_commands.Choice]:
            choices = BAD_CHOICES.get(current, [app_commands.Choice(name=current or "pop", value=current or "pop")])
            if current == "ok-number":
                choices = [app_commands.Choice(name="three", value=3)]
            try:  # answer ourselves, so the refusal reaches the bot instead of discord.py's log
                await interaction.response.autocomplete(choices)
            except discord.HTTPException as exc:
                self.errors.append(exc)
            return []

        pick.autocomplete("word")(answer)
        pick.autocomplete("count")(answer)


@pytest.fixture
async def world() -> AsyncIterator[tuple[DiscordStandIn, RulesBot]]:
    server, bot = DiscordStandIn(), RulesBot()
    async with running(server, bot):
        yield server, bot


@pytest.mark.parametrize("where", ["reply", "followup", "edit", "dm"])
async def test_empty_message_is_refused(world: tuple[DiscordStandIn, RulesBot], where: str) -> None:
    """No content, embeds, files or components: 400 50006, whether a reply, follow-up, edit or DM."""
    server, bot = world
    record = await server.invoke("empty", {"where": where}, user_id=USER)
    await until(lambda: bool(bot.errors))
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 50006)
    assert error.text == "Cannot send an empty message"
    assert server.take_violations() == ["empty message" if where == "dm" else "/empty: empty message"]
    await record.wait_acknowledged()
    assert not any((m.content or "").strip() == "" and m.kind != "callback" for m in record.responses)
    assert USER not in server.dms


async def test_more_than_ten_files_in_one_message_are_refused(world: tuple[DiscordStandIn, RulesBot]) -> None:
    """Ten files pass; eleven are 400 30015 (discord/discord-api-docs#1486)."""
    server, bot = world
    await server.invoke("files", {"count": 10}, user_id=USER)
    await until(lambda: bot.seen.count("sent") == 1)
    assert not bot.errors
    await server.invoke("files", {"count": 11}, user_id=USER)
    await until(lambda: bool(bot.errors))
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 30015)
    assert server.take_violations() == ["/files: 11 attachments in one message (at most 10)"]

@pytest.mark.parametrize("where", ["followup", "dm"])
async def test_attachment_over_the_size_limit_is_refused(world: tuple[DiscordStandIn, RulesBot], where: str) -> None:
    """10 MiB (the limit an unboosted guild gives bots) passes; one byte more is 413 40005."""
    server, bot = world
    await server.invoke("upload", {"size": 10 * MIB, "where": where}, user_id=USER)
    await until(lambda: bot.seen.count("uploaded") == 1)
    assert bot.seen[0] == 10 * MIB and not bot.errors  # discord.py read attachment_size_limit
    await server.invoke("upload", {"size": 10 * MIB + 1, "where": where}, user_id=USER)
    await until(lambda: bool(bot.errors))
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (413, 40005)
    assert error.text == "Request entity too large"
    assert len(server.take_violations()) == 1
    delivered = server.dms.get(USER, []) + [m for r in server.interactions.values() for m in r.responses]
    assert [len(m.attachments[0][1]) for m in delivered if m.attachments] == [10 * MIB]


async def test_attachment_limit_follows_the_guilds_boost() -> None:
    """A boosted guild's larger limit is what the interaction says and what is enforced."""
    server, bot = DiscordStandIn(attachment_size_limit=50 * MIB), RulesBot()
    async with running(server, bot):
        await server.invoke("upload", {"size": 10 * MIB + 1, "where": "followup"}, user_id=USER)
        await until(lambda: "uploaded" in bot.seen)
        assert bot.seen[0] == 50 * MIB and not bot.errors and not server.violations


@pytest.mark.parametrize("blank", [" ", "\u00a0", "\n "])
async def test_an_embed_field_of_blank_text_is_refused(world: tuple[DiscordStandIn, RulesBot], blank: str) -> None:
    """Discord trims a field's value: only spaces (or no-break spaces) is refused as if missing."""
    server, bot = world
    record = await server.invoke("field", {"value": blank}, user_id=USER)
    await record.wait_rejected(50035)
    await record.wait_for(lambda m: m.content == "recovered")
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 50035)
    assert "In embeds.0.fields.0.value: embed field value missing or blank" in error.text
    assert server.take_violations() == [f"/field: embed field value missing or blank ({blank!r})"]


async def test_an_embed_field_of_a_zero_width_space_passes(world: tuple[DiscordStandIn, RulesBot]) -> None:
    """U+200B is not whitespace: the usual way to show an 'empty' field."""
    server, bot = world
    record = await server.invoke("field", {"value": "\u200b"}, user_id=USER)
    reply = await record.wait_for(lambda m: bool(m.embeds))
    assert reply.embeds[0]["fields"][0]["value"] == "\u200b" and not bot.errors and not server.violations


@pytest.mark.parametrize(("option", "typed", "where", "message"), [
    ("word", "many", "data.choices", "Must be 25 or fewer in length."),
    ("word", "noname", "data.choices.0.name", "Must be between 1 and 100 in length."),
    ("word", "longname", "data.choices.0.name", "Must be between 1 and 100 in length."),
    ("word", "longvalue", "data.choices.0.value", "Must be between 1 and 100 in length."),
    ("word", "intvalue", "data.choices.0.value", 'Could not interpret "7" as string.'),
    ("count", "text", "data.choices.0.value", 'Value "7" is not int.'),
    ("count", "huge", "data.choices.0.value", "int53 value should be between"),
])
async def test_autocomplete_answer_outside_discords_limits_is_refused(
    world: tuple[DiscordStandIn, RulesBot], option: str, typed: str, where: str, message: str,
) -> None:
    """<= 25 choices, names and string values 1-100 characters, values of the option's type."""
    server, bot = world
    record = await server.autocomplete_record("pick", option, typed, user_id=USER,
                                              options={"word": "pop"} if option == "count" else None)
    await record.wait_rejected(50035)
    await until(lambda: bool(bot.errors))
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 50035)
    assert f"In {where}: {message}" in error.text  # discord.py read Discord's nested errors
    assert record.autocomplete_choices is None
    violations = server.take_violations()
    assert len(violations) == 1 and violations[0].startswith(f"/pick: autocomplete {where}: {message}")
    with pytest.raises(AssertionError, match="refused the autocomplete answer"):
        await server.autocomplete("pick", option, typed, user_id=USER,
                                  options={"word": "pop"} if option == "count" else None)


async def test_autocomplete_answers_within_the_limits_pass(world: tuple[DiscordStandIn, RulesBot]) -> None:
    """A string choice for a string option and a number for an integer option are accepted."""
    server, bot = world
    assert await server.autocomplete("pick", "word", "rock", user_id=USER) == [{"name": "rock", "value": "rock"}]
    choices = await server.autocomplete("pick", "count", "ok-number", user_id=USER, options={"word": "pop"})
    assert choices == [{"name": "three", "value": 3}]
    assert not bot.errors and not server.violations
