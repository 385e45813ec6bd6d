"""Step 2 of a sort: a prediction for every song, classifying only what this model has not seen.

Predictions are kept per model version, so a re-sort classifies nothing and a new model
classifies everything once. Classification runs in a small shared pool, `CLASSIFY_CHUNK`
songs at a time, so a crowd of sorts never blocks the event loop or starves the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from bot.services.sorting.report import ReportProgress, SortProgress
from classifier import Classifier
from music import PredictionLike
from storage import Database

CLASSIFY_CHUNK = 1024


@dataclass(frozen=True)
class LibraryPredictions:
    by_track: dict[str, PredictionLike]  # a prediction for every song that has a stored track
    classified: int  # how many of them this run classified (the rest were stored already)


@dataclass(frozen=True)
class LibraryClassifier:
    db: Database
    classifier: Classifier
    classify_pool: Executor

    async def predictions_for(self, track_ids: Sequence[str], report_progress: ReportProgress) -> LibraryPredictions:
        """Stored predictions for this model, plus fresh ones (saved) for the songs it has not seen."""
        version = self.classifier.version
        predictions: dict[str, PredictionLike] = dict(await self.db.predictions.get_many(track_ids, version))
        stored = len(predictions)
        missing = [t for t in dict.fromkeys(track_ids) if t not in predictions]
        report_progress(SortProgress("classifying", 0, len(missing)))
        loop = asyncio.get_running_loop()
        for start in range(0, len(missing), CLASSIFY_CHUNK):
            chunk = missing[start : start + CLASSIFY_CHUNK]
            tracks = await self.db.tracks.get_many(chunk)
            ordered = [tracks[t] for t in chunk if t in tracks]
            results = await loop.run_in_executor(self.classify_pool, self.classifier.classify, ordered)
            fresh = {track.id: result for track, result in zip(ordered, results, strict=True)}
            await self.db.predictions.save_many(version, fresh)
            predictions.update(fresh)
            report_progress(SortProgress("classifying", min(start + CLASSIFY_CHUNK, len(missing)), len(missing)))
        return LibraryPredictions(predictions, classified=len(predictions) - stored)
