"""Classifying a sort's songs: while Liked Songs are still being read, each song once, and nothing
stored when the read fails.

The model is watched, not replaced: `WatchedModel` hands every call to the shipped classifier and
notes which songs it was asked about. Spotify's last page is held back (`hold_liked_page`) until
the model has been asked, so the order is seen through events, never through timing.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from bot.services.playlist_plan import SortOptions
from bot.spotify.retry import SpotifyRefused
from classifier import Classifier
from classifier.features import TrackLike
from classifier.float16 import HALF
from music import Track
from sandbox.library import synthetic_library
from storage.records import RunStatus
from tests.bot.conftest import World

CAROL = 333
PAGES = 8
OPTIONS = SortOptions(min_playlist_size=1)
# Only bounds a sort that would otherwise wait forever for a page held until the model is asked.
DEADLOCK_S = 120


class WatchedModel:
    """The shipped classifier, noting the songs of every `genre_probabilities` call."""

    def __init__(self, real: Classifier) -> None:
        self.real = real
        self.batches: list[list[str]] = []
        self.last_seen: dict[str, TrackLike] = {}  # each song as the model was last shown it
        self.asked = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def genre_probabilities(self, tracks: Sequence[TrackLike]) -> np.ndarray:
        self.batches.append([track.id for track in tracks])  # type: ignore[attr-defined]
        self.last_seen.update((track.id, track) for track in tracks)  # type: ignore[attr-defined]
        self._loop.call_soon_threadsafe(self.asked.set)
        return self.real.genre_probabilities(tracks)


def watch_the_model(world: World) -> WatchedModel:
    sorting = world.services.sorting
    watched = WatchedModel(sorting.library_classifier.classifier)
    sorting.library_classifier = replace(sorting.library_classifier, classifier=watched)  # type: ignore[arg-type]
    return watched


async def link_carol(world: World) -> list[str]:
    """Carol likes PAGES pages of songs; returns their ids, newest first."""
    world.sandbox.add_user("carol", "Carol", synthetic_library(PAGES * 50, seed=21, prefix="carol"))
    await world.link(CAROL, "carol")
    return [track.id for track, _ in world.sandbox.users["carol"].liked]


async def test_songs_are_classified_while_later_liked_songs_pages_are_still_being_read(world: World) -> None:
    """The first page's songs reach the model while Spotify still holds the last Liked Songs page."""
    watched = watch_the_model(world)
    liked = await link_carol(world)
    world.sandbox.hold_liked_page("carol", (PAGES - 1) * 50, watched.asked.wait)
    report = await asyncio.wait_for(world.services.sorting.sort(CAROL, OPTIONS), DEADLOCK_S)
    assert watched.batches[0][:50] == liked[:50]
    assert report.total_songs == len(liked)


async def test_a_first_sort_asks_the_model_about_each_song_once(world: World) -> None:
    """Songs classified during the read are used after it, not classified a second time."""
    watched = watch_the_model(world)
    liked = await link_carol(world)
    report = await world.services.sorting.sort(CAROL, OPTIONS)
    asked = [track_id for batch in watched.batches for track_id in batch]
    assert sorted(asked) == sorted(liked)
    assert report.classified == len(liked)


async def test_a_liked_songs_page_refused_mid_read_leaves_nothing_stored(world: World) -> None:
    """The first page is classified, then Spotify refuses the last: no song, like, prediction or playlist is stored."""
    watched = watch_the_model(world)
    liked = await link_carol(world)
    world.sandbox.hold_liked_page("carol", (PAGES - 1) * 50, watched.asked.wait, then_status=403)
    with pytest.raises(SpotifyRefused):
        await asyncio.wait_for(world.services.sorting.sort(CAROL, OPTIONS), DEADLOCK_S)
    db = world.services.db
    assert watched.batches  # the model had been asked about the first page
    assert await db.liked.count(CAROL) == 0
    assert await db.tracks.get_many(liked) == {}
    assert await db.genre_probabilities.get_many(liked, watched.real.answers_version) == {}
    assert not world.sandbox.playlists_of("carol")
    [run] = await world.services.sorting.recent_runs(CAROL)
    assert run.status == RunStatus.FAILED


async def test_a_song_read_without_audio_features_is_classified_with_those_already_stored(world: World) -> None:
    """Spotify serves this app no audio features, but storage holds some for a song: the model gets them."""
    watched = watch_the_model(world)
    liked = await link_carol(world)
    features = {"danceability": 0.71, "energy": 0.42, "tempo": 118.0}
    await world.services.db.tracks.upsert_many([Track(liked[7], "Earlier name", ("Someone",), audio_features=features)])
    await world.services.sorting.sort(CAROL, OPTIONS)
    assert watched.last_seen[liked[7]].audio_features == features
    assert watched.last_seen[liked[8]].audio_features is None


async def test_probabilities_an_earlier_build_stored_for_the_same_model_are_not_reused(world: World) -> None:
    """A song cached by a genrebot whose run-time code answered differently (here: the NaN row an
    infinite tempo gave before out-of-range audio values read as missing) is classified again."""
    watched = watch_the_model(world)
    liked = await link_carol(world)
    classifier = world.services.classifier
    nan_row = np.full(len(classifier.genres), np.nan, dtype=HALF).tobytes()
    await world.services.db.genre_probabilities.save_many(classifier.version, {liked[3]: nan_row})
    await world.services.sorting.sort(CAROL, OPTIONS)
    assert liked[3] in watched.last_seen


class BrokenModel(WatchedModel):
    """The shipped classifier failing when asked (as a model out of memory would)."""

    def genre_probabilities(self, tracks: Sequence[TrackLike]) -> np.ndarray:
        super().genre_probabilities(tracks[:0])  # noted as asked
        raise MemoryError("the model could not allocate its batch")


async def test_a_read_ahead_that_failed_while_the_read_failed_too_leaves_no_unretrieved_error(world: World) -> None:
    """The page classifier failed and then Spotify refused a page: the sort fails with Spotify's
    refusal, and the classifier's failure is collected, not left for asyncio to report as an
    unretrieved task exception when the task is freed."""
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    loop.set_exception_handler(lambda _, context: reported.append(str(context.get("message"))))
    sorting = world.services.sorting
    broken = BrokenModel(sorting.library_classifier.classifier)
    sorting.library_classifier = replace(sorting.library_classifier, classifier=broken)  # type: ignore[arg-type]
    await link_carol(world)

    async def once_the_page_classifier_has_failed() -> None:
        await broken.asked.wait()
        running = {task for task in asyncio.all_tasks()  # all_tasks: the tasks not done yet
                   if task.get_coro().__qualname__ == "ReadAhead._classify_pages"}  # type: ignore[union-attr]
        if running:
            await asyncio.wait(running)

    world.sandbox.hold_liked_page("carol", (PAGES - 1) * 50, once_the_page_classifier_has_failed, then_status=403)
    try:
        with pytest.raises(SpotifyRefused):
            await asyncio.wait_for(sorting.sort(CAROL, OPTIONS), DEADLOCK_S)
        gc.collect()
    finally:
        loop.set_exception_handler(None)
    assert [message for message in reported if "never retrieved" in message] == []
