"""The sort service against real parts: playlists made, reused and previewed, from Liked Songs and
from a playlist; faults and refusals."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import numpy as np
import pytest

from bot.services.audio_features import UNAVAILABLE_STATE
from bot.services.errors import AlreadyRunning, NotLinked
from bot.services.genre_names import key_label, playlist_name, resolve_genres
from bot.services.playlist_plan import PlaylistPlan, SongGenres, SortOptions
from bot.services.sorting import SortProgress
from bot.services.sorting.classifying import CLASSIFY_CHUNK
from bot.spotify.client import SKIPPED_LOCAL
from bot.spotify.errors import (
    OwnerPremiumRequired,
    PlaylistNotReadable,
    SpotifyQuotaExceeded,
    SpotifyUnavailable,
)
from music import SortSource
from sandbox.library import synthetic_library
from sandbox.records import local_file
from storage.records import RunStatus, RunTrigger
from tests.bot.conftest import ALICE_SONGS, World

ALICE = 111
BOB = 222  # Bob likes 1,200 synthetic songs by 100 artists


async def test_sort_makes_one_private_playlist_per_family_holding_its_songs(world: World) -> None:
    """By default a playlist per family, named after it; every song in one playlist or unsorted; all private."""
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, SortOptions())
    assert report.total_songs == report.new_songs == ALICE_SONGS
    assert len(report.playlists) >= 4 and all(p.created for p in report.playlists)
    assert sum(p.count for p in report.playlists) + report.unsorted == ALICE_SONGS
    assert report.chart_png is not None and report.chart_png.startswith(b"\x89PNG")
    taxonomy = world.services.classifier.taxonomy
    for outcome in report.playlists:
        assert outcome.playlist_id is not None  # not a dry run: every playlist exists
        playlist = world.sandbox.playlists[outcome.playlist_id]
        assert playlist.name == outcome.name == playlist_name(taxonomy.label(outcome.key, "family"))
        assert not playlist.public and len(playlist.items) == outcome.count


async def test_resort_updates_the_same_playlists(world: World) -> None:
    """A second sort reuses every playlist the first made and makes none."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, SortOptions())
    second = await world.services.sorting.sort(ALICE, SortOptions())
    assert {p.playlist_id for p in second.playlists} == {p.playlist_id for p in first.playlists}
    assert not any(p.created for p in second.playlists) and second.new_songs == 0
    assert len(world.sandbox.playlists_of("alice")) == len(first.playlists)
    assert [r.status for r in await world.services.sorting.recent_runs(ALICE)] == [RunStatus.SUCCEEDED] * 2


async def test_already_classified_songs_are_not_classified_again(world: World) -> None:
    """The first sort classifies every song; a re-sort with the same model uses the stored predictions."""
    await world.link(ALICE, "alice")
    first = await world.services.sorting.sort(ALICE, SortOptions())
    second = await world.services.sorting.sort(ALICE, SortOptions())
    assert first.classified == ALICE_SONGS
    assert second.classified == 0
    assert second.genre_mix == first.genre_mix
    version = world.services.classifier.answers_version
    liked = [track.id for track, _ in world.sandbox.users["alice"].liked]
    stored = await world.services.db.genre_probabilities.get_many(liked, version)
    assert len(stored) == ALICE_SONGS and {len(b) for b in stored.values()} == {2 * len(world.services.classifier.genres)}


async def test_songs_are_decided_over_the_members_whole_library(world: World) -> None:
    """Pooling is on: the sort decides as the classifier does for the library as one, not song by song."""
    await world.link(BOB, "bob")
    report = await world.services.sorting.sort(BOB, SortOptions(dry_run=True))
    classifier = world.services.classifier
    tracks = [track for track, _ in world.sandbox.users["bob"].liked]  # newest first, as the sort reads them
    chunks = [classifier.genre_probabilities(tracks[i : i + CLASSIFY_CHUNK]) for i in range(0, len(tracks), CLASSIFY_CHUNK)]
    stored = np.concatenate(chunks).astype("<f2").astype(np.float32)  # as the sort keeps them
    ids = [t.id for t in tracks]
    pooled = SongGenres.decide(ids, classifier.pool(tracks, stored), classifier.taxonomy).counts(classifier.taxonomy, "family")
    alone = SongGenres.decide(ids, stored, classifier.taxonomy).counts(classifier.taxonomy, "family")
    assert report.genre_mix == pooled != alone


async def test_a_genre_level_sort_makes_a_playlist_per_genre(world: World) -> None:
    """level='genre': playlists keyed family/genre and named after the genre."""
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, SortOptions(level="genre"))
    taxonomy = world.services.classifier.taxonomy
    assert report.playlists and all("/" in p.key for p in report.playlists)
    for outcome in report.playlists:
        family, genre = outcome.key.split("/")
        assert taxonomy.family_of(genre) == family
        assert outcome.playlist_id is not None  # not a dry run: every playlist exists
        assert world.sandbox.playlists[outcome.playlist_id].name == playlist_name(key_label(outcome.key, taxonomy))


async def test_a_genre_named_like_its_family_gets_a_playlist_name_of_its_own(world: World) -> None:
    """Sorting by family, then by genre, leaves no two playlists with one name: the Rock genre's
    playlist is not a second 'Rock · genrebot' beside the Rock family's."""
    await world.link(ALICE, "alice")
    by_family = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))
    by_genre = await world.services.sorting.sort(ALICE, SortOptions(level="genre", min_playlist_size=1))
    taxonomy = world.services.classifier.taxonomy
    twins = {f"{taxonomy.family_of(g)}/{g}" for g in taxonomy.genres
             if taxonomy.label(g, "genre") == taxonomy.label(taxonomy.family_of(g), "family")}
    assert twins & {o.key for o in by_genre.playlists}, "the library has a genre named like its family"
    names = [p.name for p in world.sandbox.playlists_of("alice")]
    assert len(by_family.playlists) + len(by_genre.playlists) == len(names) == len(set(names)), sorted(names)


async def test_a_sort_of_picked_families_and_genres_makes_only_their_playlists(world: World) -> None:
    """Picking the library's biggest family and a genre of another one makes exactly those two playlists."""
    await world.link(ALICE, "alice")
    preview = await world.services.sorting.sort(ALICE, SortOptions(level="genre", dry_run=True, min_playlist_size=1))
    taxonomy = world.services.classifier.taxonomy
    family = max(preview.genre_mix, key=lambda f: preview.genre_mix[f])
    genre = next(p.key.split("/")[1] for p in preview.playlists if not p.key.startswith(f"{family}/"))
    # Qualified as autocomplete offers it: a genre's label can also name a family ("R&B" is the
    # R&B & Soul family's alias and the r-n-b genre's label), and alone it reads as the family.
    picked = resolve_genres([taxonomy.label(family, "family"), f"{taxonomy.label(genre, 'genre')} (genre)"], taxonomy)
    report = await world.services.sorting.sort(ALICE, SortOptions(genres=picked, min_playlist_size=1))
    assert {p.name for p in report.playlists} == {
        playlist_name(taxonomy.label(family, "family")), playlist_name(key_label(picked[1], taxonomy))}
    assert report.not_chosen > 0


async def test_a_sort_counts_the_members_songs_per_family_and_per_genre(world: World) -> None:
    """The leaderboards' counts at both levels add up to the songs the sort decided."""
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, SortOptions())
    stats = world.services.stats
    families, genres = await stats.member_mix(ALICE, "family"), await stats.member_mix(ALICE, "genre")
    assert families == report.genre_mix and sum(genres.values()) == sum(families.values()) == ALICE_SONGS
    taxonomy = world.services.classifier.taxonomy
    for family, count in families.items():
        assert sum(n for g, n in genres.items() if taxonomy.family_of(g) == family) == count


async def test_a_members_own_sort_is_what_their_weekly_refresh_repeats(world: World) -> None:
    """A /sort's choices (not its dry_run) become the options the member's weekly refresh sorts with."""
    await world.link(ALICE, "alice")
    chosen = SortOptions(genres=("jazz",), level="genre", min_confidence=0.25, min_playlist_size=2, multi=True)
    await world.services.sorting.sort(ALICE, chosen)
    assert await world.services.weekly_refresh.saved_options(ALICE) == chosen


async def test_a_dry_run_a_refresh_and_the_demo_leave_the_weekly_refresh_options_alone(world: World) -> None:
    """Only a member's own real sort changes what the weekly refresh repeats: not a preview, not the
    refresh's own sorts, not genrebot demo's."""
    await world.link(ALICE, "alice")
    chosen = SortOptions(min_playlist_size=2, multi=True)
    await world.services.sorting.sort(ALICE, chosen)
    await world.services.sorting.sort(ALICE, SortOptions(level="genre", dry_run=True))
    await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=7), trigger=RunTrigger.SCHEDULE)
    await world.services.sorting.sort(ALICE, SortOptions(min_confidence=0.5), trigger=RunTrigger.DEMO)
    assert await world.services.weekly_refresh.saved_options(ALICE) == chosen


async def test_dry_run_writes_nothing(world: World) -> None:
    """A dry run plans the playlists but makes no Spotify playlist."""
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, SortOptions(dry_run=True))
    assert report.playlists and all(p.playlist_id is None for p in report.playlists)
    assert world.sandbox.playlists == {}


async def test_a_second_sort_while_one_runs_is_refused(world: World) -> None:
    """While a member's sort runs, another sort for them raises AlreadyRunning."""
    await world.link(ALICE, "alice")
    reading = asyncio.Event()

    async def on_progress(progress: SortProgress) -> None:
        if progress.stage == "reading":
            reading.set()

    first = asyncio.create_task(world.services.sorting.sort(ALICE, SortOptions(), progress=on_progress))
    await reading.wait()
    with pytest.raises(AlreadyRunning):
        await world.services.sorting.sort(ALICE, SortOptions())
    assert (await first).total_songs == ALICE_SONGS


async def test_unlinked_member_is_told_to_link(world: World) -> None:
    """Sorting for a member who never linked raises NotLinked."""
    with pytest.raises(NotLinked):
        await world.services.sorting.sort(999, SortOptions())


async def test_a_quota_429_stops_every_members_sorts_until_the_pause_ends(world: World) -> None:
    """After QUOTA_EXCEEDED, no member's sort reaches Spotify until the pause ends; then sorts work."""
    await world.link(ALICE, "alice")
    await world.link(BOB, "bob")
    world.sandbox.inject(429, 1, retry_after=7200, reason="QUOTA_EXCEEDED")
    with pytest.raises(SpotifyQuotaExceeded) as caught:
        await world.services.sorting.sort(ALICE, SortOptions())
    assert caught.value.resume_at == world.clock.now + timedelta(hours=2)
    assert world.sandbox.playlists == {}
    asked = world.sandbox.count()
    with pytest.raises(SpotifyQuotaExceeded):
        await world.services.sorting.sort(BOB, SortOptions())
    assert world.sandbox.count() == asked, "nothing is asked of Spotify during the pause"
    world.clock.now += timedelta(hours=2)
    assert (await world.services.sorting.sort(BOB, SortOptions())).playlists


async def test_a_sort_stopped_by_the_quota_is_recorded_failed_not_paused(world: World) -> None:
    """A /sort does not resume by itself, so its run says failed, with the quota as the reason."""
    await world.link(ALICE, "alice")
    world.sandbox.inject(429, 1, retry_after=7200, reason="QUOTA_EXCEEDED")
    with pytest.raises(SpotifyQuotaExceeded):
        await world.services.sorting.sort(ALICE, SortOptions())
    run = (await world.services.sorting.recent_runs(ALICE))[0]
    assert run.status == RunStatus.FAILED and run.error is not None and "quota" in run.error


@pytest.mark.parametrize("retry_after", ["inf", "1e12"])
async def test_an_infinite_or_absurd_quota_retry_after_still_ends_the_sort_with_a_date(
    world: World, retry_after: str
) -> None:
    """Retry-After "inf" or "1e12" ends the sort with SpotifyQuotaExceeded and a real date, never an overflow."""
    await world.link(ALICE, "alice")
    world.sandbox.exceed_quota(retry_after)
    with pytest.raises(SpotifyQuotaExceeded) as caught:
        await world.services.sorting.sort(ALICE, SortOptions())
    assert world.clock.now < caught.value.resume_at <= world.clock.now + timedelta(days=1)


async def test_a_lapsed_owner_premium_gets_its_own_error_and_one_operator_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Every sort fails with OwnerPremiumRequired; the operator is told once; audio features stay unknown."""
    await world.link(ALICE, "alice")
    await world.link(BOB, "bob")
    world.sandbox.owner_premium = False
    for member in (ALICE, BOB, ALICE):
        with pytest.raises(OwnerPremiumRequired):
            await world.services.sorting.sort(member, SortOptions())
    told = [r for r in caplog.records if r.levelno >= logging.ERROR and "Premium" in r.getMessage()]
    assert len(told) == 1
    assert await world.services.db.app_state.get(UNAVAILABLE_STATE) is None


async def test_spotify_down_fails_the_run_with_a_reason(world: World) -> None:
    """When Spotify keeps answering 503, the run is recorded failed with the typed error's text."""
    await world.link(ALICE, "alice")
    world.sandbox.inject(503, 40)
    with pytest.raises(SpotifyUnavailable):
        await world.services.sorting.sort(ALICE, SortOptions())
    run = (await world.services.sorting.recent_runs(ALICE))[0]
    assert run.status == RunStatus.FAILED and run.error == "SpotifyUnavailable: Spotify answered 503"


def road_trip(world: World, name: str = "Road trip 2019", songs: int = 30) -> SortSource:
    """A playlist of Alice's own: half of it liked songs, half not, and one local file."""
    liked = [t for t, _ in world.sandbox.users["alice"].liked[: songs // 2]]
    others = synthetic_library(songs - len(liked), seed=21, prefix="road")
    garage = local_file("Garage Band", "Tapes", "Demo", 180)
    playlist = world.sandbox.add_playlist("alice", name, [*liked, garage, *others])
    return SortSource(playlist.id, name)


async def test_sorting_a_playlist_makes_playlists_named_after_it_apart_from_liked_songs(world: World) -> None:
    """Liked Songs then a playlist: two sets of playlists, the playlist's named 'Genre · Road trip 2019 · genrebot'."""
    await world.link(ALICE, "alice")
    source = road_trip(world)
    liked = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1))
    report = await world.services.sorting.sort(ALICE, SortOptions(min_playlist_size=1), source=source)
    assert report.source == source and report.total_songs == 30
    assert {o.playlist_id for o in report.playlists}.isdisjoint({o.playlist_id for o in liked.playlists})
    for outcome in report.playlists:
        assert outcome.playlist_id is not None  # not a dry run: every playlist exists
        playlist = world.sandbox.playlists[outcome.playlist_id]
        assert playlist.name == outcome.name and outcome.name.endswith(" · Road trip 2019 · genrebot")
        assert "your playlist “Road trip 2019”" in playlist.description
    assert sum(o.count for o in report.playlists) == 30


async def test_resorting_a_playlist_updates_the_same_playlists(world: World) -> None:
    """Same source and genre, same playlist: a second sort of the playlist makes none."""
    await world.link(ALICE, "alice")
    source = road_trip(world)
    first = await world.services.sorting.sort(ALICE, SortOptions(), source=source)
    second = await world.services.sorting.sort(ALICE, SortOptions(), source=source)
    assert [o.playlist_id for o in second.playlists] == [o.playlist_id for o in first.playlists]
    assert not any(o.created for o in second.playlists) and second.new_songs == 0


async def test_a_playlist_sort_says_what_it_skipped(world: World) -> None:
    """The playlist's local file is not sorted, and the report counts it."""
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, SortOptions(), source=road_trip(world))
    assert report.skipped == {SKIPPED_LOCAL: 1}


async def test_a_long_playlist_name_is_shortened_to_spotifys_limit(world: World) -> None:
    """A 100-character source name still gives playlist names Spotify accepts (at most 100 characters)."""
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, SortOptions(), source=road_trip(world, name="Long " * 20))
    assert report.playlists and all(len(o.name) <= 100 and o.name.endswith("… · genrebot") for o in report.playlists)


async def test_a_playlist_named_with_dollar_signs_is_sorted_and_charted(world: World) -> None:
    """A playlist called "$$ Cash $\\frac$" (Spotify takes any name) sorts, and its chart is drawn."""
    await world.link(ALICE, "alice")
    report = await world.services.sorting.sort(ALICE, SortOptions(), source=road_trip(world, name="$$ Cash $\\frac$"))
    assert report.playlists and report.chart_png is not None and report.chart_png.startswith(b"\x89PNG")
    assert all(o.name.endswith(" · $$ Cash $\\frac$ · genrebot") for o in report.playlists)


async def test_someone_elses_playlist_fails_the_run_with_a_reason(world: World) -> None:
    """Bob's playlist is refused by Spotify (403): the sort raises PlaylistNotReadable and records why."""
    await world.link(ALICE, "alice")
    bobs = world.sandbox.add_playlist("bob", "Bob's mix", synthetic_library(5, seed=22), public=True)
    with pytest.raises(PlaylistNotReadable):
        await world.services.sorting.sort(ALICE, SortOptions(), source=SortSource(bobs.id, "Bob's mix"))
    run = (await world.services.sorting.recent_runs(ALICE))[0]
    assert run.status == RunStatus.FAILED and run.error is not None and "PlaylistNotReadable" in run.error


async def test_a_refresh_rewrites_a_playlist_whose_other_songs_changed_at_the_same_count(world: World) -> None:
    """One song moved out and another in since the last write (same count): the playlist is rewritten,
    not just given the new song (pooling can move an old song when new songs by its artist arrive)."""
    await world.link(ALICE, "alice")
    a, b, c, d, new = [track.id for track, _ in world.sandbox.users["alice"].liked][:5]
    writer = world.services.sorting.writer
    async with world.services.linking.client(ALICE) as client:
        [made] = await writer.write(ALICE, client, PlaylistPlan({"rock": [a, b, c]}, labels={"rock": "Rock"}),
                                    {a, b, c}, incremental=False, report_progress=lambda _: None)
        await writer.write(ALICE, client, PlaylistPlan({"rock": [new, a, b, d]}, labels={"rock": "Rock"}),
                           {new}, incremental=True, report_progress=lambda _: None)
    assert made.playlist_id is not None
    items = [uri for uri, _ in world.sandbox.playlists[made.playlist_id].items]
    assert items == [f"spotify:track:{t}" for t in (new, a, b, d)]
