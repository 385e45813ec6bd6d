"""/leaderboard [genre]: this server's genre mix, or its top fans of one genre."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import presenters
from bot.choices import genre_choices
from bot.services import charts
from bot.services.playlist_plan import genre_label, resolve_genres

if TYPE_CHECKING:
    from bot.discord_bot import GenreBot


async def still_in_guild(guild: discord.Guild, member_ids: Sequence[int]) -> set[int]:
    """Which of these members the server still has, asked 100 at a time over the gateway
    (REQUEST_GUILD_MEMBERS by user id needs no privileged intent)."""
    present: set[int] = set()
    for start in range(0, len(member_ids), 100):
        found = await guild.query_members(user_ids=list(member_ids[start : start + 100]), cache=False)
        present.update(member.id for member in found)
    return present


class Leaderboard(commands.Cog):
    def __init__(self, bot: GenreBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.bot.services.stats.forget_guild(guild.id)

    @app_commands.command(name="leaderboard", description="This server's genre mix, or the top fans of a genre")
    @app_commands.describe(genre="Show the members with the most songs of this genre")
    @app_commands.guild_only()
    async def leaderboard(self, interaction: discord.Interaction, genre: str | None = None) -> None:
        assert interaction.guild_id is not None
        services = self.bot.services
        key = resolve_genres([genre], services.classifier.taxonomy, "genre")[0] if genre else None
        await interaction.response.defer(thinking=True)
        if interaction.guild is not None:
            await services.stats.drop_departed_members(
                interaction.guild_id, functools.partial(still_in_guild, interaction.guild)
            )
        if key is None:
            rows = await services.stats.guild_mix(interaction.guild_id)
            mix = {row.genre: row.count for row in rows}
            embed = presenters.mix_embed("This server's genre mix", mix)
            chart_data = services.stats.labelled(mix)
            title = f"{sum(mix.values()):,} liked songs across this server"
        else:
            members = await services.stats.top_members(interaction.guild_id, key)
            embed = presenters.top_members_embed(key, members)
            chart_data = {f"#{i}": m.count for i, m in enumerate(members, 1)}
            title = f"Top {genre_label(key)} fans by songs"
        if not chart_data:
            embed.set_image(url=None)
            await interaction.edit_original_response(embed=embed)
            return
        png = await asyncio.to_thread(charts.genre_mix_png, chart_data, title)
        await interaction.edit_original_response(embed=embed, attachments=[presenters.chart_file(png)])

    @leaderboard.autocomplete("genre")
    async def genre_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return genre_choices(self.bot.services.classifier.taxonomy, current)


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(Leaderboard(bot))
