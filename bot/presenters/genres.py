"""Browsing the taxonomy: `/genres` lists every family with its genres and `/genres family:`
opens one family, each within one embed however big the taxonomy."""

from __future__ import annotations

import discord

from bot.presenters.limits import (
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FIELDS_LIMIT,
    SPOTIFY_GREEN,
    TITLE_LIMIT,
    fit_lines,
    safe,
    safe_within,
    share_out,
)
from bot.services.genre_names import Pick, resolve_pick
from classifier import Taxonomy
from classifier.taxonomy import lookup_key


def genres_embed(taxonomy: Taxonomy, version: str) -> discord.Embed:
    """The families, each with its genres, within Discord's embed limits however big the
    taxonomy: a field per family (at most 25), each field's genres cut to its share of the
    6,000 characters an embed may hold, with '…and N more' and a pointer to `/genres family:`."""
    embed = discord.Embed(
        title=f"Genres I know: {len(taxonomy.families)} families, {len(taxonomy.genres)} genres"[:TITLE_LIMIT],
        description="`/sort` makes a playlist per family; `level:genre` one per genre. "
        "Open a family with `/genres family:` to see its genres and their other names.",
        colour=SPOTIFY_GREEN,
    )
    embed.set_footer(text=f"model {version}"[:TITLE_LIMIT])
    families = list(taxonomy.families)
    shown = families if len(families) <= FIELDS_LIMIT else families[: FIELDS_LIMIT - 1]
    rest = families[len(shown) :]
    fields = [(safe_within(taxonomy.label(f, "family"), FIELD_NAME_LIMIT), [safe(taxonomy.label(g, "genre")) for g in taxonomy[f]])
              for f in shown]
    if rest:
        fields.append((f"{len(rest)} more families", [safe(taxonomy.label(f, "family")) for f in rest]))
    budget = EMBED_TOTAL_LIMIT - len(embed) - sum(len(name) for name, _ in fields)
    limits = share_out(budget, [len(", ".join(items)) for _, items in fields], FIELD_VALUE_LIMIT)
    for (name, items), limit in zip(fields, limits, strict=True):
        embed.add_field(name=name, value=fit_lines(items, limit, sep=", "), inline=False)
    return embed


def family_embed(taxonomy: Taxonomy, family: str, version: str) -> discord.Embed:
    """One family's genres, each with the other names it answers to at `level:genre` (what
    `/sort genres:` takes: a training tag another family claims, 'world-music', is left out)."""
    aliases: dict[str, list[str]] = {}
    for alias, genre in taxonomy.aliases.items():
        if lookup_key(alias) in (lookup_key(genre), lookup_key(taxonomy.label(genre, "genre"))):
            continue
        if resolve_pick(alias, taxonomy, "genre") == Pick("genre", genre, taxonomy.family_of(genre)):
            aliases.setdefault(genre, []).append(alias)
    lines = []
    for genre in taxonomy[family]:
        # Each name is shortened, then escaped (a cut after escaping could split an escape or drop
        # the closing "**"): a line holds at most 4 + 100 + 8 + 4 * 40 + 3 * 2 = 278 characters.
        line = f"**{safe_within(taxonomy.label(genre, 'genre'), 100)}**"
        if aliases.get(genre):
            line += " — also " + ", ".join(safe_within(a, 40) for a in aliases[genre][:4])
        lines.append(line)
    count = len(taxonomy[family])
    counted = f": {count} genre{'s' if count != 1 else ''}"
    embed = discord.Embed(
        title=safe_within(taxonomy.label(family, "family"), TITLE_LIMIT - len(counted)) + counted,
        description=fit_lines(lines, DESCRIPTION_LIMIT),
        colour=SPOTIFY_GREEN,
    )
    embed.set_footer(text=f"/sort genres:<a genre> level:genre makes one playlist per genre · model {version}"[
        :TITLE_LIMIT])
    return embed
