"""What a sort reports about its songs' artists: how many the model met in training, counted over
the songs sorted (songs classified now and songs classified by an earlier sort alike)."""

from __future__ import annotations

from bot.services.known_artists import KnownArtists
from bot.services.playlist_plan import SortOptions
from music import SortSource, Track
from sandbox.library import synthetic_library
from tests.bot.conftest import World
from tests.classifier.known_songs import by_artists_in_the_table, demo_songs_by_known_artists

DORA = 444
KNOWN, MADE_UP = 40, 60


async def link_dora(world: World, liked: list[Track]) -> None:
    world.sandbox.add_user("dora", "Dora", liked)
    await world.link(DORA, "dora")


def known_songs(world: World, count: int = KNOWN) -> list[Track]:
    return demo_songs_by_known_artists(world.services.classifier, count)


async def test_the_report_counts_the_songs_by_artists_the_model_knows(world: World) -> None:
    """40 songs by artists of the training sets and 60 by made-up artists: 40 of 100 known."""
    made_up = synthetic_library(MADE_UP, seed=31, prefix="dora")
    assert not by_artists_in_the_table(world.services.classifier, made_up)
    await link_dora(world, [*known_songs(world), *made_up])
    report = await world.services.sorting.sort(DORA, SortOptions(dry_run=True))
    assert report.known_artists == KnownArtists(songs=KNOWN + MADE_UP, known=KNOWN)
    assert report.known_artists.worth_telling


async def test_songs_classified_by_an_earlier_sort_are_counted_the_same(world: World) -> None:
    """A re-sort classifies nothing (the probabilities are stored) yet counts the same known artists,
    and songs liked since are counted with them."""
    await link_dora(world, [*known_songs(world), *synthetic_library(MADE_UP, seed=31)])
    first = await world.services.sorting.sort(DORA, SortOptions())
    again = await world.services.sorting.sort(DORA, SortOptions())
    assert again.classified == 0 and again.known_artists == first.known_artists == KnownArtists(100, KNOWN)
    world.sandbox.like("dora", synthetic_library(5, seed=32, prefix="later"))
    later = await world.services.sorting.sort(DORA, SortOptions())
    assert later.classified == 5 and later.known_artists == KnownArtists(105, KNOWN)


async def test_a_playlist_sort_counts_the_playlists_songs_not_the_library_it_is_pooled_with(world: World) -> None:
    """A playlist of 5 liked songs by known artists and 10 by made-up ones: 5 of 15, though the
    member's Liked Songs (all by known artists) are decided alongside it."""
    liked = known_songs(world)
    await link_dora(world, liked)
    mixtape = [*liked[:5], *synthetic_library(10, seed=33, prefix="mix")]
    playlist = world.sandbox.add_playlist("dora", "Mixtape", mixtape)
    await world.services.sorting.sort(DORA, SortOptions())
    report = await world.services.sorting.sort(DORA, SortOptions(), source=SortSource(playlist.id, "Mixtape"))
    assert report.total_songs == 15 and report.known_artists == KnownArtists(15, 5)


async def test_a_library_of_known_artists_is_not_worth_telling(world: World) -> None:
    """Every song by an artist the model met: all known, nothing to tell."""
    await link_dora(world, known_songs(world))
    report = await world.services.sorting.sort(DORA, SortOptions(dry_run=True))
    assert report.known_artists == KnownArtists(KNOWN, KNOWN) and not report.known_artists.worth_telling
