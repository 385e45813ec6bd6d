"""Autocomplete for slash-command options: genres (one, or a comma-separated list) and time zones.

Shared by the cogs, so `/sort genres:` and `/leaderboard genre:` offer the same names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import available_timezones

from discord import app_commands

from bot.services.playlist_plan import Level, genre_label, valid_keys

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


def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
    text = current.strip().lower()
    names = [n for n in sorted(available_timezones()) if text in n.lower()][:MAX_CHOICES]
    return [app_commands.Choice(name=name, value=name) for name in names]
