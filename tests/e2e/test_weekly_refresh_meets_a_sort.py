"""A weekly refresh that comes due while the member's own /sort runs waits for the next tick,
quietly: no DM, the schedule still due, the postponement in the run history. One that meets a
Spotify outage is tried again later the same way, not skipped for a week."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.services.weekly_retries import RETRY_DELAY, RETRY_WINDOW
from music import SortSource
from sandbox.library import synthetic_library
from storage.records import RunStatus, RunTrigger
from tests.bot.presenters.discord_markdown import live_markdown, shown_text
from tests.discord_standin import Message
from tests.e2e.conftest import MEMBER_SONGS, BotWorld

MEMBER = 100_000_000_000_005_001


async def linked_with_a_schedule(world: BotWorld) -> tuple[datetime, list[Message]]:
    """The member linked, with a weekly refresh set (Mondays 09:00 UTC) through /schedule set: when
    it is first due, and the DMs the member has so far (the one naming the linked Spotify account)."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    dms_before = list(world.discord.dms[MEMBER])
    await world.final(await world.command(
        "schedule", {"weekday": "monday", "hour": 9, "timezone": "UTC"}, user=MEMBER, sub="set"))
    schedule = await world.services.weekly_refresh.schedule(MEMBER)
    assert schedule is not None and schedule.next_run is not None
    return schedule.next_run, dms_before


async def test_a_weekly_refresh_during_a_running_sort_is_retried_at_the_next_tick_without_a_dm(
    world: BotWorld,
) -> None:
    """Due during a /sort: no DM, still due, one postponement recorded; the next tick refreshes."""
    due, dms_before = await linked_with_a_schedule(world)
    ticks_seen = asyncio.Event()
    world.spotify.hold_liked_page("member0", 50, ticks_seen.wait)  # the sort runs through both ticks
    sort = await world.command("sort", user=MEMBER)
    await sort.wait_for(lambda m: (m.content or "").startswith("📥"), 30)
    world.clock.now = due + timedelta(seconds=5)

    assert await world.tick() == 1
    assert await world.tick() == 1  # a second tick during the same sort
    assert world.discord.dms[MEMBER] == dms_before, "no DM about the running sort"
    still = await world.services.weekly_refresh.schedule(MEMBER)
    assert still is not None and still.next_run == due, "the refresh is still due"
    runs = await world.services.sorting.recent_runs(MEMBER)
    postponed = [r for r in runs if r.status == RunStatus.POSTPONED]
    assert len(postponed) == 1 and postponed[0].trigger == RunTrigger.SCHEDULE

    ticks_seen.set()
    await world.final(sort, 60)
    assert await world.tick() == 1  # the next tick after the sort
    assert world.discord.dms[MEMBER][-1].embeds[0]["title"] == "Your weekly genrebot refresh"
    moved = await world.services.weekly_refresh.schedule(MEMBER)
    assert moved is not None and moved.next_run is not None and moved.next_run > due
    status = await world.final(await world.command("status", user=MEMBER))
    assert "schedule · **postponed**" in status.embeds[0]["fields"][1]["value"]


async def test_a_sort_during_the_members_weekly_refresh_says_its_summary_comes_by_dm(world: BotWorld) -> None:
    """/sort while the member's weekly refresh reads: refused, saying the refresh's summary comes by
    DM (not that it will be posted in this channel); a /sort during a /sort keeps its own words."""
    due, _ = await linked_with_a_schedule(world)
    refresh_reading, let_go = asyncio.Event(), asyncio.Event()

    async def held() -> None:
        refresh_reading.set()
        await let_go.wait()

    world.spotify.hold_liked_page("member0", 50, held)
    world.clock.now = due + timedelta(seconds=5)
    tick = asyncio.create_task(world.tick())
    await refresh_reading.wait()
    refused = await world.final(await world.command("sort", user=MEMBER))
    assert refused.content == ("Your weekly refresh is running right now; I'll DM you its summary when it's done, "
                               "then you can /sort again."), refused.content
    let_go.set()
    await tick
    assert world.discord.dms[MEMBER][-1].embeds[0]["title"] == "Your weekly genrebot refresh"


async def test_a_weekly_refresh_during_a_spotify_outage_is_tried_again_later_without_a_dm(world: BotWorld) -> None:
    """Spotify answers 503 at the due time: no DM, the refresh due again half an hour later, and it runs then."""
    due, dms_before = await linked_with_a_schedule(world)
    world.clock.now = due + timedelta(seconds=5)
    world.spotify.inject(503, 40)

    assert await world.tick() == 1
    assert world.discord.dms[MEMBER] == dms_before, "no DM telling the member to try again"
    retry = await world.services.weekly_refresh.schedule(MEMBER)
    assert retry is not None and retry.next_run == world.clock.now + RETRY_DELAY
    assert await world.tick() == 0, "not before the retry's time"

    world.spotify.faults.clear()
    world.clock.now += RETRY_DELAY
    assert await world.tick() == 1
    assert world.discord.dms[MEMBER][-1].embeds[0]["title"] == "Your weekly genrebot refresh"
    moved = await world.services.weekly_refresh.schedule(MEMBER)
    assert moved is not None and moved.next_run == due + timedelta(weeks=1)


async def test_a_schedule_whose_time_zone_this_machine_does_not_know_is_dmed_about_once(world: BotWorld) -> None:
    """A stored zone the installed tzdata lacks (moved to an older machine): one DM saying the refresh is off, not one a minute."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    dms_before = len(world.discord.dms[MEMBER])
    await world.services.db.schedules.set(MEMBER, 0, 9, "America/Nowhere_New", world.clock.now - timedelta(minutes=1))

    assert await world.tick() == 1
    assert await world.tick() == 0, "the next tick does not try (and DM) again"
    [told] = world.discord.dms[MEMBER][dms_before:]
    shown = shown_text(told.content or "")
    assert "unknown time zone 'America/Nowhere_New'" in shown and "turned your weekly refresh off" in shown
    schedule = await world.services.weekly_refresh.schedule(MEMBER)
    assert schedule is not None and not schedule.enabled
    [run] = await world.services.sorting.recent_runs(MEMBER, limit=1)  # /status and the history say so too
    assert (run.trigger.value, run.status.value, run.dm_status) == ("schedule", "failed", "sent")
    assert run.error is not None and "turned your weekly refresh off" in run.error


async def test_a_five_thousand_character_time_zone_gets_a_short_unknown_zone_reply(world: BotWorld) -> None:
    """/schedule set with a 5,000-character time zone answers 'unknown time zone' within Discord's limits."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    reply = await world.final(await world.command(
        "schedule", {"weekday": "monday", "hour": 9, "timezone": "A" * 5000}, user=MEMBER, sub="set"))
    assert "unknown time zone" in (reply.content or "") and "went wrong" not in (reply.content or "")
    assert await world.services.weekly_refresh.schedule(MEMBER) is None


async def test_a_time_zone_typed_with_markdown_is_quoted_as_typed_not_formatted(world: BotWorld) -> None:
    """/schedule set timezone:**Mars/Olympus** quotes the zone with its asterisks shown, not in bold."""
    await world.start_bot()
    await world.link(MEMBER, "member0")
    reply = await world.final(await world.command(
        "schedule", {"weekday": "monday", "hour": 9, "timezone": "**Mars/Olympus**"}, user=MEMBER, sub="set"))
    content = reply.content or ""
    assert shown_text(content) == (
        "unknown time zone '**Mars/Olympus**': use an IANA name like Europe/Berlin or America/New_York")
    assert live_markdown(content) == ["_"]  # New_York's, in the advice: a lone "_" formats nothing


async def test_time_zone_autocomplete_answers_each_keystroke(world: BotWorld) -> None:
    """Typing a zone offers matching IANA names through Discord's autocomplete."""
    await world.start_bot()
    choices = await world.discord.autocomplete(
        "schedule", "timezone", "berl", user_id=MEMBER, subcommand="set", options={"weekday": "monday", "hour": 9})
    assert [c["value"] for c in choices] == ["Europe/Berlin"]


async def test_the_summary_of_a_refresh_tried_again_after_an_outage_counts_the_songs_the_first_try_read(
    world: BotWorld,
) -> None:
    """Spotify fails while the first refresh makes the member's playlists: the retry finds every
    song already read and some playlists made, yet its DM counts the week's songs (not 'No new
    liked songs this week') and calls every playlist new."""
    due, _ = await linked_with_a_schedule(world)
    world.clock.now = due + timedelta(seconds=5)
    world.spotify.inject(503, 400, path_prefix="/v1/playlists/")  # made, then filling them fails
    assert await world.tick() == 1
    world.spotify.faults.clear()
    world.clock.now += RETRY_DELAY
    assert await world.tick() == 1
    summary = world.discord.dms[MEMBER][-1].embeds[0]
    assert summary["title"] == "Your weekly genrebot refresh"
    assert summary["description"].startswith(f"{MEMBER_SONGS} new songs: +")
    playlists = summary["description"].split("\n\n", 1)[1].splitlines()
    assert playlists and all(line.endswith("(new)") for line in playlists)


async def test_a_refresh_spotify_stops_for_good_after_liked_songs_dms_their_summary_and_where_it_stopped(
    world: BotWorld,
) -> None:
    """A day after its first try Spotify still fails on the chosen playlist: the member gets the
    Liked Songs summary (they were sorted) and a line naming the playlist it stopped at, not a bare
    'Spotify isn't answering right now. Nothing was changed'."""
    due, dms_before = await linked_with_a_schedule(world)
    road_trip = world.spotify.add_playlist("member0", "Road Trip", synthetic_library(20, seed=31, prefix="road"))
    await world.services.weekly_refresh.add_source(MEMBER, SortSource(road_trip.id, "Road Trip"))
    world.clock.now = due + timedelta(seconds=5)
    world.spotify.inject(503, 400)
    assert await world.tick() == 1  # the first try, deferred quietly
    assert world.discord.dms[MEMBER] == dms_before
    world.spotify.faults.clear()
    world.clock.now += RETRY_WINDOW - RETRY_DELAY + timedelta(minutes=1)
    world.spotify.inject(503, 400, path_prefix=f"/v1/playlists/{road_trip.id}")
    assert await world.tick() == 1
    summary, stopped = world.discord.dms[MEMBER][len(dms_before):]
    assert summary.embeds[0]["title"] == "Your weekly genrebot refresh"
    assert summary.embeds[0]["description"].startswith(f"{MEMBER_SONGS} new songs: +")
    told = shown_text(stopped.content or "")
    assert "stopped at Road Trip" in told and "Spotify kept failing on it for 24 hours of retries" in told and "next week" in told
    assert "Nothing was changed" not in told
    assert await world.tick() == 0, "the week is over: no retry, no second DM"
