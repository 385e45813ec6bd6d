"""What Discord refuses on an interaction's token webhook and callback: a follow-up, edit or read
of the original response before the interaction was answered (404 10015 "Unknown Webhook")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

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
