"""The gateway asks genrebot to reconnect (op 7) or forgets its session (op 9) while a /sort runs,
and watches its heartbeats while it classifies a big library: the sort's answer always arrives."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.library import synthetic_library
from tests.discord_standin import InteractionRecord
from tests.e2e.conftest import MEMBER_SONGS, BotWorld

BASE = 100_000_000_000_003_000


async def held_sort(world: BotWorld) -> tuple[asyncio.Event, InteractionRecord]:
    """A /sort by member0 still reading Liked Songs until the returned event is set."""
    await world.start_bot()
    await world.link(BASE, "member0")
    release = asyncio.Event()
    world.spotify.hold_liked_page("member0", 50, release.wait)
    record = await world.command("sort", user=BASE)
    await record.wait_for(lambda m: (m.content or "").startswith("📥"), 30)
    return release, record


def command_syncs(world: BotWorld) -> int:
    return sum(r.method == "PUT" and r.path.endswith("/commands") for r in world.discord.requests)


async def test_a_reconnect_asked_for_mid_sort_resumes_and_the_result_still_arrives(world: BotWorld) -> None:
    """op 7 mid-sort: genrebot resumes, and both the sort's answer and a command sent meanwhile arrive."""
    release, record = await held_sort(world)
    await world.discord.request_reconnect()
    meanwhile = await world.discord.invoke("genres", user_id=BASE + 1)  # replayed on RESUME
    release.set()
    reply = await world.final(record)
    assert reply.embeds[0]["title"] == f"Sorted {MEMBER_SONGS} liked songs"
    await meanwhile.wait_acknowledged(10)
    assert world.discord.resumed == 1


async def test_an_invalid_session_mid_sort_identifies_anew_and_the_result_still_arrives(world: BotWorld) -> None:
    """op 9 mid-sort: genrebot identifies again without syncing its commands again, the sort's answer
    arrives, and a command after the new session is answered."""
    release, record = await held_sort(world)
    syncs = command_syncs(world)
    await world.discord.invalidate_sessions()
    await world.discord.wait_ready(30)
    release.set()
    reply = await world.final(record)
    assert reply.embeds[0]["title"] == f"Sorted {MEMBER_SONGS} liked songs"
    after = await world.command("genres", user=BASE + 1)
    await world.final(after, 10)
    assert len(world.discord.identifies) == 2 and command_syncs(world) == syncs


@pytest.mark.standin(heartbeat_interval_s=1.0)
async def test_heartbeats_keep_their_time_while_a_big_library_is_read_and_classified(world: BotWorld) -> None:
    """A /sort of 3,000 songs with a 1 s heartbeat interval: the event loop is never held for 1.5 s
    of CPU time between two beats (the world fixture fails on the stand-in's 'no gateway heartbeat'
    violation), so nothing blocks it; a loaded machine, which only makes beats late, passes too."""
    world.spotify.like("member0", synthetic_library(3000 - MEMBER_SONGS, seed=4, prefix="big"))
    await world.start_bot()
    await world.link(BASE, "member0")
    reply = await world.final(await world.command("sort", user=BASE), 120)
    assert reply.embeds[0]["title"] == "Sorted 3,000 liked songs"
    assert world.discord.identifies == [(0, 1)] and world.discord.resumed == 0
