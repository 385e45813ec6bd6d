"""Crowds, Spotify faults, hostile input, floods, dropped gateways and restarts, end to end."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import types
import weakref
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from discord.gateway import KeepAliveHandler

from storage.records import RunStatus
from tests.discord_standin import InteractionRecord, message_pings_everyone
from tests.e2e.conftest import MEMBER_SONGS, BotWorld

BASE = 100_000_000_000_001_000
SORTED_ALL = f"Sorted {MEMBER_SONGS} liked songs"


async def reading_progress(record: InteractionRecord) -> None:
    """Returns once the sort behind `record` has shown that it is reading Liked Songs."""
    await record.wait_for(lambda m: (m.content or "").startswith("📥"), 30)


async def test_25_members_sort_at_once_each_gets_their_own_playlists(world: BotWorld) -> None:
    """25 simultaneous /sorts are each acknowledged in time and fill only that member's playlists."""
    await world.start_bot()
    members = list(range(25))
    await asyncio.gather(*(world.link(BASE + i, f"member{i}") for i in members))
    records = await asyncio.gather(*(world.discord.invoke("sort", user_id=BASE + i) for i in members))
    await asyncio.gather(*(r.wait_acknowledged(3) for r in records))
    replies = await asyncio.gather(*(world.final(r, 120) for r in records))
    for i, reply in zip(members, replies, strict=True):
        assert reply.embeds[0]["title"] == SORTED_ALL, reply.content
        owned = world.spotify.playlists_of(f"member{i}")
        assert owned and all(p.owner_id == f"member{i}" for p in owned)
        mine = {t.uri for t, _ in world.spotify.users[f"member{i}"].liked}
        assert all(uri in mine for p in owned for uri, _ in p.items), "no songs from another member"
        for playlist in owned:
            assert playlist.id in reply.embeds[0]["description"]


async def test_spotify_429_storm_and_500s_during_a_sort_are_survived(world: BotWorld) -> None:
    """429s and 5xx during a /sort are waited out; the member gets the normal answer."""
    await world.start_bot()
    await world.link(BASE, "member0")
    world.spotify.inject(429, 6, retry_after=0)
    world.spotify.inject(500, 3)
    world.spotify.inject(502, 1, method="POST", path_prefix="/v1/playlists/")
    reply = await world.final(await world.command("sort", user=BASE))
    assert reply.embeds and reply.embeds[0]["title"] == SORTED_ALL


async def test_spotify_down_gives_a_clear_message_and_the_next_run_succeeds(world: BotWorld) -> None:
    """While Spotify answers 503, /sort says so and records a failed run; the next /sort works."""
    await world.start_bot()
    await world.link(BASE, "member0")
    world.spotify.inject(503, 40)
    reply = await world.final(await world.command("sort", user=BASE))
    assert "Spotify isn't answering right now" in (reply.content or "")
    assert world.spotify.playlists == {}
    runs = await world.services.db.runs.recent(BASE)
    assert runs[0].status == RunStatus.FAILED
    world.spotify.faults.clear()
    assert (await world.final(await world.command("sort", user=BASE))).embeds


async def test_an_expired_token_is_refreshed_without_the_member_noticing(world: BotWorld) -> None:
    """With the access token expired, /sort still answers with its result."""
    await world.start_bot()
    await world.link(BASE, "member0")
    world.spotify.expire_access_tokens()
    assert (await world.final(await world.command("sort", {"dry_run": True}, user=BASE))).embeds


async def test_a_revoked_authorisation_asks_the_member_to_link_again(world: BotWorld) -> None:
    """A revoked refresh token gets 'link your account again'; after /link, /sort works."""
    await world.start_bot()
    await world.link(BASE, "member0")
    world.spotify.revoke_refresh_tokens("member0")
    world.spotify.expire_access_tokens()
    reply = await world.final(await world.command("sort", user=BASE))
    assert "link your account again" in (reply.content or "") and "Traceback" not in (reply.content or "")
    await world.link(BASE, "member0")
    assert (await world.final(await world.command("sort", user=BASE))).embeds


async def test_quota_exhaustion_stops_and_says_when(world: BotWorld) -> None:
    """A quota 429 stops the sort and tells the member when to try again."""
    await world.start_bot()
    await world.link(BASE, "member0")
    world.spotify.inject(429, 1, retry_after=20_000, reason="QUOTA_EXCEEDED")
    reply = await world.final(await world.command("sort", user=BASE))
    assert "request quota" in (reply.content or "") and "<t:" in (reply.content or "")
    assert (await world.services.db.runs.recent(BASE))[0].status == RunStatus.FAILED


async def test_a_rate_limit_asking_to_wait_forever_still_gets_the_member_an_answer(world: BotWorld) -> None:
    """Retry-After "inf" on every call ends /sort with a "try again" reply instead of endless thinking."""
    await world.start_bot()
    await world.link(BASE, "member0")
    world.spotify.inject(429, 50, retry_after="inf")
    reply = await world.final(await world.command("sort", user=BASE))
    assert "slow down" in (reply.content or "") and "Traceback" not in (reply.content or "")


async def test_a_quota_retry_after_of_1e12_still_gets_the_member_a_date(world: BotWorld) -> None:
    """A quota 429 with Retry-After 1e12 ends /sort with a real date to try again, not an overflow."""
    await world.start_bot()
    await world.link(BASE, "member0")
    world.spotify.exceed_quota("1e12")
    reply = await world.final(await world.command("sort", user=BASE))
    assert "request quota" in (reply.content or "") and "<t:" in (reply.content or "")


async def test_injection_in_genre_names_is_rejected_without_pinging_or_storing(world: BotWorld) -> None:
    """Hostile genre names get a short 'unknown genre' reply, ping no one and store nothing."""
    await world.start_bot()
    await world.link(BASE, "member0")
    hostile = ["'; DROP TABLE users;--", "@everyone **bold** [x](https://evil.example)", "<@&123> ||spoiler||"]
    for text in hostile:
        record = await world.command("sort", {"genres": text}, user=BASE)
        reply = await world.final(record)
        assert "I don't know the genre" in (reply.content or "") and "`/genres` lists them all" in (reply.content or "")
        assert not message_pings_everyone(reply) and "@everyone" not in (reply.content or "").replace("@\u200beveryone", "")
    assert (await world.services.db.sql.fetchall("SELECT COUNT(*) AS n FROM users"))[0]["n"] == 1
    assert world.spotify.playlists == {}
    every_message = [m for r in world.discord.interactions.values() for m in r.responses]
    assert all(m.allowed_mentions == {"parse": []} for m in every_message if m.kind == "callback" and m.content)


async def test_a_thousand_rapid_commands_are_rate_limited_politely(world: BotWorld) -> None:
    """A flood of 1,000 commands gets 15 answers and 985 polite waits; other members are unaffected."""
    await world.start_bot()
    records: list[InteractionRecord] = []
    for _ in range(20):
        # 50 at once, and the next 50 as soon as the bot has answered them: as fast as the bot
        # can go, but a busy machine slows the flood rather than the bot's answers to it.
        burst = [await world.discord.invoke("genres", user_id=BASE) for _ in range(50)]
        await asyncio.gather(*(r.wait_acknowledged(10) for r in burst))
        records += burst
    originals = [r.original() for r in records]
    polite = [m for m in originals if m is not None and "Easy there" in (m.content or "")]
    answered = [m for m in originals if m is not None and m.embeds]
    assert len(answered) == 15 and len(polite) == 985
    # Another member is not affected by the flood.
    other_reply = (await world.command("genres", user=BASE + 1)).original()
    assert other_reply is not None and other_reply.embeds


async def test_a_second_sort_while_one_runs_gets_already_running(world: BotWorld) -> None:
    """A /sort while the member's sort runs says one is already running; the first still finishes."""
    await world.start_bot()
    await world.link(BASE, "member0")
    second_answered = asyncio.Event()
    world.spotify.hold_liked_page("member0", 50, second_answered.wait)  # the first sort reads until then
    first = await world.command("sort", user=BASE)
    await reading_progress(first)
    second = await world.final(await world.command("sort", user=BASE))
    second_answered.set()
    assert "already running" in (second.content or "")
    assert (await world.final(first)).embeds


async def test_gateway_drop_mid_sort_resumes_and_the_result_still_arrives(world: BotWorld) -> None:
    """A dropped gateway mid-sort resumes; the sort's answer and a new command still arrive."""
    await world.start_bot()
    await world.link(BASE, "member0")
    dropped = asyncio.Event()
    world.spotify.hold_liked_page("member0", 50, dropped.wait)  # the sort is still reading at the drop
    record = await world.command("sort", user=BASE)
    await reading_progress(record)
    await world.discord.drop_connection()
    follow = await world.discord.invoke("genres", user_id=BASE + 5)  # dispatched while reconnecting
    dropped.set()
    reply = await world.final(record, 60)
    assert reply.embeds and world.discord.resumed >= 1
    await follow.wait_acknowledged(10)


async def test_bot_restarted_mid_run_marks_it_failed_and_the_schedule_still_fires(world: BotWorld) -> None:
    """A run cut off by a restart is marked failed; missed weekly refreshes run once after it."""
    await world.start_bot()
    await world.link(BASE, "member0")
    await world.final(await world.command("schedule", {"weekday": "monday", "hour": 8, "timezone": "UTC"}, user=BASE, sub="set"))
    restarted = asyncio.Event()
    world.spotify.hold_liked_page("member0", 50, restarted.wait)  # the sort is still reading when the process dies
    await reading_progress(await world.command("sort", user=BASE))
    assert (await world.services.sorting.recent_runs(BASE))[0].status == RunStatus.RUNNING
    await world.services.db.close()  # the process dies here: nothing the sort does next is recorded
    await world.stop_bot()
    restarted.set()
    bot = await world.start_bot()
    runs = await bot.services.sorting.recent_runs(BASE)
    assert runs[0].status == RunStatus.FAILED and runs[0].error == "interrupted by a restart"
    schedule = await bot.services.weekly_refresh.schedule(BASE)
    assert schedule is not None and schedule.next_run is not None
    world.clock.now = schedule.next_run + timedelta(weeks=3)
    assert await world.tick() == 1  # missed weeks run once, not three times
    assert await world.tick() == 0
    assert world.discord.dms[BASE][-1].embeds[0]["title"] == "Your weekly genrebot refresh"


async def test_a_sort_waiting_for_a_free_slot_says_so_and_then_runs(world: BotWorld) -> None:
    """With every sort slot taken (SORT_CONCURRENCY), another member's /sort waits: its reply says it is
    waiting for other members' sorts instead of staying at "thinking…" with no word, then it runs."""
    world.settings = world.settings.model_copy(update={"sort_concurrency": 1})
    await world.start_bot()
    await world.link(BASE, "member0")
    await world.link(BASE + 1, "member1")
    released = asyncio.Event()
    world.spotify.hold_liked_page("member0", 50, released.wait)
    first = await world.command("sort", user=BASE)
    await reading_progress(first)
    second = await world.command("sort", user=BASE + 1)
    waiting = await second.wait_for(lambda m: (m.content or "").startswith("⏳"), 30)
    assert "other members' sorts" in (waiting.content or "")
    released.set()
    for record in (first, second):
        assert (await world.final(record)).embeds, "each sort ends with its result"


async def test_a_bot_stopped_mid_sort_tells_the_member_in_the_sort_reply(world: BotWorld) -> None:
    """The operator stops the bot (Ctrl-C, SIGTERM) while a member's /sort reads: before Discord closes,
    the reply stops saying "Reading your liked songs…" and says the bot stopped and to run /sort again
    (the run is recorded as stopped by the bot: tests/bot/services/test_root.py)."""
    await world.start_bot()
    await world.link(BASE, "member0")
    released = asyncio.Event()
    world.spotify.hold_liked_page("member0", 50, released.wait)  # the sort is still reading when the bot stops
    record = await world.command("sort", user=BASE)
    await reading_progress(record)
    await world.stop_bot()
    released.set()
    last = record.responses[-1].content or ""
    assert "stopped" in last and "/sort" in last and not last.startswith("📥"), last


async def test_a_bot_stopped_and_started_again_leaves_the_old_bot_and_its_model_to_be_freed(world: BotWorld) -> None:
    """After a restart in the same process nothing holds the old bot, its services or its model."""

    async def serve_and_stop() -> tuple[weakref.ref[Any], ...]:  # ref is invariant: Any, not object
        bot = await world.start_bot()
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{world.settings.web_port}/healthz") as answer:
                assert answer.status == 200
        held = weakref.ref(bot), weakref.ref(bot.services), weakref.ref(bot.services.classifier)
        await world.stop_bot()
        return held

    await serve_and_stop()  # the process's first start-up keeps what it built for good (freeze_start_up_heap)
    stopped = [await serve_and_stop() for _ in range(2)]
    gc.collect()
    survivors = [alive for held in stopped for ref in held if (alive := ref()) is not None]
    assert not survivors, holders(survivors)


async def test_stopping_the_bot_returns_once_its_gateway_heartbeat_threads_have_ended(
    world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discord.py beats each shard's heartbeat on a thread of its own, which closing only tells to
    stop. Until that thread has ended it holds its gateway session and, through it, the whole
    bot: a bot started again in the same process could not free the old one (the restart check
    above failed that way in a few stops of a hundred on a loaded machine; walking referrers up
    from the survivor, with the start-up heap unfrozen, ended at the heartbeat thread). Here each
    heartbeat thread lingers half a second after being told to stop, as a thread on a loaded
    machine may, so returning before it has ended shows every time."""
    beat_until_stopped = KeepAliveHandler.run

    def beat_then_linger(thread: KeepAliveHandler) -> None:
        beat_until_stopped(thread)
        time.sleep(0.5)

    monkeypatch.setattr(KeepAliveHandler, "run", beat_then_linger)
    await world.start_bot()
    heartbeats = [thread for thread in threading.enumerate() if isinstance(thread, KeepAliveHandler)]
    assert heartbeats, "the gateway asked for heartbeats: each shard has a thread beating them"
    await world.stop_bot()
    assert not [thread.name for thread in heartbeats if thread.is_alive()]


def holders(survivors: list[Any]) -> str:
    """What still holds each survivor (its referrers' types, one level up) and which threads are
    alive, so a failure says where to look. The start-up heap is unfrozen first: referrers in it
    are invisible to `gc.get_referrers`."""
    gc.unfreeze()
    lines = [f"threads alive: {[thread.name for thread in threading.enumerate()]}"]
    for alive in survivors:
        referrers = [type(r).__qualname__ + (f" {r.f_code.co_name}" if isinstance(r, types.FrameType) else "")
                     for r in gc.get_referrers(alive) if r is not survivors]
        lines.append(f"{type(alive).__qualname__} held by {referrers}")
    return "\n".join(lines)


async def test_oauth_callback_abuse_stores_nothing(world: BotWorld) -> None:
    """Malformed and hostile callbacks to the running bot are refused and store no member."""
    await world.start_bot()
    port = world.settings.web_port
    async with aiohttp.ClientSession() as session:
        for query in ("", "code=x", "state=forged&code=x", "error=access_denied&state=nope",
                      "state=" + "A" * 9000, "state=%00%ff&code=%3Cscript%3E"):
            async with session.get(f"http://127.0.0.1:{port}/callback?{query}") as response:
                assert response.status in (400, 414, 431), (query[:40], response.status)
    assert (await world.services.db.sql.fetchall("SELECT COUNT(*) AS n FROM users"))[0]["n"] == 0


async def test_an_autocomplete_for_a_command_genrebot_no_longer_has_gets_no_choices(world: BotWorld) -> None:
    """A member's Discord client can still offer a command that a newer genrebot dropped (clients
    refresh their command list later): typing in one of its options sends an autocomplete for a
    command the bot does not have. Discord takes only choices in answer to an autocomplete (anything
    else is 400 50035 'In type: Value must be one of {8}'), so the member gets an empty list."""
    await world.start_bot()
    stale = {**world.discord.synced_commands["sort"], "name": "oldsort"}
    world.discord.synced_commands["oldsort"] = stale
    record = await world.discord.autocomplete_record("oldsort", "genres", "ro", user_id=BASE)
    await record.wait_until(lambda: record.autocomplete_choices is not None or bool(record.rejected), 10)
    assert record.rejected == [] and record.autocomplete_choices == []


async def test_a_database_removed_under_the_bot_is_told_as_storage_failing_not_a_bug(world: BotWorld) -> None:
    """The database's files deleted while the bot runs: a /sort is refused before it changes anything,
    with a reply saying the bot's storage can't be written and to tell the server owner (not 'something
    went wrong on my side' with an error id); the bot keeps answering, and nothing is written into
    the removed file, where it would vanish at the next stop."""
    await world.start_bot()
    await world.link(BASE, "member0")
    path = world.settings.resolved_database_path
    for end in ("", "-wal", "-shm"):
        Path(f"{path}{end}").unlink(missing_ok=True)
    reply = await world.final(await world.command("sort", user=BASE))
    assert "the bot's storage can't be written" in (reply.content or "")
    assert "tell the server owner" in (reply.content or "") and "error id" not in (reply.content or "")
    assert world.spotify.playlists == {}
    assert (await world.final(await world.command("sort", user=BASE))).content == reply.content
