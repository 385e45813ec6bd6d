"""Saved sort preferences: real columns, genres in the member's order."""

from __future__ import annotations

from music import LIKED_SONGS, SortSource
from storage import Database
from storage.records import SortPreferences

CHOICES = SortPreferences(genres=("rock/hard-rock", "electronic"), level="genre", min_confidence=0.4,
                          min_playlist_size=3, multi=True)


async def test_saved_preferences_read_back_with_genres_in_order(db: Database) -> None:
    """save then get returns the same record."""
    await db.sort_preferences.save(7, CHOICES)
    assert await db.sort_preferences.get(7) == CHOICES


async def test_a_member_who_never_saved_reads_as_none(db: Database) -> None:
    """get() of a member without saved choices is None (the caller picks the defaults)."""
    assert await db.sort_preferences.get(7) is None


async def test_every_genre_and_no_chosen_genre_stay_different(db: Database) -> None:
    """genres=None (every genre) and genres=() (none chosen) read back as they were saved."""
    await db.sort_preferences.save(1, SortPreferences(None, "genre", 0.0, 5, False))
    await db.sort_preferences.save(2, SortPreferences((), "genre", 0.0, 5, False))
    every_genre, none_chosen = await db.sort_preferences.get(1), await db.sort_preferences.get(2)
    assert every_genre is not None and none_chosen is not None
    assert (every_genre.genres, none_chosen.genres) == (None, ())


async def test_saving_again_replaces_the_chosen_genres(db: Database) -> None:
    """A new save drops genres the member no longer chose."""
    await db.sort_preferences.save(7, CHOICES)
    await db.sort_preferences.save(7, SortPreferences(("pop",), "genre", 0.0, 5, False))
    saved = await db.sort_preferences.get(7)
    assert saved is not None and saved.genres == ("pop",)


async def test_preferences_are_kept_without_a_linked_account(db: Database) -> None:
    """The table does not depend on users: a member who never linked can still have saved choices."""
    await db.sort_preferences.save(99, CHOICES)
    assert await db.users.get(99) is None and await db.sort_preferences.get(99) == CHOICES


async def test_refresh_sources_read_back_in_the_members_order(db: Database) -> None:
    """Saved weekly-refresh sources come back as saved; a member who never chose has none."""
    sources = [SortSource("road", "Road Trip"), LIKED_SONGS, SortSource("party", "Party")]
    await db.sort_preferences.save_refresh_sources(7, sources)
    assert await db.sort_preferences.refresh_sources(7) == sources
    assert await db.sort_preferences.refresh_sources(8) == []


async def test_refresh_sources_are_kept_apart_from_the_sort_choices(db: Database) -> None:
    """Saving sort choices after each /sort leaves the chosen refresh sources alone; forget drops both."""
    await db.sort_preferences.save_refresh_sources(7, [SortSource("road", "Road Trip")])
    await db.sort_preferences.save(7, CHOICES)
    assert await db.sort_preferences.refresh_sources(7) == [SortSource("road", "Road Trip")]
    await db.sort_preferences.forget(7)
    assert await db.sort_preferences.refresh_sources(7) == [] and await db.sort_preferences.get(7) is None
