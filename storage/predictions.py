"""The classifier's answer per song and model version, so a song is classified once per model."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from music import PredictionLike
from storage.records import StoredPrediction
from storage.sql import SqlHandle, chunked, placeholders

_COLUMNS = "track_id, genre, genre_confidence, subgenre, subgenre_confidence, probabilities"


class PredictionRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def get_many(self, track_ids: Sequence[str], model_version: str) -> dict[str, StoredPrediction]:
        """This model's stored predictions among `track_ids`, by track id."""
        found: dict[str, StoredPrediction] = {}
        for chunk in chunked(list(dict.fromkeys(track_ids))):
            rows = await self.sql.fetchall(
                f"SELECT {_COLUMNS} FROM predictions "  # noqa: S608 - placeholders only
                f"WHERE model_version = ? AND track_id IN ({placeholders(len(chunk))})",
                [model_version, *chunk],
            )
            for row in rows:
                found[row["track_id"]] = StoredPrediction(
                    track_id=row["track_id"],
                    model_version=model_version,
                    genre=row["genre"],
                    genre_confidence=row["genre_confidence"],
                    subgenre=row["subgenre"],
                    subgenre_confidence=row["subgenre_confidence"],
                    genre_probabilities=json.loads(row["probabilities"]),
                )
        return found

    async def save_many(self, model_version: str, predictions: Mapping[str, PredictionLike]) -> None:
        if not predictions:
            return
        rows = [
            (
                track_id,
                model_version,
                p.genre,
                float(p.genre_confidence),
                p.subgenre,
                None if p.subgenre_confidence is None else float(p.subgenre_confidence),
                json.dumps({k: round(float(v), 5) for k, v in p.genre_probabilities.items()}),
            )
            for track_id, p in predictions.items()
        ]
        async with self.sql.transaction() as tx:
            await tx.executemany(
                """INSERT OR REPLACE INTO predictions (track_id, model_version, genre, genre_confidence,
                     subgenre, subgenre_confidence, probabilities) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )
