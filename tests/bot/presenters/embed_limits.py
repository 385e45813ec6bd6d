"""Discord's limits on an embed, as a check the presenters' tests share."""

from __future__ import annotations

import discord


def within_discords_embed_limits(embed: discord.Embed) -> bool:
    fields_ok = all(1 <= len(f.name or "") <= 256 and 1 <= len(f.value or "") <= 1024 for f in embed.fields)
    return (len(embed) <= 6000 and len(embed.fields) <= 25 and len(embed.description or "") <= 4096
            and len(embed.title or "") <= 256 and fields_ok)
