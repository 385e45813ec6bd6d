"""What Discord refuses on an interaction's token webhook and callback: a follow-up, edit or read
of the original response before the interaction was answered (404 10015 "Unknown Webhook"), and a
callback of a type the interaction does not take (400 50035 "In type: Value must be one of ..."),
and an autocomplete left unanswered past Discord's 3 seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands
from discord.webhook.async_ import async_context, interaction_response_params

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.tinybot import USER, TinyBot, running


class WebhookBot(TinyBot):
    def __init__(self) -> None:
        super().__init__()

        @self.tree.command(name="early", description="uses the token's webhook before answering")
        async def early(interaction: discord.Interaction, where: str) -> None:
            try:
                if where == "edit":
                    await interaction.edit_original_response(content="too early")
                elif where == "followup":
                    await interaction.followup.send("too early")
                else:
                    await interaction.original_response()
            except discord.HTTPException as exc:
                self.errors.append(exc)
            await interaction.response.send_message("answered", ephemeral=True)

        @self.tree.command(name="update", description="answers a command as if it were a button")
        async def update(interaction: discord.Interaction) -> None:
            try:  # DEFERRED_UPDATE_MESSAGE, which discord.py sends only for components
                await async_context.get().create_interaction_response(
                    interaction.id, interaction.token, session=interaction._session,
                    params=interaction_response_params(type=6))
            except discord.HTTPException as exc:
                self.errors.append(exc)
            await interaction.response.send_message("answered", ephemeral=True)

        @self.tree.command(name="find", description="autocompletes with a message")
        async def find(interaction: discord.Interaction, word: str) -> None:
            await interaction.response.send_message(word)

        @find.autocomplete("word")
        async def find_word(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            try:
                await interaction.response.send_message("no suggestions", ephemeral=True)
            except discord.HTTPException as exc:
                self.errors.append(exc)
            await interaction.response.autocomplete([])  # the refused message did not answer
            return []


        @self.tree.command(name="mute", description="an autocomplete that never answers")
        async def mute(interaction: discord.Interaction, word: str) -> None:
            await interaction.response.send_message(word)

        @mute.autocomplete("word")
        async def mute_word(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            raise RuntimeError("discord.py logs this and answers nothing")


@pytest.fixture
async def world() -> AsyncIterator[tuple[DiscordStandIn, WebhookBot]]:
    server, bot = DiscordStandIn(), WebhookBot()
    async with running(server, bot):
        yield server, bot


@pytest.mark.parametrize("where", ["edit", "followup", "read"])
async def test_the_token_webhook_is_unknown_until_the_interaction_is_answered(
    world: tuple[DiscordStandIn, WebhookBot], where: str,
) -> None:
    """Before the callback there is no webhook for the token: 404 10015, and nothing is stored."""
    server, bot = world
    record = await server.invoke("early", {"where": where}, user_id=USER)
    await record.wait_rejected(10015)
    answered = await record.wait_for(lambda m: m.content == "answered")
    error = bot.errors[0]
    assert isinstance(error, discord.NotFound) and (error.status, error.code) == (404, 10015)
    assert [m.kind for m in record.responses] == ["callback"] and record.original() == answered
    assert server.take_violations() == ["/early: follow-up or edit before the interaction was acknowledged"]


async def test_a_command_is_not_answered_with_a_component_callback(world: tuple[DiscordStandIn, WebhookBot]) -> None:
    """DEFERRED_UPDATE_MESSAGE (6) is only valid for component interactions: 400 50035 on `type`."""
    server, bot = world
    record = await server.invoke("update", user_id=USER)
    await record.wait_rejected(50035)
    await record.wait_for(lambda m: m.content == "answered")
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 50035)
    assert "In type: Value must be one of {4, 5, 9}." in error.text
    assert record.callback_type == 4
    assert server.take_violations() == ["/update: callback type 6 answering an application command interaction"]


async def test_an_autocomplete_is_answered_only_with_choices(world: tuple[DiscordStandIn, WebhookBot]) -> None:
    """A message (type 4) to an autocomplete interaction: 'In type: Value must be one of {8}.'"""
    server, bot = world
    record = await server.autocomplete_record("find", "word", "ro", user_id=USER)
    await record.wait_until(lambda: record.autocomplete_choices is not None)
    error = bot.errors[0]
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 50035)
    assert "In type: Value must be one of {8}." in error.text
    assert record.rejected == [(400, 50035)] and not record.responses and record.autocomplete_choices == []
    assert server.take_violations() == ["/find: callback type 4 answering an autocomplete interaction"]


async def test_an_autocomplete_left_unanswered_for_3_seconds_is_a_violation(
    world: tuple[DiscordStandIn, WebhookBot],
) -> None:
    """Discord's 3-second deadline holds for autocomplete too: the member sees 'Loading options failed'."""
    server, _ = world
    record = await server.autocomplete_record("mute", "word", "ro", user_id=USER)
    await record.wait_until(lambda: bool(server.violations), 10)
    assert server.take_violations() == ["no autocomplete answer within 3s for /mute"]
    assert record.autocomplete_choices is None and record.acknowledged_at is None
