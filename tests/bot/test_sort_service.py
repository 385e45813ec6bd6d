"""The sort service end to end: OAuth link, sort, re-sort, weekly refresh, faults, unlink."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.errors import AlreadyRunning, NotLinked
from bot.services.playlist_plan import SortOptions
from bot.services.refresh import weekly_summary
from bot.spotify.errors import NeedsRelink, SpotifyQuotaExceeded
from sandbox.library import synthetic_library
from storage.records import LinkStatus, RunStatus
from tests.bot.conftest import World

ALICE = 111


async def test_linking_through_the_consent_page_stores_an_encrypted_token(world: World) -> None:
    response = await world.link(ALICE, "alice")
    assert response.status == 200 and "Linked as Alice" in await response.text()
    user = await world.runtime.db.users.get(ALICE)
    assert user is not None and user.status == LinkStatus.LINKED
    assert user.spotify_id == world.sandbox.users["alice"].account_id
    assert (await world.runtime.db.tokens.load(ALICE) or {}).get("refresh_token")


async def test_sort_creates_one_private_playlist_per_genre_and_a_resort_reuses_them(world: World) -> None:
    await world.link(ALICE, "alice")
    first = await world.runtime.sorter.sort(ALICE, SortOptions())
    assert first.total_songs == 239 and first.new_songs == 239
    assert len(first.playlists) >= 4 and all(p.created for p in first.playlists)
    assert sum(p.count for p in first.playlists) + first.unsorted == 239
    assert first.chart_png.startswith(b"\x89PNG")
    for outcome in first.playlists:
        playlist = world.sandbox.playlists[outcome.playlist_id]
        assert playlist.name == outcome.name and not playlist.public
        assert len(playlist.items) == outcome.count
    requests_before = len(world.sandbox.requests)
    second = await world.runtime.sorter.sort(ALICE, SortOptions())
    assert {p.playlist_id for p in second.playlists} == {p.playlist_id for p in first.playlists}
    assert not any(p.created for p in second.playlists) and second.new_songs == 0
    assert len(world.sandbox.playlists_of("alice")) == len(first.playlists)
    # Already classified songs are not classified again: the cached predictions are used.
    assert len(world.sandbox.requests) > requests_before
    runs = await world.runtime.db.runs.recent(ALICE)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]


async def test_dry_run_writes_nothing(world: World) -> None:
    await world.link(ALICE, "alice")
    report = await world.runtime.sorter.sort(ALICE, SortOptions(dry_run=True))
    assert report.playlists and all(p.playlist_id is None for p in report.playlists)
    assert world.sandbox.playlists == {}


async def test_weekly_refresh_reads_only_new_songs_and_summarises_them(world: World) -> None:
    await world.link(ALICE, "alice")
    await world.runtime.sorter.sort(ALICE, SortOptions(min_playlist_size=1))
    await world.runtime.refresher.remember_options(ALICE, SortOptions(min_playlist_size=1))
    schedule = await world.runtime.refresher.set_schedule(ALICE, weekday=4, hour=18, timezone="Europe/Berlin")
    world.sandbox.like("alice", synthetic_library(14, seed=77, prefix="week"))
    world.clock.now = schedule.next_run + timedelta(minutes=1)
    due = await world.runtime.refresher.due()
    assert [s.discord_id for s in due] == [ALICE]
    before = world.sandbox.count("GET", "/v1/me/tracks")
    requests_before = world.sandbox.count()
    log_start = len(world.sandbox.requests)
    report = await world.runtime.refresher.refresh(due[0])
    assert world.sandbox.count("GET", "/v1/me/tracks") - before == 1
    # A handful of requests: one page read, then per playlist a followed check, one insert at
    # the top if it got new songs, and its description; never a rewrite of whole playlists.
    assert world.sandbox.count() - requests_before <= 2 + 3 * len(report.playlists)
    assert not [r for r in world.sandbox.requests[log_start:] if r.method == "PUT" and r.path.endswith("/items")]
    new_uris = {t.uri for t, _ in world.sandbox.users["alice"].liked[:14]}
    for outcome in report.playlists:
        items = [u for u, _ in world.sandbox.playlists[outcome.playlist_id].items]
        assert len(items) == outcome.count  # the playlist holds the full new list
        assert set(items[: outcome.new_count]) <= new_uris  # new songs at the top
    assert report.new_songs == 14 and report.total_songs == 239 + 14
    assert weekly_summary(report).startswith("14 new songs: +")
    assert sum(p.new_count for p in report.playlists) + report.unsorted >= 14 - report.unsorted
    assert await world.runtime.refresher.due() == []  # moved on a week
    moved = await world.runtime.db.schedules.get(ALICE)
    assert moved is not None and moved.next_run is not None and moved.next_run > world.clock.now


async def test_a_second_sort_while_one_runs_is_refused(world: World) -> None:
    import asyncio

    await world.link(ALICE, "alice")
    first = asyncio.create_task(world.runtime.sorter.sort(ALICE, SortOptions()))
    await asyncio.sleep(0)
    with pytest.raises(AlreadyRunning):
        await world.runtime.sorter.sort(ALICE, SortOptions())
    await first


async def test_unlinked_member_is_told_to_link(world: World) -> None:
    with pytest.raises(NotLinked):
        await world.runtime.sorter.sort(999, SortOptions())


async def test_revoked_authorisation_marks_the_member_needs_relink(world: World) -> None:
    await world.link(ALICE, "alice")
    world.sandbox.revoke_refresh_tokens("alice")
    with pytest.raises(NeedsRelink):
        await world.runtime.sorter.sort(ALICE, SortOptions())
    user = await world.runtime.db.users.get(ALICE)
    assert user is not None and user.status == LinkStatus.NEEDS_RELINK
    assert (await world.runtime.db.runs.recent(ALICE))[0].status == RunStatus.FAILED
    await world.link(ALICE, "alice")  # linking again heals it
    assert (await world.runtime.sorter.sort(ALICE, SortOptions())).total_songs == 239


async def test_quota_exhaustion_pauses_the_run_and_the_next_run_succeeds(world: World) -> None:
    await world.link(ALICE, "alice")
    world.sandbox.inject(429, 1, retry_after=7200, reason="QUOTA_EXCEEDED")
    with pytest.raises(SpotifyQuotaExceeded):
        await world.runtime.sorter.sort(ALICE, SortOptions())
    assert (await world.runtime.db.runs.recent(ALICE))[0].status == RunStatus.PAUSED
    assert world.sandbox.playlists == {}
    report = await world.runtime.sorter.sort(ALICE, SortOptions())
    assert report.playlists


async def test_expired_access_token_is_refreshed_and_saved(world: World) -> None:
    await world.link(ALICE, "alice")
    old = (await world.runtime.db.tokens.load(ALICE) or {})["access_token"]
    world.sandbox.expire_access_tokens()
    await world.runtime.sorter.sort(ALICE, SortOptions(dry_run=True))
    assert (await world.runtime.db.tokens.load(ALICE) or {})["access_token"] != old


async def test_unlink_forgets_the_member(world: World) -> None:
    await world.link(ALICE, "alice")
    await world.runtime.sorter.sort(ALICE, SortOptions())
    assert await world.runtime.accounts.unlink(ALICE)
    assert await world.runtime.db.tokens.load(ALICE) is None
    assert await world.runtime.db.playlists.get_all(ALICE) == {}
    with pytest.raises(NotLinked):
        await world.runtime.sorter.sort(ALICE, SortOptions())
