"""/leaderboard [genre] [level]: this server's mix of families (or genres), or the top fans of one
family or genre."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import presenters
from bot.choices import genre_choices, typed_level
from bot.services import charts
from bot.services.genre_names import parse_level
from bot.services.stats import ranks

if TYPE_CHECKING:
    from bot.discord_bot import GenreBot

VIEW_CHOICES = [
    app_commands.Choice(name="family: Rock, Jazz & Blues… (the default)", value="family"),
    app_commands.Choice(name="genre: Alt-Rock, K-Pop…", value="genre"),
]


async def still_in_guild(guild: discord.Guild, member_ids: Sequence[int]) -> set[int]:
    """Which of these members the server still has, asked 100 at a time over the gateway
    (REQUEST_GUILD_MEMBERS by user id needs no privileged intent)."""
    present: set[int] = set()
    for start in range(0, len(member_ids), 100):
        batch = list(member_ids[start : start + 100])
        # discord.py sends a limit of 5 unless told, and Discord documents the limit only for a
        # query by name: ask for as many as the ids, so no reading of it drops the rest.
        found = await guild.query_members(user_ids=batch, limit=len(batch), cache=False)
        present.update(member.id for member in found)
    return present


class Leaderboard(commands.Cog):
    def __init__(self, bot: GenreBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.bot.membership_notes.forget_guild(guild.id)  # a re-invite counts its members again at once
        await self.bot.services.stats.forget_guild(guild.id)

    @app_commands.command(name="leaderboard", description="This server's genre mix, or the top fans of a genre")
    @app_commands.describe(
        genre="Show the members with the most songs of this family or genre",
        level="By family (default) or by genre: the server's mix, and which a name like Rock means",
    )
    @app_commands.choices(level=VIEW_CHOICES)
    @app_commands.guild_only()
    async def leaderboard(self, interaction: discord.Interaction, genre: str | None = None,
                          level: str = "family") -> None:
        assert interaction.guild_id is not None
        stats = self.bot.services.stats
        view = parse_level(level)
        pick = stats.pick(genre, view) if genre else None
        await interaction.response.defer(thinking=True)
        if interaction.guild is not None:
            await stats.drop_departed_members(
                interaction.guild_id, functools.partial(still_in_guild, interaction.guild)
            )
        if pick is None:
            rows = await stats.guild_mix(interaction.guild_id, view)
            mix = stats.labelled({row.genre: row.count for row in rows}, view)
            embed = presenters.mix_embed("This server's genre mix" if view == "family" else "This server's genres", mix)
            chart_data = list(mix.items())
            title = f"{sum(mix.values()):,} liked songs across this server"
        else:
            label = stats.display_name(pick.key, pick.level)
            members = await stats.top_members(interaction.guild_id, pick)
            genres_here = await stats.family_genres(interaction.guild_id, pick.key) if pick.level == "family" else None
            embed = presenters.top_members_embed(label, members, genres_here)
            chart_data = [(f"#{place}", m.count) for place, m in zip(ranks([m.count for m in members]), members, strict=True)]
            title = f"Top {label} fans by songs"
        if not chart_data or not interaction.app_permissions.attach_files:
            embed.set_image(url=None)  # no chart, or a channel that takes no files from genrebot
            await interaction.edit_original_response(embed=embed)
            return
        png = await asyncio.to_thread(charts.genre_mix_png, chart_data, title)
        await interaction.edit_original_response(embed=embed, attachments=[presenters.chart_file(png)])

    @leaderboard.autocomplete("genre")
    async def genre_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return genre_choices(self.bot.services.classifier.taxonomy, current, level=typed_level(interaction))


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(Leaderboard(bot))
