"""Autocomplete for slash-command options: genres (one, or a comma-separated list) and time zones.

Shared by the cogs, so `/sort genres:` and `/leaderboard genre:` offer the same names.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from discord import app_commands

from bot.services.playlist_plan import Level, genre_label, valid_keys
from bot.services.weekly_refresh import known_timezones

MAX_CHOICES = 25  # Discord shows at most 25 suggestions
MAX_VALUE_LENGTH = 100  # and takes option values of at most 100 characters


def genre_choices(
    taxonomy: Mapping[str, Sequence[str]], current: str, *, level: Level = "genre", several: bool = False
) -> list[app_commands.Choice[str]]:
    """Genre names containing what the member typed. With `several`, the option is a
    comma-separated list: complete its last, unfinished entry and keep the ones before it."""
    done, _, fragment = current.rpartition(",") if several else ("", "", current)
    chosen = split_genres(done)
    choices = []
    for label in (genre_label(k) for k in valid_keys(taxonomy, level)):
        if fragment.strip().lower() in label.lower() and label not in chosen:
            value = ", ".join([*chosen, label])
            if len(value) <= MAX_VALUE_LENGTH:
                choices.append(app_commands.Choice(name=value, value=value))
    return choices[:MAX_CHOICES]


def split_genres(text: str) -> list[str]:
    """'Rock, latin ,' -> ['Rock', 'latin']."""
    return [part.strip() for part in text.split(",") if part.strip()]


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
