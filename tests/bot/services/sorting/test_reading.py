"""Reading a member's Liked Songs into storage: un-liked songs leave the playlists within weeks,
and the weekly refresh stays cheap when nothing was removed."""

from __future__ import annotations

from datetime import timedelta

from bot.services.playlist_plan import SortOptions
from bot.services.sorting.reading import RECONCILE_EVERY
from bot.spotify.client import SKIPPED_LOCAL, SKIPPED_UNAVAILABLE, SKIPPED_UNLISTED
from music import Track
from sandbox.library import synthetic_library
from sandbox.records import local_file, spotify_id
from storage.records import RunTrigger
from tests.bot.conftest import ALICE_SONGS, World

ALICE = 111
OPTIONS = SortOptions(min_playlist_size=1)


def liked_pages_read(world: World, since: int) -> int:
    return sum(1 for r in world.sandbox.requests[since:] if r.method == "GET" and r.path.startswith("/v1/me/tracks"))


async def weekly_refresh(world: World) -> None:
    world.clock.now += timedelta(days=7)
    await world.services.sorting.sort(ALICE, OPTIONS, trigger=RunTrigger.SCHEDULE, incremental=True)


async def test_a_weekly_refresh_takes_unliked_songs_out_of_the_playlists(world: World) -> None:
    """Songs un-liked since the last sort leave storage and every genrebot playlist at the next refresh."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, OPTIONS)
    gone = [t for t, _ in world.sandbox.users["alice"].liked[10:15]]
    world.sandbox.unlike("alice", [t.id for t in gone])
    await weekly_refresh(world)
    assert await world.services.db.liked.count(ALICE) == ALICE_SONGS - 5
    held = {uri for p in world.sandbox.playlists_of("alice") for uri, _ in p.items}
    assert not {t.uri for t in gone} & held
    assert len(held) == ALICE_SONGS - 5


async def test_a_weekly_refresh_with_nothing_unliked_reads_one_page(world: World) -> None:
    """New likes only: the counts agree, so the refresh reads the newest page and no more."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, OPTIONS)
    world.sandbox.like("alice", synthetic_library(4, seed=70, prefix="week"))
    since = len(world.sandbox.requests)
    await weekly_refresh(world)
    assert liked_pages_read(world, since) == 1
    assert await world.services.db.liked.count(ALICE) == ALICE_SONGS + 4


async def test_local_files_among_liked_songs_do_not_force_a_full_read_every_week(world: World) -> None:
    """Entries genrebot cannot store (a local file) are counted once, not read as a removal each week."""
    world.sandbox.like_local_file("alice", local_file("Me", "Home", "Demo tape", 95))
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, OPTIONS)
    since = len(world.sandbox.requests)
    await weekly_refresh(world)
    assert liked_pages_read(world, since) == 1


async def test_a_refresh_reads_everything_once_the_last_full_read_is_four_weeks_old(world: World) -> None:
    """Even when the counts agree, a full read happens at least every RECONCILE_EVERY."""
    await world.link(ALICE, "alice")
    await world.services.sorting.sort(ALICE, OPTIONS)
    world.clock.now += RECONCILE_EVERY
    since = len(world.sandbox.requests)
    await weekly_refresh(world)
    assert liked_pages_read(world, since) == -(-ALICE_SONGS // 50)


async def test_a_full_read_lists_songs_as_storage_does(world: World) -> None:
    """Newest first by the time each was liked; songs liked in the same second keep Spotify's order."""
    await world.link(ALICE, "alice")
    liked = world.sandbox.users["alice"].liked
    liked[3:9] = [(track, liked[3][1]) for track, _ in liked[3:9]]  # a batch liked at once
    liked[20], liked[21] = liked[21], liked[20]  # Spotify lists one song out of time order
    async with world.services.linking.client(ALICE) as client:
        read = await world.services.sorting.reader.read(ALICE, client, incremental=False, report_progress=print)
    stored = [song.track_id for song in await world.services.db.liked.list(ALICE)]
    assert read.track_ids == stored
    assert stored[3:9] == [track.id for track, _ in liked[3:9]]
    assert stored[20:22] == [liked[21][0].id, liked[20][0].id]


async def test_a_sort_of_liked_songs_counts_the_local_files_and_unavailable_songs_it_skipped(world: World) -> None:
    """Liked Songs that are local files or no longer on Spotify are told by reason, at the weekly refresh too."""
    world.sandbox.like_local_file("alice", local_file("Me", "Home", "Demo tape", 95))
    world.sandbox.make_unavailable([world.sandbox.users["alice"].liked[7][0].id])
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, OPTIONS)
    assert first.skipped == {SKIPPED_LOCAL: 1, SKIPPED_UNAVAILABLE: 1}
    assert first.total_songs == ALICE_SONGS - 1
    world.clock.now += timedelta(days=7)
    since = len(world.sandbox.requests)
    refresh = await world.services.sorting.sort(ALICE, OPTIONS, trigger=RunTrigger.SCHEDULE, incremental=True)
    assert liked_pages_read(world, since) == 1
    assert refresh.skipped == {SKIPPED_LOCAL: 1, SKIPPED_UNAVAILABLE: 1}


async def test_liked_songs_spotify_counts_but_does_not_list_are_told_and_the_rest_sorted(world: World) -> None:
    """Pages shorter than their limit (spotify/web-api#212): every listed song is sorted, and the
    member is told how many Spotify counted without listing."""
    liked = [t.id for t, _ in world.sandbox.users["alice"].liked]
    world.sandbox.make_unlisted([liked[20], liked[-1]])
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, OPTIONS)
    assert report.total_songs == ALICE_SONGS - 2
    assert report.skipped == {SKIPPED_UNLISTED: 2}
    world.clock.now += timedelta(days=7)
    since = len(world.sandbox.requests)
    refresh = await world.services.sorting.sort(ALICE, OPTIONS, trigger=RunTrigger.SCHEDULE, incremental=True)
    assert liked_pages_read(world, since) == 1 and refresh.skipped == {SKIPPED_UNLISTED: 2}


async def test_songs_with_odd_names_artists_and_dates_are_sorted_and_stored_as_spotify_gave_them(world: World) -> None:
    """Very long, emoji, right-to-left and combining-character names, no artist or an unnamed one,
    release dates to the year or month or "0000": each is stored exactly and placed in a playlist."""
    odd = [
        Track(spotify_id("odd:long"), "x" * 600, ("A" * 500,), (spotify_id("odd:a1"),), "B" * 400, "1979"),
        Track(spotify_id("odd:scripts"), "🎸🔥 שלום עולם e\u0301\u0301", ("مطرب",), (spotify_id("odd:a2"),), "ألبوم", "1979-06"),
        Track(spotify_id("odd:nobody"), "Nobody", (), (), "Alb", "0000"),
        Track(spotify_id("odd:unnamed"), "Unnamed artist", ("",), (spotify_id("odd:a4"),), "", "1980"),
    ]
    world.sandbox.like("alice", odd)
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, OPTIONS)
    assert report.total_songs == ALICE_SONGS + len(odd) and not report.skipped
    held = {uri for p in world.sandbox.playlists_of("alice") for uri, _ in p.items}
    assert {t.uri for t in odd} <= held
    stored = await world.services.db.tracks.get_many([t.id for t in odd])
    assert [(stored[t.id].name, stored[t.id].artists, stored[t.id].album, stored[t.id].release_date) for t in odd] == [
        (t.name, t.artists, t.album, t.release_date) for t in odd
    ]
