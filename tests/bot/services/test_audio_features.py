"""Whether this Spotify app gets audio features: asked once, remembered, and used where served."""

from __future__ import annotations

from dataclasses import replace

from bot.services.playlist_plan import SortOptions
from bot.services.root import Services
from sandbox.library import synthetic_library
from tests.bot.conftest import World

ALICE, BOB = 111, 222


async def test_an_app_refused_audio_features_asks_once_for_all_members(world: World) -> None:
    """The first sort learns the 403; later sorts, of any member, do not ask again."""
    await world.link(ALICE, "alice")
    await world.link(BOB, "bob")
    await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))
    await world.services.sorting.sort(BOB, SortOptions(dry_run=True))
    assert world.sandbox.count("GET", "/v1/audio-features") == 1


async def test_what_was_learned_survives_a_restart(world: World) -> None:
    """Services opened again on the same database do not ask Spotify again."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))
    world.sandbox.like("alice", synthetic_library(3, seed=8, prefix="later"))
    await world.services.close()  # a restart: the first process has stopped (the database allows one)
    restarted = await Services.open(world.services.settings, clock=world.clock)
    try:
        report = await restarted.sorting.sort(ALICE, SortOptions(dry_run=True), incremental=True)
    finally:
        await restarted.close()
    assert report.new_songs == 3
    assert world.sandbox.count("GET", "/v1/audio-features") == 1


async def test_where_the_app_gets_audio_features_new_songs_are_stored_with_them(world: World) -> None:
    """An app that is served audio features keeps them with each new song, for the classifier."""
    world.sandbox.audio_features_enabled = True
    liked = [replace(t, audio_features={"energy": 0.7, "danceability": 0.4}) for t in synthetic_library(5, seed=9)]
    world.sandbox.like("bob", liked)
    await world.link(BOB, "bob")
    await world.services.sorting.sort(BOB, SortOptions(dry_run=True))
    stored = await world.services.db.tracks.get_many([t.id for t in liked])
    assert all((stored[t.id].audio_features or {}).get("energy") == 0.7 for t in liked)
