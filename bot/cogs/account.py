"""/link, /unlink, /status and /privacy: a member's account and what genrebot keeps about it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from cachetools import TTLCache
from discord import app_commands
from discord.ext import commands

from bot import presenters
from bot.replies import InteractionReply, send_dm
from bot.services.linking import DiscordMember
from bot.web import LinkOutcome

if TYPE_CHECKING:
    from bot.discord_bot import GenreBot

# A /link reply can be edited while its interaction token lives (15 minutes); after that, or for
# more members than this at once, the result goes by DM instead.
PENDING_LINK_S = 15 * 60
MAX_PENDING_LINKS = 4096


class Account(commands.Cog):
    def __init__(self, bot: GenreBot) -> None:
        self.bot = bot
        # The /link interaction of each member waiting on Spotify, so the reply can be updated.
        self.pending_links: TTLCache[int, discord.Interaction] = TTLCache(MAX_PENDING_LINKS, PENDING_LINK_S)

    @app_commands.command(name="link", description="Link your Spotify account to genrebot")
    async def link(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # before the database write
        member = DiscordMember(interaction.user.id, interaction.user.display_name, interaction.user.name)
        url = await self.bot.services.linking.start_link(member)
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="Open the link page", url=url, emoji="🎧"))
        await interaction.edit_original_response(
            content=presenters.link_prompt(member.display_name, member.username), view=view
        )
        self.pending_links[interaction.user.id] = interaction

    @commands.Cog.listener()
    async def on_link_result(self, outcome: LinkOutcome) -> None:
        """Spotify redirected the member back to the web app: update their /link reply, or DM them."""
        if outcome.discord_id is None:
            return
        interaction = self.pending_links.pop(outcome.discord_id, None)
        if outcome.account is not None:
            text = presenters.linked_reply(outcome.account)
        else:
            assert outcome.failure is not None, "the web app hands over an account or a failure"
            text = presenters.link_failed_reply(outcome.failure)
        replied = False
        if interaction is not None:
            try:  # not once the reply's token is gone or about to be (consent can take a while)
                replied = await InteractionReply(interaction).edit(content=text, view=None)
            except discord.HTTPException:
                pass  # Discord refused the edit otherwise: the DM below says it instead
        if outcome.account is not None:
            # Every link gets a DM naming the Spotify account, so one the member did not make
            # cannot go unnoticed (the /link reply is ephemeral and may be long gone). After the
            # reply: opening DM channels is rate-limited (10 per 10 s), the reply is not.
            await self._direct_message(outcome.discord_id, presenters.linked_dm(outcome.account))
        elif not replied:
            await self._direct_message(outcome.discord_id, text)

    async def _direct_message(self, discord_id: int, text: str) -> None:
        """The DM about a link; one Discord refuses is logged by `send_dm`, and the link stands."""
        known_guilds = await self.bot.services.stats.member_guilds(discord_id)
        await send_dm(self.bot, discord_id, known_guild_ids=known_guilds, content=text)

    @app_commands.command(name="unlink", description="Unlink Spotify and delete what genrebot stored about you")
    async def unlink(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        removed = await self.bot.services.linking.unlink(interaction.user.id)
        text = (
            "Unlinked. I deleted your tokens, liked-song list, playlist list, schedule, run history, "
            "server memberships and your Spotify account's name. Your playlists stay in Spotify; you can also remove genrebot at "
            "https://www.spotify.com/account/apps/."
            if removed
            else "You weren't linked, so there was nothing to delete."
        )
        await interaction.edit_original_response(content=text)

    @app_commands.command(name="status", description="Your link state, recent runs and weekly schedule")
    async def status(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        user = await services.linking.member(interaction.user.id)
        runs = await services.sorting.recent_runs(interaction.user.id, limit=5)
        schedule = await services.weekly_refresh.schedule(interaction.user.id)
        await interaction.edit_original_response(embed=presenters.status_embed(user, runs, schedule))

    @app_commands.command(name="privacy", description="Choose whether you appear in this server's leaderboards")
    @app_commands.describe(leaderboard="on: count my songs in this server's leaderboards; off: leave me out")
    @app_commands.guild_only()
    async def privacy(self, interaction: discord.Interaction, leaderboard: Literal["on", "off"]) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)  # before the write below
        await self.bot.services.stats.set_leaderboard_opt_out(
            interaction.guild_id, interaction.user.id, leaderboard == "off"
        )
        text = (
            "You're in this server's leaderboards."
            if leaderboard == "on"
            else "You're out of this server's leaderboards."
        )
        await interaction.edit_original_response(content=text)


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(Account(bot))
