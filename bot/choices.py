"""Autocomplete for slash-command options: families and genres (one, or a comma-separated list),
time zones, and sources (Liked Songs or the member's playlists).

Shared by the cogs, so `/sort genres:`, `/leaderboard genre:` and `/genres family:` offer the
same names, from the whole taxonomy of the loaded model, and `/sort source:` and
`/schedule set source:` the same sources.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence

import discord
from discord import app_commands

from bot.services.errors import ServiceError
from bot.services.genre_names import (
    Level,
    NamedEntry,
    entries,
    loose_key,
    parse_level,
    resolve_pick,
    shorten,
    split_genres,
    typed_key,
)
from bot.services.sources import (
    MemberPlaylists,
    SourceService,
    SourceSuggestion,
    source_value,
    suggest_sources,
)
from bot.services.weekly_schedule import known_timezones
from bot.spotify.errors import SpotifyError
from classifier import Taxonomy
from music import SortSource

log = logging.getLogger(__name__)

MAX_CHOICES = 25  # Discord shows at most 25 suggestions
MAX_VALUE_LENGTH = 100  # and takes option values of at most 100 characters
MAX_NAME_LENGTH = 100  # and choice names of 1 to 100 characters
# Discord drops an autocomplete answer after 3 seconds; a member's playlists not fetched by then
# are offered from the next keystroke on (the fetch goes on).
PLAYLISTS_WAIT_S = 2.0


def genre_choices(
    taxonomy: Taxonomy, current: str, *, level: Level = "family", several: bool = False,
    families_only: bool = False,
) -> list[app_commands.Choice[str]]:
    """Families and genres whose names match what the member typed, best matches first: the
    label's start, then a word's, then a key or alias ('rap' finds Hip-Hop), then anywhere.
    With `several`, the option is a comma-separated list: complete its last, unfinished entry
    and keep the ones before it. With `families_only`, a genre that matches offers its family.
    Values are names `resolve_pick` reads back at `level`."""
    done, _, fragment = current.rpartition(",") if several else ("", "", current)
    chosen = split_genres(done, taxonomy, level)
    already = {resolve_pick(name, taxonomy, level) for name in chosen}
    typed = typed_key(fragment[:MAX_VALUE_LENGTH])
    loose = loose_key(fragment[:MAX_VALUE_LENGTH])
    meant = resolve_pick(fragment[:MAX_VALUE_LENGTH], taxonomy, level) if typed else None
    named = entries(taxonomy)
    family_entries = {entry.pick.key: (position, entry) for position, entry in enumerate(named)
                      if entry.pick.level == "family"}
    matches: dict[NamedEntry, tuple[int, int, int, str | None]] = {}
    for position, entry in enumerate(named):
        if entry.pick in already:
            continue
        rank = -1 if entry.pick == meant else _match_rank(typed, loose, entry)  # what the name means first
        if rank is None:
            continue
        match: tuple[int, int, int, str | None] = (rank, 0 if entry.pick.level == level else 1, position, None)
        if families_only and entry.pick.level != "family":
            # /genres family: takes a genre's name and opens its family: offer the family.
            position, family_entry = family_entries[entry.pick.family]
            match, entry = (rank, 1, position, entry.label), family_entry
        if entry not in matches or match < matches[entry]:
            matches[entry] = match
    choices: list[app_commands.Choice[str]] = []
    for entry, (_, _, _, via) in sorted(matches.items(), key=lambda item: item[1][:3]):
        label = entry.label
        if resolve_pick(label, taxonomy, level) != entry.pick:
            label = f"{label} ({entry.pick.level})"  # 'Rock' alone would read as the family, 'EDM' too
        value = ", ".join([*chosen, label])
        if len(value) > MAX_VALUE_LENGTH:
            continue
        name = f"{value} — {_hint(entry, taxonomy)}" + (f", {via} among them" if via else "")
        choices.append(app_commands.Choice(name=name if len(name) <= MAX_VALUE_LENGTH else value, value=value))
        if len(choices) == MAX_CHOICES:
            break
    return choices


def typed_level(interaction: discord.Interaction) -> Level:
    """The level the member has chosen so far in the command being typed (family if none or odd):
    what a genre's name means in an autocomplete of `/sort genres:` or `/leaderboard genre:`."""
    try:
        return parse_level(str(getattr(interaction.namespace, "level", None) or "family"))
    except ValueError:
        return "family"


def _match_rank(typed: str, loose: str, entry: NamedEntry) -> int | None:
    """0: the label starts with it; 1: a word of the label does; 2: a key or alias does;
    3: the label contains it; 4: a key or alias does; then the same read loosely, without accents,
    spaces or marks ('reggaetó', 'hiphop'): 5: the label starts with it; 6: a key or alias does;
    7: any contains it; None: no match."""
    if not typed:
        return 0
    label, others = entry.names[0], entry.names[1:]
    if label.startswith(typed):
        return 0
    if any(word.startswith(typed) for word in label.split()[1:]):
        return 1
    if any(name.startswith(typed) for name in others):
        return 2
    if typed in label:
        return 3
    if any(typed in name for name in others):
        return 4
    if not loose:
        return None
    if entry.loose[:1] and entry.loose[0].startswith(loose):
        return 5
    if any(name.startswith(loose) for name in entry.loose[1:]):
        return 6
    if any(loose in name for name in entry.loose):
        return 7
    return None


def _hint(entry: NamedEntry, taxonomy: Taxonomy) -> str:
    if entry.pick.level == "family":
        count = len(taxonomy[entry.pick.key])
        return f"family of {count} genre{'s' if count != 1 else ''}"
    return f"genre in {taxonomy.label(entry.pick.family, 'family')}"


@functools.cache
def timezone_index() -> tuple[tuple[str, str], ...]:
    """(lower-case, name) of every known zone, sorted: built once (the cog warms it in a thread)."""
    return tuple((name.lower(), name) for name in sorted(known_timezones()))


def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
    """Zones containing what the member typed: a scan of ~600 short strings, stopped at 25."""
    text = current.strip().lower()[:MAX_VALUE_LENGTH]
    names: list[str] = []
    for lower, name in timezone_index():
        if text in lower:
            names.append(name)
            if len(names) == MAX_CHOICES:
                break
    return [app_commands.Choice(name=name, value=name) for name in names]


async def source_choices(
    sources: SourceService, discord_id: int, current: str, *, wait_s: float = PLAYLISTS_WAIT_S
) -> list[app_commands.Choice[str]]:
    """Liked Songs and the member's readable playlists matching what they typed. Never fails:
    without their playlists (not linked, Spotify slow or failing) it offers Liked Songs alone."""
    playlists: MemberPlaylists | None = None
    try:
        playlists = await asyncio.wait_for(sources.playlists(discord_id), wait_s)
    except (TimeoutError, ServiceError, SpotifyError) as error:
        log.debug("source suggestions for member %s without playlists: %s", discord_id, type(error).__name__)
    except Exception:
        log.exception("listing the playlists of member %s failed", discord_id)
    return suggestion_choices(suggest_sources(playlists, current))


def suggestion_choices(suggestions: Sequence[SourceSuggestion]) -> list[app_commands.Choice[str]]:
    """Discord choices for sources: the name (a shared playlist names its owner), within Discord's
    limits; the value is 'liked' or the playlist's Spotify URI, which `/sort` resolves."""
    choices = []
    for suggestion in suggestions[:MAX_CHOICES]:
        name = suggestion.source.name
        if suggestion.shared_by:
            owner = shorten(suggestion.shared_by, 30)
            name = f"{shorten(name, MAX_NAME_LENGTH - len(owner) - len(' (shared by )'))} (shared by {owner})"
        choices.append(app_commands.Choice(name=shorten(name, MAX_NAME_LENGTH), value=source_value(suggestion.source)))
    return choices


def chosen_source_choices(chosen: Sequence[SortSource], current: str) -> list[app_commands.Choice[str]]:
    """The sources a member already chose (for removing one), matching what they typed."""
    text = " ".join(current.split()).casefold()
    return suggestion_choices([SourceSuggestion(s) for s in chosen if text in " ".join(s.name.split()).casefold()])
