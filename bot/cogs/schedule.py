"""/schedule set|off|status: a member's weekly refresh."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import presenters
from bot.services.weekly import WEEKDAYS, parse_weekday, timezone_suggestions

if TYPE_CHECKING:
    from bot.app import GenreBot

WEEKDAY_CHOICES = [app_commands.Choice(name=day.title(), value=day) for day in WEEKDAYS]


class Schedule(commands.GroupCog, group_name="schedule", group_description="Your weekly playlist refresh"):
    def __init__(self, bot: GenreBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="set", description="Refresh your playlists every week at this time")
    @app_commands.describe(weekday="Day of the week", hour="Hour of the day (0-23)", timezone="e.g. Europe/Berlin")
    @app_commands.choices(weekday=WEEKDAY_CHOICES)
    async def set_(
        self,
        interaction: discord.Interaction,
        weekday: app_commands.Choice[str],
        hour: app_commands.Range[int, 0, 23],
        timezone: str,
    ) -> None:
        runtime = self.bot.services
        await runtime.accounts.linked_user(interaction.user.id)
        schedule = await runtime.refresher.set_schedule(
            interaction.user.id, parse_weekday(weekday.value), int(hour), timezone
        )
        await interaction.response.send_message(
            f"Weekly refresh on: {presenters.schedule_text(schedule)}. I'll DM you a summary.", ephemeral=True
        )

    @set_.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in timezone_suggestions(current)]

    @app_commands.command(name="off", description="Stop the weekly refresh")
    async def off(self, interaction: discord.Interaction) -> None:
        stopped = await self.bot.services.refresher.disable(interaction.user.id)
        text = "Weekly refresh is off." if stopped else "You had no weekly refresh on."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="status", description="When your next weekly refresh runs")
    async def status(self, interaction: discord.Interaction) -> None:
        schedule = await self.bot.services.refresher.schedule(interaction.user.id)
        await interaction.response.send_message(presenters.schedule_text(schedule), ephemeral=True)


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(Schedule(bot))
