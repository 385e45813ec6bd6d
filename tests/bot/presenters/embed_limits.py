"""Discord's limits on an embed, as a check the presenters' tests share: the Discord stand-in's own
rules (`tests/discord_standin/rules.py`), so a presenter is held to exactly what the stand-in refuses."""

from __future__ import annotations

import discord

from tests.discord_standin import check_message


def within_discords_embed_limits(embed: discord.Embed) -> bool:
    return not check_message({"embeds": [embed.to_dict()]})
