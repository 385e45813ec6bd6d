"""Genre mixes and leaderboards: songs per family or genre (a member's or a server's), and a
family's or a genre's top fans on a server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.presenters.limits import (
    CHART_NAME,
    DESCRIPTION_LIMIT,
    FIELD_VALUE_LIMIT,
    SPOTIFY_GREEN,
    TITLE_LIMIT,
    fit_lines,
    safe,
)
from bot.services.genre_names import shorten
from bot.services.stats import ranks
from storage.records import MemberGenreCount


def mix_embed(title: str, mix: Mapping[str, int]) -> discord.Embed:
    """Songs per family or genre, by label, with each one's share."""
    total = sum(mix.values()) or 1
    lines = [f"**{safe(label)}** — {n:,} ({n / total:.0%})" for label, n in mix.items()]
    embed = discord.Embed(title=title[:TITLE_LIMIT], colour=SPOTIFY_GREEN)
    embed.description = fit_lines(lines or ["Nothing classified yet: run /sort first."], DESCRIPTION_LIMIT)
    if lines:
        embed.set_image(url=f"attachment://{CHART_NAME}")
    return embed


def top_members_embed(label: str, rows: Sequence[MemberGenreCount],
                      genres_here: Mapping[str, int] | None = None) -> discord.Embed:
    """A family's or a genre's top fans on this server, by songs and by share (equal ones share a
    place); for a family, also how its songs here split into its genres (the genre view)."""
    # Shortened before escaping: cutting the escaped title could split an escape and lose "fans here".
    embed = discord.Embed(title=f"Top {safe(shorten(label, 100))} fans here"[:TITLE_LIMIT], colour=SPOTIFY_GREEN)
    by_count = [f"{place}. <@{r.discord_id}> — {r.count:,} songs"
                for place, r in zip(ranks([r.count for r in rows]), rows, strict=True)]
    by_share = sorted(rows, key=lambda r: -r.share)
    share_lines = [f"{place}. <@{r.discord_id}> — {r.share:.0%}"
                   for place, r in zip(ranks([r.share for r in by_share]), by_share, strict=True)]
    embed.add_field(name="By songs", value=fit_lines(by_count, FIELD_VALUE_LIMIT) or "Nobody yet", inline=True)
    embed.add_field(name="By share", value=fit_lines(share_lines, FIELD_VALUE_LIMIT) or "Nobody yet", inline=True)
    if genres_here:
        lines = [f"{safe(name)} — {n:,}" for name, n in genres_here.items()]
        embed.add_field(name="Its genres here", value=fit_lines(lines, FIELD_VALUE_LIMIT), inline=False)
    embed.set_image(url=f"attachment://{CHART_NAME}")
    return embed
