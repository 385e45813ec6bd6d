"""The Discord stand-in itself, driven by a tiny discord.py bot that breaks rules on purpose."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord import app_commands

from tests.discord_standin import DiscordStandIn

USER = 4242


class RuleBreaker(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.none())
        self.tree = app_commands.CommandTree(self)
        self.errors: list[BaseException] = []

        @self.tree.command(name="slow", description="replies after 3.5 s")
        async def slow(interaction: discord.Interaction) -> None:
            await asyncio.sleep(3.5)
            try:
                await interaction.response.send_message("too late")
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="long", description="sends 2,001 characters")
        async def long(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            try:
                await interaction.edit_original_response(content="x" * 2001)
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @self.tree.command(name="chart", description="defers, then an embed and a PNG")
        async def chart(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            embed = discord.Embed(title="chart").set_image(url="attachment://c.png")
            await interaction.edit_original_response(
                embed=embed, attachments=[discord.File(io.BytesIO(b"\x89PNG fake"), "c.png")])

        @self.tree.command(name="dm", description="DMs the member")
        async def dm(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("ok", ephemeral=True)
            try:
                await interaction.user.send("hello")
            except discord.Forbidden as exc:
                self.errors.append(exc)

    async def setup_hook(self) -> None:
        await self.tree.sync()


@pytest.fixture
async def standin() -> AsyncIterator[tuple[DiscordStandIn, RuleBreaker]]:
    server = DiscordStandIn()
    await server.start()
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = server.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
    client = RuleBreaker()
    task = asyncio.create_task(client.start(server.token))
    await server.wait_ready()
    for _ in range(100):
        if server.synced_commands:
            break
        await asyncio.sleep(0.02)
    yield server, client
    await client.close()
    await asyncio.gather(task, return_exceptions=True)
    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
    await server.stop()


async def test_login_ready_and_sync_are_served(standin: tuple[DiscordStandIn, RuleBreaker]) -> None:
    server, client = standin
    assert {"slow", "long", "chart", "dm"} <= set(server.synced_commands)
    assert client.user is not None and client.user.id == server.application_id
    assert [r.path for r in server.requests][:2] == ["/users/@me", "/oauth2/applications/@me"]


async def test_a_late_acknowledgement_is_a_violation(standin: tuple[DiscordStandIn, RuleBreaker]) -> None:
    server, client = standin
    await server.invoke("slow", user_id=USER)
    await asyncio.sleep(3.8)
    assert server.take_violations() == ["no acknowledgement within 3s for /slow"]
    assert client.errors and isinstance(client.errors[0], discord.NotFound)


async def test_content_over_2000_characters_is_refused(standin: tuple[DiscordStandIn, RuleBreaker]) -> None:
    server, _ = standin
    record = await server.invoke("long", user_id=USER)
    await record.wait_acknowledged()
    for _ in range(100):
        if server.violations:
            break
        await asyncio.sleep(0.05)
    assert record.original() is not None and record.original().content is None  # type: ignore[union-attr]
    assert server.take_violations() == ["/long: content over 2000 characters (2001)"]


async def test_deferred_embed_and_file_arrive(standin: tuple[DiscordStandIn, RuleBreaker]) -> None:
    server, _ = standin
    record = await server.invoke("chart", user_id=USER)
    await record.wait_acknowledged()
    final = await record.wait_for(lambda m: bool(m.embeds))
    assert record.callback_type == 5
    assert final.embeds[0]["title"] == "chart" and final.attachments == [("c.png", b"\x89PNG fake")]


async def test_closed_dms_raise_forbidden(standin: tuple[DiscordStandIn, RuleBreaker]) -> None:
    server, client = standin
    server.close_dms(USER)
    record = await server.invoke("dm", user_id=USER)
    await record.wait_until(lambda: bool(client.errors), 5)
    assert isinstance(client.errors[0], discord.Forbidden) and client.errors[0].code == 50007


async def test_edits_after_fifteen_minutes_are_rejected(standin: tuple[DiscordStandIn, RuleBreaker]) -> None:
    server, _ = standin
    record = await server.invoke("chart", user_id=USER)
    await record.wait_for(lambda m: bool(m.embeds))
    server.clock_offset = 16 * 60
    webhook = discord.Webhook.partial(server.application_id, record.token, client=standin[1])
    with pytest.raises(discord.HTTPException):
        await webhook.edit_message("@original", content="late")
    assert server.take_violations() == ["/chart: follow-up or edit after the 15-minute token expired"]
