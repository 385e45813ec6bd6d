"""Autocomplete of time zones: the zone list is read once, each keystroke only filters it."""

from __future__ import annotations

from bot.choices import MAX_CHOICES, timezone_choices, timezone_index
from bot.services.weekly_refresh import known_timezones


def test_time_zone_autocomplete_reads_the_zone_list_once() -> None:
    """A hundred keystrokes read tzdata's zone list at most once."""
    known_timezones.cache_clear()
    timezone_index.cache_clear()
    for text in ["e", "eu", "eur", "euro", "europe/", "europe/b", "europe/be", "berl"] * 12 + ["x", "utc"]:
        timezone_choices(text)
    assert known_timezones.cache_info().misses == 1 and timezone_index.cache_info().misses == 1


def test_time_zone_autocomplete_offers_matching_zones_within_discords_limits() -> None:
    """'berl' offers Europe/Berlin; an empty or huge fragment still answers at most 25 short choices."""
    assert [c.value for c in timezone_choices("berl")] == ["Europe/Berlin"]
    for text in ["", "a", "x" * 5000]:
        choices = timezone_choices(text)
        assert len(choices) <= MAX_CHOICES
        assert all(1 <= len(c.name) <= 100 for c in choices)
