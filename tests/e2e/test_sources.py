"""Choosing what to sort, through the real discord.py client and the Spotify sandbox: `/sort source:`
for Liked Songs and for a playlist, its autocomplete within Discord's limits, someone else's
playlist refused, and a weekly refresh of the sources a member chose with `/schedule`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.faults import FaultAction
from sandbox.library import synthetic_library
from sandbox.records import local_file
from tests.discord_standin import Message
from tests.e2e.conftest import BotWorld

ALICE = 100_000_000_000_000_111  # Spotify user member0


def road_trip(world: BotWorld, name: str = "Road trip 2019") -> str:
    """A playlist of member0's own: 20 of their liked songs, 20 others and a local file."""
    liked = [t for t, _ in world.spotify.users["member0"].liked[:20]]
    garage = local_file("Garage Band", "Tapes", "Demo", 180)
    items = [*liked, garage, *synthetic_library(20, seed=41, prefix="road")]
    return world.spotify.add_playlist("member0", name, items).id


async def linked(world: BotWorld) -> None:
    await world.start_bot()
    await world.link(ALICE, "member0")


async def suggested(world: BotWorld, typed: str, command: str = "sort", sub: str | None = None) -> list[dict]:
    """The choices for what the member typed, once their playlist list is in (the event waited on)."""
    await world.services.sources.playlists(ALICE)
    return await world.discord.autocomplete(command, "source", typed, user_id=ALICE, subcommand=sub)


async def test_sort_without_a_source_sorts_liked_songs(world: BotWorld) -> None:
    """/sort and /sort source:liked both answer 'Sorted 300 liked songs'."""
    await linked(world)
    for options in (None, {"source": "liked"}):
        reply = await world.final(await world.command("sort", options, user=ALICE))
        assert reply.embeds[0]["title"] == "Sorted 300 liked songs"


async def test_sort_source_sorts_the_chosen_playlist_into_its_own_playlists(world: BotWorld) -> None:
    """Picking 'Road trip 2019' from autocomplete: the reply names it, its playlists carry its name,
    and the skipped local file is counted."""
    playlist_id = road_trip(world)
    await linked(world)
    [choice] = [c for c in await suggested(world, "road") if c["name"] == "Road trip 2019"]
    assert choice["value"] == f"spotify:playlist:{playlist_id}"
    reply = await world.final(await world.command("sort", {"source": choice["value"], "min_size": 1}, user=ALICE))
    embed = reply.embeds[0]
    assert embed["title"] == "Sorted 40 songs from Road trip 2019"
    assert "· Road trip 2019 · genrebot](https://open.spotify.com/playlist/" in embed["description"]
    assert {"name": "Skipped", "value": "1 local file (not on Spotify)", "inline": False} in embed["fields"]
    made = [p for p in world.spotify.playlists_of("member0") if p.name.endswith(" · Road trip 2019 · genrebot")]
    assert sum(len(p.items) for p in made) == 40


async def test_a_source_typed_by_name_or_pasted_as_a_link_works_too(world: BotWorld) -> None:
    """Without picking a suggestion: the playlist's name, or its share link, names the same playlist."""
    playlist_id = road_trip(world)
    await linked(world)
    for typed in ("road trip 2019", f"https://open.spotify.com/playlist/{playlist_id}?si=x1"):
        reply = await world.final(await world.command("sort", {"source": typed}, user=ALICE))
        assert reply.embeds[0]["title"] == "Sorted 40 songs from Road trip 2019"


async def test_source_autocomplete_stays_within_discords_limits(world: BotWorld) -> None:
    """60 playlists, names of 100 characters, a shared one with a long owner name: at most 25 choices,
    each name and value 1-100 characters (the stand-in refuses anything else)."""
    for n in range(60):
        world.spotify.add_playlist("member0", f"{n:02d} " + "very long playlist name " * 5)
    world.spotify.users["member1"].display_name = "Somebody With A Remarkably Long Display Name " * 2
    shared = world.spotify.add_playlist("member1", "Shared " * 20, collaborative=True)
    world.spotify.collaborate("member0", shared.id)
    await linked(world)
    choices = await suggested(world, "")
    assert len(choices) == 25 and choices[0] == {"name": "Liked Songs", "value": "liked"}
    assert all(1 <= len(c["name"]) <= 100 and 1 <= len(c["value"]) <= 100 for c in choices)
    [shared_choice] = await suggested(world, "shared")
    assert "(shared by Somebody" in shared_choice["name"] and len(shared_choice["name"]) <= 100


async def test_the_first_keystroke_offers_liked_songs_and_later_ones_the_playlists(world: BotWorld) -> None:
    """Before the member's list is fetched the answer is Liked Songs alone; once it is in, their playlists."""
    road_trip(world)
    await linked(world)
    first = await world.discord.autocomplete("sort", "source", "", user_id=ALICE)
    assert first[0]["value"] == "liked"
    assert "Road trip 2019" in [c["name"] for c in await suggested(world, "")]


async def test_someone_elses_playlist_is_refused_clearly(world: BotWorld) -> None:
    """A pasted link to another member's playlist: the reply names it and its owner and says what to do."""
    theirs = world.spotify.add_playlist("member1", "Member 1's hits", synthetic_library(5, seed=42), public=True)
    await linked(world)
    link = f"https://open.spotify.com/playlist/{theirs.id}"
    reply = await world.final(await world.command("sort", {"source": link}, user=ALICE))
    assert (reply.content or "").startswith("“Member 1's hits” belongs to Member 1.")
    assert "own or collaborate on" in (reply.content or "")
    assert not [p for p in world.spotify.playlists_of("member0") if "genrebot" in p.name]


async def test_weekly_refresh_sorts_the_sources_chosen_with_schedule(world: BotWorld) -> None:
    """/schedule set source: adds the playlist to Liked Songs; at the due time the member gets one
    summary per source, the playlist's named in its title."""
    playlist_id = road_trip(world)
    await linked(world)
    options = {"weekday": "friday", "hour": 18, "timezone": "UTC", "source": f"spotify:playlist:{playlist_id}"}
    scheduled = await world.final(await world.command("schedule", options, user=ALICE, sub="set"))
    assert "It sorts Liked Songs and Road trip 2019" in (scheduled.content or "")
    status = await world.final(await world.command("schedule", user=ALICE, sub="status"))
    assert "It sorts Liked Songs and Road trip 2019" in (status.content or "")
    await due_and_run(world)
    titles = [m.embeds[0]["title"] for m in world.discord.dms[ALICE] if m.embeds]
    assert titles == ["Your weekly genrebot refresh", "Your weekly genrebot refresh: Road trip 2019"]


async def test_schedule_remove_takes_a_source_off_the_weekly_refresh(world: BotWorld) -> None:
    """Removing Liked Songs (picked from the chosen sources) leaves the playlist alone in the refresh."""
    playlist_id = road_trip(world)
    await linked(world)
    options = {"weekday": "friday", "hour": 18, "timezone": "UTC", "source": f"spotify:playlist:{playlist_id}"}
    await world.final(await world.command("schedule", options, user=ALICE, sub="set"))
    choices = await world.discord.autocomplete("schedule", "source", "", user_id=ALICE, subcommand="remove")
    assert [c["name"] for c in choices] == ["Liked Songs", "Road trip 2019"]
    removed = await world.final(await world.command("schedule", {"source": "liked"}, user=ALICE, sub="remove"))
    assert removed.content == "Your weekly refresh now sorts Road trip 2019."
    await due_and_run(world)
    titles = [m.embeds[0]["title"] for m in world.discord.dms[ALICE] if m.embeds]
    assert titles == ["Your weekly genrebot refresh: Road trip 2019"]


async def due_and_run(world: BotWorld) -> list[Message]:
    schedule = await world.services.weekly_refresh.schedule(ALICE)
    assert schedule is not None and schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(minutes=1)
    assert await world.tick() == 1
    return world.discord.dms[ALICE]


@pytest.mark.parametrize("trouble", ["hang", 429])
async def test_source_autocomplete_answers_in_time_while_spotify_is_stuck(
    world: BotWorld, trouble: int | FaultAction,
) -> None:
    """Spotify never answering the playlist list, or asking to wait an hour: the member still gets
    Liked Songs within Discord's 3 seconds (the stand-in counts a late answer as a violation)."""
    road_trip(world)
    await linked(world)
    world.spotify.inject(trouble, 10, path_prefix="/v1/me/playlists", retry_after=3600)
    record = await world.discord.autocomplete_record("sort", "source", "", user_id=ALICE)
    await record.wait_until(lambda: record.autocomplete_choices is not None or bool(record.rejected), 5)
    assert record.acknowledged_at is not None and record.acknowledged_at - record.dispatched_at < 3
    assert record.autocomplete_choices == [{"name": "Liked Songs", "value": "liked"}]
