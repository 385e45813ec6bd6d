"""The one place where failures become replies.

Expected failures (typed exceptions from the services and the Spotify client) get a short,
specific message; anything else gets a friendly apology with an error id, and the log gets the
id, the member, the command and the traceback. Members never see a traceback or a token.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.services.errors import ServiceError
from bot.services.playlist_plan import UnknownGenre
from bot.services.weekly import InvalidSchedule
from bot.spotify.errors import (
    NeedsRelink,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
)

if TYPE_CHECKING:
    from bot.app import GenreBot

log = logging.getLogger(__name__)


def friendly_message(error: BaseException) -> str | None:
    """The member-facing text for an expected failure, or None for a bug."""
    if isinstance(error, UnknownGenre):
        valid = ", ".join(error.valid)
        unknown = discord.utils.escape_mentions(discord.utils.escape_markdown(", ".join(error.unknown)))[:300]
        return f"I don't know the genre(s) {unknown}. Pick from: {valid}."
    if isinstance(error, ServiceError | InvalidSchedule):
        return str(error)
    if isinstance(error, NeedsRelink):
        return "Spotify needs you to link your account again (links expire after a while). Run /link."
    if isinstance(error, UserNotRegistered):
        return (
            "This bot's Spotify app is in development mode and your Spotify account isn't on its list of "
            "allowed users. Ask the bot owner to add you in the Spotify Developer Dashboard, then try again."
        )
    if isinstance(error, SpotifyQuotaExceeded):
        when = f"<t:{int(error.resume_at.timestamp())}:R>" if error.resume_at else "later"
        return f"Spotify's daily request quota for this bot is used up. Your sort is paused; try again {when}."
    if isinstance(error, SpotifyRateLimited):
        return f"Spotify asked us to slow down. Try again in {max(1, round(error.retry_after_s))} seconds."
    if isinstance(error, SpotifyUnavailable):
        return "Spotify isn't answering right now. Nothing was changed; try again in a few minutes."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Easy there! Try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.TransformerError):
        return f"I couldn't understand `{error.value}` for that option."
    return None


async def reply(interaction: discord.Interaction, text: str) -> None:
    """Answer whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(content=text, embed=None, attachments=[], view=None)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply for interaction %s", interaction.id)


class Errors(commands.Cog):
    def __init__(self, bot: GenreBot) -> None:
        self.bot = bot
        self._previous = bot.tree.on_error
        bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        message = friendly_message(original)
        if message is None:
            error_id = secrets.token_hex(4)
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "error %s: member %s, command /%s",
                error_id,
                interaction.user.id,
                command,
                exc_info=original,
            )
            message = f"Sorry, something went wrong on my side (error id `{error_id}`). Please try again later."
        await reply(interaction, message)


async def setup(bot: GenreBot) -> None:
    await bot.add_cog(Errors(bot))
