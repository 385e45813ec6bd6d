"""Genre probabilities: stored per song and model version, as the bytes the caller gave."""

from __future__ import annotations

from storage import Database
from tests.storage.conftest import track


async def test_probabilities_read_back_for_their_model_version(db: Database) -> None:
    """save_many then get_many returns each song's bytes unchanged."""
    await db.genre_probabilities.save_many("v1", {track(1).id: b"\x00\x3c" * 3, track(2).id: b"\x01\x02"})
    assert await db.genre_probabilities.get_many([track(1).id, track(2).id, track(3).id], "v1") == {
        track(1).id: b"\x00\x3c" * 3, track(2).id: b"\x01\x02"}


async def test_another_model_versions_probabilities_are_not_returned(db: Database) -> None:
    """A new model classifies afresh: v1's answers are invisible to v2."""
    await db.genre_probabilities.save_many("v1", {track(1).id: b"\x00\x3c"})
    assert await db.genre_probabilities.get_many([track(1).id], "v2") == {}


async def test_saving_again_replaces_the_songs_probabilities(db: Database) -> None:
    """The last save of a song for a model wins."""
    await db.genre_probabilities.save_many("v1", {track(1).id: b"\x00\x3c"})
    await db.genre_probabilities.save_many("v1", {track(1).id: b"\x00\x38"})
    assert await db.genre_probabilities.get_many([track(1).id], "v1") == {track(1).id: b"\x00\x38"}


async def test_a_thousand_songs_read_back_across_query_chunks(db: Database) -> None:
    """More ids than one IN (...) query takes are read in chunks, none lost."""
    blobs = {track(i).id: i.to_bytes(2, "little") for i in range(1200)}
    await db.genre_probabilities.save_many("v1", blobs)
    assert await db.genre_probabilities.get_many(list(blobs), "v1") == blobs


async def test_dropping_other_versions_keeps_only_the_named_models_probabilities(db: Database) -> None:
    """After a model upgrade the old model's rows are dead weight: they go, the current ones stay."""
    await db.genre_probabilities.save_many("v1", {track(1).id: b"\x00\x3c", track(2).id: b"\x00\x3c"})
    await db.genre_probabilities.save_many("v2", {track(1).id: b"\x00\x38"})
    assert await db.genre_probabilities.drop_other_versions("v2") == 2
    assert await db.genre_probabilities.get_many([track(1).id, track(2).id], "v1") == {}
    assert await db.genre_probabilities.get_many([track(1).id], "v2") == {track(1).id: b"\x00\x38"}
