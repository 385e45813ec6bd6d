"""Predictions: stored per song and model version."""

from __future__ import annotations

from storage import Database
from storage.records import StoredPrediction
from tests.storage.conftest import Guess, track


async def test_a_prediction_reads_back_for_its_model_version(db: Database) -> None:
    """save_many then get_many returns the genre, subgenre, confidences and probabilities."""
    await db.tracks.upsert_many([track(1)])
    guess = Guess("rock", 0.8, "hard rock", 0.6, {"rock": 0.8, "pop": 0.2})
    await db.predictions.save_many("v1", {track(1).id: guess})
    assert await db.predictions.get_many([track(1).id], "v1") == {
        track(1).id: StoredPrediction(track(1).id, "v1", "rock", 0.8, "hard rock", 0.6, {"rock": 0.8, "pop": 0.2})
    }


async def test_another_model_versions_predictions_are_not_returned(db: Database) -> None:
    """A new model classifies afresh: v1's answers are invisible to v2."""
    await db.tracks.upsert_many([track(1)])
    await db.predictions.save_many("v1", {track(1).id: Guess("rock")})
    assert await db.predictions.get_many([track(1).id], "v2") == {}
