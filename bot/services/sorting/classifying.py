"""Step 2 of a sort: each song's family and genre, decided over the member's whole library.

The model's per-song genre probabilities are kept per model version (float16 blobs in storage),
so a re-sort classifies nothing and a new model classifies everything once; only songs without
stored probabilities are classified. Then the library is pooled (`Classifier.pool`: a song's
probabilities are blended with those of the member's other songs by the same artist and on the
same album) and decided (`SongGenres.decide`). Classification runs in a small shared pool,
`CLASSIFY_CHUNK` songs at a time, and pooling and deciding run there too, so a crowd of sorts
never blocks the event loop or starves the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from bot.services.playlist_plan import SongGenres
from bot.services.sorting.report import ReportProgress, SortProgress
from classifier import Classifier
from music import Track
from storage import Database

CLASSIFY_CHUNK = 1024
STORED_DTYPE = np.dtype("<f2")  # 2 bytes per genre: the stored probabilities decide the same


@dataclass(frozen=True)
class ClassifiedLibrary:
    songs: SongGenres  # every song of the library that has a stored track, in library order
    unclassified: list[str]  # songs with no stored track (nothing to classify them by)
    classified: int  # how many songs this run classified (the rest had stored probabilities)


@dataclass(frozen=True)
class LibraryClassifier:
    db: Database
    classifier: Classifier
    classify_pool: Executor

    async def classify(
        self, track_ids: Sequence[str], report_progress: ReportProgress, *, pool: bool = True,
        pool_with: Sequence[str] = (),
    ) -> ClassifiedLibrary:
        """Families and genres for these songs; with `pool` (the default), decided as one library
        together with the songs of `pool_with` (the member's Liked Songs when sorting a playlist)."""
        version = self.classifier.version
        wanted = list(dict.fromkeys(track_ids))
        unique = list(dict.fromkeys([*wanted, *pool_with])) if pool else wanted
        tracks = await self.db.tracks.get_many(unique)
        known = [t for t in unique if t in tracks]
        stored = self._readable(await self.db.genre_probabilities.get_many(known, version))
        missing = [t for t in known if t not in stored]
        report_progress(SortProgress("classifying", 0, len(missing)))
        loop = asyncio.get_running_loop()
        for start in range(0, len(missing), CLASSIFY_CHUNK):
            chunk = [tracks[t] for t in missing[start : start + CLASSIFY_CHUNK]]
            fresh = await loop.run_in_executor(self.classify_pool, self._classify_chunk, chunk)
            await self.db.genre_probabilities.save_many(version, fresh)
            stored.update(fresh)
            report_progress(SortProgress("classifying", min(start + CLASSIFY_CHUNK, len(missing)), len(missing)))
        library = [tracks[t] for t in known]
        decided = sum(1 for t in wanted if t in tracks)  # `known` starts with them, in their order
        songs = await loop.run_in_executor(self.classify_pool, self._decide, library, stored, pool, decided)
        return ClassifiedLibrary(songs, [t for t in wanted if t not in tracks], classified=len(missing))

    def _readable(self, blobs: Mapping[str, bytes]) -> dict[str, bytes]:
        """The stored blobs of this model's shape (anything else is classified again)."""
        size = len(self.classifier.genres) * STORED_DTYPE.itemsize
        return {track_id: blob for track_id, blob in blobs.items() if len(blob) == size}

    def _classify_chunk(self, tracks: Sequence[Track]) -> dict[str, bytes]:
        """Blocking: the model's probabilities for these songs, encoded for storage."""
        encoded = self.classifier.genre_probabilities(tracks).astype(STORED_DTYPE)
        return {track.id: row.tobytes() for track, row in zip(tracks, encoded, strict=True)}

    def _decide(self, library: Sequence[Track], stored: Mapping[str, bytes], pool: bool, decided: int) -> SongGenres:
        """Blocking: decode the library's probabilities, pool them, decide its first `decided` songs."""
        n_genres = len(self.classifier.genres)
        joined = b"".join(stored[track.id] for track in library)
        probabilities = np.frombuffer(joined, dtype=STORED_DTYPE).reshape(len(library), n_genres).astype(np.float32)
        if pool and len(library):
            probabilities = self.classifier.pool(library, probabilities)
        ids = [track.id for track in library[:decided]]
        return SongGenres.decide(ids, probabilities[:decided], self.classifier.taxonomy)
