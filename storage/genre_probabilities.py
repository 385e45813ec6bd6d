"""The model's genre probabilities per song and model version, so a song is classified once per
model however many members like it and however often they sort.

Each value is the model's probability for every genre of its taxonomy, as the caller encodes
it (the sort stores float16, little-endian: 248 bytes for 124 genres); storage keeps the bytes
and knows nothing of models. The version is the caller's key (the bot's is
`Classifier.answers_version`); `drop_other_versions` forgets every other key's rows at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from storage.sql import SqlHandle, chunked, placeholders


class GenreProbabilityRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def get_many(self, track_ids: Sequence[str], model_version: str) -> dict[str, bytes]:
        """This model's stored probabilities among `track_ids`, by track id."""
        found: dict[str, bytes] = {}
        for chunk in chunked(list(dict.fromkeys(track_ids))):
            rows = await self.sql.fetchall(
                "SELECT track_id, probabilities FROM genre_probabilities "  # noqa: S608 - placeholders only
                f"WHERE model_version = ? AND track_id IN ({placeholders(len(chunk))})",
                [model_version, *chunk],
            )
            found.update((row["track_id"], bytes(row["probabilities"])) for row in rows)
        return found

    async def save_many(self, model_version: str, probabilities: Mapping[str, bytes]) -> None:
        """Store (or replace) the probabilities of these songs for this model."""
        if not probabilities:
            return
        async with self.sql.transaction() as tx:
            await tx.executemany(
                "INSERT OR REPLACE INTO genre_probabilities (track_id, model_version, probabilities) VALUES (?, ?, ?)",
                [(track_id, model_version, blob) for track_id, blob in probabilities.items()],
            )

    async def drop_other_versions(self, model_version: str) -> int:
        """Delete every other model's probabilities (dead weight once that model is gone); how many."""
        async with self.sql.transaction() as tx:
            return await tx.execute("DELETE FROM genre_probabilities WHERE model_version != ?", [model_version])
