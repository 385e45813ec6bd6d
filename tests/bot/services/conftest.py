"""Helpers the weekly refresh's tests share (test_weekly_refresh.py, test_weekly_refresh_cut_off.py):
a member whose refresh is due, on Liked Songs or on a playlist of her own, and running it."""

from __future__ import annotations

from datetime import timedelta

from bot.services.playlist_plan import SortOptions
from bot.services.weekly_refresh import WeeklyRefreshReport
from music import SortSource
from sandbox.library import synthetic_library
from storage.records import Schedule
from tests.bot.conftest import World

ALICE = 111
NEW_SONGS = 14


async def due_after_new_likes(world: World) -> Schedule:
    """Alice sorted, scheduled Fridays 18:00 Berlin, liked NEW_SONGS songs, and her time came."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))  # the choices it repeats
    schedule = await world.services.weekly_refresh.set_schedule(ALICE, weekday=4, hour=18, timezone="Europe/Berlin")
    world.sandbox.like("alice", synthetic_library(NEW_SONGS, seed=77, prefix="week"))
    assert schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(minutes=1)
    due = await world.services.weekly_refresh.due()
    assert [s.discord_id for s in due] == [ALICE]
    return due[0]


async def run_refresh(world: World, schedule: Schedule) -> WeeklyRefreshReport:
    """The refresh of a schedule no other tick claimed."""
    refreshed = await world.services.weekly_refresh.refresh(schedule)
    assert refreshed is not None
    return refreshed


async def sorted_road_trip(world: World) -> tuple[Schedule, SortSource]:
    """Alice's own 30-song playlist, sorted once (every genre a playlist), chosen for her refresh, due."""
    road_trip = world.sandbox.add_playlist("alice", "Road Trip", synthetic_library(30, seed=33, prefix="road"))
    source = SortSource(road_trip.id, "Road Trip")
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1), source=source)  # the choices it repeats
    await world.services.weekly_refresh.add_source(ALICE, source)
    await world.services.weekly_refresh.remove_source(ALICE, "liked")
    schedule = await world.services.weekly_refresh.set_schedule(ALICE, weekday=4, hour=18, timezone="UTC")
    assert schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(minutes=1)
    return schedule, source
