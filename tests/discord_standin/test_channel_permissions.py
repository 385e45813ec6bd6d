"""What Discord refuses where a channel overwrite takes a permission from the bot: a response,
edit or follow-up with a file without Attach Files, or with embeds without Embed Links, is
403 50013 "Missing Permissions" (text alone still goes: interaction responses need no Send
Messages), and `app_permissions` says so up front. And Discord's own failures: `fail` answers
the next matching requests with a 5xx."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import discord
import pytest

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.guilds import ATTACH_FILES, EMBED_LINKS
from tests.discord_standin.tinybot import USER, TinyBot, running


class ReplyBot(TinyBot):
    def __init__(self) -> None:
        super().__init__()
        self.permissions: list[discord.Permissions] = []
        self.channel_types: list[discord.ChannelType | None] = []

        @self.tree.command(name="chart", description="answers with an embed and a file")
        async def chart(interaction: discord.Interaction, what: str) -> None:
            self.permissions.append(interaction.app_permissions)
            self.channel_types.append(getattr(interaction.channel, "type", None))
            await interaction.response.defer(ephemeral=True, thinking=True)
            changes: dict[str, object] = {"content": "the chart"}
            if what in ("file", "both"):
                changes["attachments"] = [discord.File(io.BytesIO(b"png"), "chart.png")]
            if what in ("embed", "both"):
                changes["embed"] = discord.Embed(title="Mix")
            try:
                await interaction.edit_original_response(**changes)  # type: ignore[arg-type]
            except discord.HTTPException as exc:
                self.errors.append(exc)
                await interaction.edit_original_response(content="text only")


@pytest.fixture
async def bot_and_server() -> AsyncIterator[tuple[ReplyBot, DiscordStandIn]]:
    server, bot = DiscordStandIn(), ReplyBot()
    async with running(server, bot):
        yield bot, server
    assert not server.violations


async def test_a_file_where_the_bot_may_not_attach_files_is_missing_permissions(
    bot_and_server: tuple[ReplyBot, DiscordStandIn],
) -> None:
    """Without Attach Files a file is refused 403 50013; the text-only edit that follows is taken."""
    bot, server = bot_and_server
    server.deny_in_channel(server.guild_ids[0], ATTACH_FILES)
    record = await server.invoke("chart", {"what": "file"}, user_id=USER)
    reply = await record.wait_for(lambda m: m.content == "text only", 5)
    assert record.rejected == [(403, 50013)] and reply.attachments == []
    error = bot.errors[0]
    assert isinstance(error, discord.Forbidden) and error.code == 50013
    assert bot.permissions[0].attach_files is False and bot.permissions[0].embed_links is True


async def test_embeds_where_the_bot_may_not_embed_links_are_missing_permissions(
    bot_and_server: tuple[ReplyBot, DiscordStandIn],
) -> None:
    """Without Embed Links an embed is refused 403 50013; files alone still go."""
    bot, server = bot_and_server
    server.deny_in_channel(server.guild_ids[0], EMBED_LINKS)
    refused = await server.invoke("chart", {"what": "embed"}, user_id=USER)
    await refused.wait_for(lambda m: m.content == "text only", 5)
    taken = await server.invoke("chart", {"what": "file"}, user_id=USER)
    reply = await taken.wait_for(lambda m: m.content == "the chart", 5)
    assert refused.rejected == [(403, 50013)] and taken.rejected == [] and reply.attachments


async def test_the_same_reply_in_a_dm_or_an_unrestricted_channel_is_taken(
    bot_and_server: tuple[ReplyBot, DiscordStandIn],
) -> None:
    """The overwrite binds only its channel: in a DM the embed and the file go."""
    bot, server = bot_and_server
    server.deny_in_channel(server.guild_ids[0], ATTACH_FILES | EMBED_LINKS)
    record = await server.invoke("chart", {"what": "both"}, user_id=USER, guild_id=None)
    reply = await record.wait_for(lambda m: m.content == "the chart", 5)
    assert reply.embeds and reply.attachments and record.rejected == []


async def test_a_discord_outage_answers_the_next_matching_requests_with_5xx(
    bot_and_server: tuple[ReplyBot, DiscordStandIn],
) -> None:
    """`fail` answers the next edit 503; discord.py's webhook adapter tries it again, and it lands."""
    bot, server = bot_and_server
    server.fail(1, status=503, method="PATCH", path_prefix="/webhooks/")
    record = await server.invoke("chart", {"what": "file"}, user_id=USER)
    reply = await record.wait_for(lambda m: m.content == "the chart", 10)
    assert reply.attachments and bot.errors == []
    assert [r.status for r in server.requests if r.method == "PATCH"] == [503, 200]


@pytest.mark.parametrize(("where", "kind"), [("thread", discord.ChannelType.public_thread),
                                             ("forum post", discord.ChannelType.public_thread),
                                             ("voice", discord.ChannelType.voice)])
async def test_commands_can_come_from_a_thread_a_forum_post_or_a_voice_channels_chat(
    bot_and_server: tuple[ReplyBot, DiscordStandIn], where: str, kind: discord.ChannelType,
) -> None:
    """move_commands_to: discord.py reads the interaction's channel as that kind, and the reply goes as usual."""
    bot, server = bot_and_server
    server.move_commands_to(server.guild_ids[0], where)
    record = await server.invoke("chart", {"what": "both"}, user_id=USER)
    await record.wait_for(lambda m: m.content == "the chart", 5)
    assert bot.channel_types == [kind]
