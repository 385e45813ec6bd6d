"""Autocomplete answers: time zones (the zone list read once, each keystroke only filters it) and
sources (never slower than Discord allows, never failing)."""

from __future__ import annotations

from bot.choices import MAX_CHOICES, source_choices, timezone_choices, timezone_index
from bot.services.weekly_refresh import known_timezones
from tests.bot.conftest import World

ALICE = 111



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



async def test_a_slow_spotify_gets_liked_songs_at_once_and_the_list_later(world: World) -> None:
    """While Spotify takes its time, the answer is Liked Songs alone; the fetch goes on for the next keystroke."""
    road = world.sandbox.add_playlist("alice", "Road Trip")
    await world.link(ALICE, "alice")
    world.sandbox.latency_s = 0.5  # the list takes at least two such requests
    choices = await source_choices(world.services.sources, ALICE, "", wait_s=0.05)
    assert [c.value for c in choices] == ["liked"]
    playlists = await world.services.sources.playlists(ALICE)  # the same fetch, still running
    assert [p.id for p in playlists.readable] == [road.id]
    assert world.sandbox.count("GET", "/v1/me/playlists") == 1


async def test_a_member_who_never_linked_is_offered_liked_songs(world: World) -> None:
    """No link, no playlists, no error: Liked Songs alone."""
    choices = await source_choices(world.services.sources, 999, "li")
    assert [(c.name, c.value) for c in choices] == [("Liked Songs", "liked")]
