"""A weekly refresh's DMs reach the member once, whatever happens around them: a bot killed between
the sort and its summary DM sends it after the restart, a DM whose answer the network lost is sent
again under the same nonce (Discord keeps one message), and one member's stuck Spotify holds back
nobody else's refresh."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlsplit

import discord
from discord.ext import commands

from bot.services.weekly_refresh_dms import RESEND_WINDOW
from storage.records import RunStatus
from tests.discord_standin import Message
from tests.e2e.conftest import BotWorld

MEMBER, OTHER = 100_000_000_000_007_001, 100_000_000_000_007_002
SUMMARY_TITLE = "Your weekly genrebot refresh"


def summaries(dms: list[Message]) -> list[Message]:
    return [m for m in dms if m.embeds and m.embeds[0]["title"] == SUMMARY_TITLE]


async def scheduled(world: BotWorld, member: int, spotify_user: str, hour: int = 9) -> datetime:
    """The member linked with a weekly refresh on Mondays at `hour`:00 UTC: when it is first due."""
    await world.link(member, spotify_user)
    await world.final(await world.command(
        "schedule", {"weekday": "monday", "hour": hour, "timezone": "UTC"}, user=member, sub="set"))
    schedule = await world.services.weekly_refresh.schedule(member)
    assert schedule is not None and schedule.next_run is not None
    return schedule.next_run


async def test_a_bot_killed_between_the_sort_and_its_summary_dm_sends_the_summary_after_the_restart(
    world: BotWorld,
) -> None:
    """The process dies while the summary DM is on its way (sorted, runs recorded, nothing sent):
    after the start the member gets the summary once, and /status knows it was sent."""
    await world.start_bot()
    due = await scheduled(world, MEMBER, "member0")
    world.clock.now = due + timedelta(seconds=5)
    killed, dm_reached_discord = asyncio.Event(), asyncio.Event()

    async def held_until_the_kill() -> None:
        dm_reached_discord.set()
        await killed.wait()

    # The summary's POST waits in Discord's queue; the process dies before Discord takes it.
    world.discord.fail(1, status=0, method="POST", path_prefix="/channels/", until=held_until_the_kill)
    tick = asyncio.create_task(world.tick())
    await dm_reached_discord.wait()
    runs = await world.services.sorting.recent_runs(MEMBER)
    assert runs[0].status == RunStatus.SUCCEEDED, "the sort is done and recorded before its DM"
    await world.services.db.close()  # the process dies here: nothing after this is recorded
    await world.stop_bot()
    killed.set()
    await asyncio.gather(tick, return_exceptions=True)
    assert not summaries(world.discord.dms[MEMBER])

    await world.start_bot()
    await world.tick()
    assert len(summaries(world.discord.dms[MEMBER])) == 1, "the summary, once"
    run = (await world.services.sorting.recent_runs(MEMBER))[0]
    assert run.status == RunStatus.SUCCEEDED and run.dm_status == "sent"
    await world.tick()
    assert len(summaries(world.discord.dms[MEMBER])) == 1, "not again at the next tick"


async def test_a_summary_dm_whose_answer_was_lost_is_sent_again_with_its_nonce_and_arrives_once(
    world: BotWorld,
) -> None:
    """Discord took the summary but the connection broke before its answer: the next try sends it
    under the same enforced nonce, Discord hands back the first message, and the member has one."""
    await world.start_bot()
    due = await scheduled(world, MEMBER, "member0")
    world.clock.now = due + timedelta(seconds=5)
    world.discord.fail(1, status=0, method="POST", path_prefix="/channels/", after_processing=True)

    await world.tick()
    assert len(summaries(world.discord.dms[MEMBER])) == 1
    assert (await world.services.sorting.recent_runs(MEMBER))[0].dm_status is None, "not known yet"

    await world.tick()  # the next tick tries again, inside Discord's nonce window
    assert len(summaries(world.discord.dms[MEMBER])) == 1, "Discord kept one message"
    assert (await world.services.sorting.recent_runs(MEMBER))[0].dm_status == "sent"


async def test_a_summary_dm_unanswered_past_the_nonce_window_is_not_sent_twice(world: BotWorld) -> None:
    """Past the window in which Discord would recognise the nonce, a DM that may have arrived is not
    sent again: /status says it was not confirmed."""
    await world.start_bot()
    due = await scheduled(world, MEMBER, "member0")
    world.clock.now = due + timedelta(seconds=5)
    world.discord.fail(1, status=0, method="POST", path_prefix="/channels/", after_processing=True)
    await world.tick()

    world.clock.now += RESEND_WINDOW + timedelta(seconds=1)
    world.discord.advance(RESEND_WINDOW.total_seconds() * 10)  # Discord has forgotten the nonce too
    await world.tick()
    assert len(summaries(world.discord.dms[MEMBER])) == 1
    run = (await world.services.sorting.recent_runs(MEMBER))[0]
    assert run.dm_status == "unconfirmed"
    status = await world.final(await world.command("status", user=MEMBER))
    assert "summary DM not confirmed by Discord" in status.embeds[0]["fields"][1]["value"]


async def test_a_member_whose_spotify_hangs_does_not_hold_back_another_members_refresh(world: BotWorld) -> None:
    """One member's refresh is stuck on a Spotify page that does not come: the tick returns, the
    next tick starts the member due after them (not the stuck one again), and that member's
    summary arrives while the first is still stuck."""
    await world.start_bot()
    stuck_due = await scheduled(world, MEMBER, "member0", hour=9)
    other_due = await scheduled(world, OTHER, "member1", hour=10)
    released, stuck = asyncio.Event(), asyncio.Event()

    async def hanging_page() -> None:
        stuck.set()
        await released.wait()

    world.spotify.hold_liked_page("member0", 0, hanging_page)
    world.clock.now = stuck_due + timedelta(seconds=5)
    assert await asyncio.wait_for(world.weekly_refresh.run_due(), 30) == 1, "the tick does not wait"
    await stuck.wait()

    world.clock.now = other_due + timedelta(seconds=5)
    assert await asyncio.wait_for(world.weekly_refresh.run_due(), 30) == 1, "only the other member starts"
    await world.discord.wait_for_dm(OTHER, lambda m: bool(summaries([m])), 60)
    assert not summaries(world.discord.dms[MEMBER]), "the stuck member's refresh has not ended"
    released.set()


async def test_a_bot_stopped_as_a_failed_refresh_ends_tells_the_member_why_after_the_start(world: BotWorld) -> None:
    """The refresh fails (a bug: no message covers Spotify's answer) and the bot stops just as that
    end is written: after the start the member still gets the DM saying it failed, once."""
    await world.start_bot()
    due = await scheduled(world, MEMBER, "member0")
    world.clock.now = due + timedelta(seconds=5)
    world.spotify.inject(400, 1, path_prefix="/v1/me/tracks")
    loop = asyncio.get_running_loop()
    ending, stopped = False, False

    def stop_the_refresh() -> None:
        for task in asyncio.all_tasks(loop):
            if task.get_name() == f"weekly-refresh-{MEMBER}":  # the cog's task for the member
                task.cancel()

    def on_statement(statement: str) -> None:  # in aiosqlite's thread, before SQLite runs it
        nonlocal ending, stopped
        if "SET unfinished = 0" in statement and not stopped:
            ending = True  # the refresh's end is being written
        elif ending and statement == "COMMIT":
            ending, stopped = False, True
            loop.call_soon_threadsafe(stop_the_refresh)  # lands before the COMMIT's answer does

    await world.services.db.sql._conn.set_trace_callback(on_statement)  # noqa: SLF001 (SQLite's own hook)
    assert await world.tick() == 1
    assert stopped, "the stop came with the COMMIT"
    assert not [m for m in world.discord.dms[MEMBER] if (m.content or "").startswith("Weekly refresh:")]
    await world.stop_bot()

    await world.start_bot()
    await world.tick()
    told = [m for m in world.discord.dms[MEMBER] if (m.content or "").startswith("Weekly refresh:")]
    assert len(told) == 1 and "error id" in (told[0].content or ""), told
    [run] = await world.services.sorting.recent_runs(MEMBER, limit=1)
    assert (run.status, run.dm_status) == (RunStatus.FAILED, "sent")


async def test_a_tick_under_way_as_the_bot_stops_starts_no_refresh_after_the_stop(world: BotWorld) -> None:
    """The cog unloads (the bot closing) while a tick is still reading who is due: the tick starts
    nothing after that, so no refresh runs on against a closing bot; the member stays due."""
    await world.start_bot()
    due = await scheduled(world, MEMBER, "member0")
    world.clock.now = due + timedelta(seconds=5)
    cog = world.weekly_refresh
    tick = asyncio.create_task(cog.run_due())  # under way: it runs from the unload's first wait on
    await cast(commands.Cog, cog).cog_unload()
    assert await tick == 0
    await cog.settled()
    assert await world.services.sorting.recent_runs(MEMBER) == [], "no refresh ran"
    assert [s.discord_id for s in await world.services.weekly_refresh.due()] == [MEMBER], "still due"


def a_closed_port() -> int:
    """A local port nothing listens on: a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_summary_dm_while_discord_cannot_be_reached_is_sent_once_it_can(world: BotWorld) -> None:
    """The bot cannot connect to Discord at all when the summary is due, for longer than Discord's
    nonce window: Discord never had the DM, so it is sent once Discord can be reached again, rather
    than called 'not confirmed' and never sent."""
    await world.start_bot()
    due = await scheduled(world, MEMBER, "member0")
    world.clock.now = due + timedelta(seconds=5)
    reachable = discord.http.Route.BASE
    discord.http.Route.BASE = reachable.replace(urlsplit(reachable).netloc, f"127.0.0.1:{a_closed_port()}")
    try:
        assert await world.tick() == 1
        world.clock.now += RESEND_WINDOW + timedelta(minutes=1)
        assert await world.tick() == 0
    finally:
        discord.http.Route.BASE = reachable
    assert not summaries(world.discord.dms[MEMBER])
    assert (await world.services.sorting.recent_runs(MEMBER))[0].dm_status is None, "not sent yet"

    await world.tick()
    assert len(summaries(world.discord.dms[MEMBER])) == 1
    assert (await world.services.sorting.recent_runs(MEMBER))[0].dm_status == "sent"
