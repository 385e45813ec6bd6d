"""Step 2 of a sort: each song's family and genre, decided over the member's whole library.

The model's per-song genre probabilities are kept per model as this genrebot runs it
(`Classifier.answers_version`; float16 blobs in storage), so a re-sort classifies nothing and a
new model, or a run-time change of its answers, classifies everything once; only songs without
stored probabilities are classified. Then the library is pooled (`Classifier.pool`: a song's
probabilities are blended with those of the member's other songs by the same artist and on the
same album) and decided (`SongGenres.decide`), and the songs whose artist the model met in
training are counted (`Classifier.known_artists`). That count is recomputed from the stored
tracks at every sort, not stored with the probabilities: it is one look-up of the keys pooling
computes anyway, it needs no schema change, and it cannot disagree with the loaded model (the
probabilities are kept per model version, the artist table is that version's). Classification
runs in a small shared pool, `CLASSIFY_CHUNK` songs at a time, and pooling and deciding run there
too, so a crowd of sorts never blocks the event loop or starves the rest.

A first sort's songs are classified while Liked Songs are still being read (`ReadAhead`): each
page is classified as it arrives, in memory, and used only if the song stored after the read is
the very song classified; pooling waits for the whole library, as it must.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import numpy as np

from bot.services.known_artists import KnownArtists
from bot.services.playlist_plan import SongGenres
from bot.services.sorting.report import ReportProgress, SortProgress
from classifier import Classifier
from classifier.float16 import HALF, to_float16, to_float32
from classifier.library import library_keys
from classifier.library import pool as pool_by_keys
from music import Track
from storage import Database

CLASSIFY_CHUNK = 1024
STORED_DTYPE = HALF  # 2 bytes per genre: the stored probabilities decide the same


@dataclass(frozen=True)
class ClassifiedLibrary:
    songs: SongGenres  # every song of the library that has a stored track, in library order
    unclassified: list[str]  # songs with no stored track (nothing to classify them by)
    classified: int  # how many songs this run classified (the rest had stored probabilities)
    known_artists: KnownArtists  # of `songs`, how many are by artists the model met in training


@dataclass(frozen=True)
class LibraryClassifier:
    db: Database
    classifier: Classifier
    classify_pool: Executor

    def read_ahead(self) -> ReadAhead:
        """Classify pages of songs while the rest of the source is read (`async with` it)."""
        return ReadAhead(self)

    async def classify(
        self, track_ids: Sequence[str], report_progress: ReportProgress, *, pool: bool = True,
        pool_with: Sequence[str] = (), read_ahead: ReadAhead | None = None,
        stored_tracks: Mapping[str, Track] | None = None,
    ) -> ClassifiedLibrary:
        """Families and genres for these songs; with `pool` (the default), decided as one library
        together with the songs of `pool_with` (the member's Liked Songs when sorting a playlist).
        `read_ahead`: what classified this read's pages as they came (its results are used).
        `stored_tracks`: songs the caller has just stored, as storage holds them (the rest are read from it)."""
        version = self.classifier.answers_version
        wanted = list(dict.fromkeys(track_ids))
        unique = list(dict.fromkeys([*wanted, *pool_with])) if pool else wanted
        as_stored = stored_tracks or {}
        tracks = {t: as_stored[t] for t in unique if t in as_stored}
        tracks.update(await self.db.tracks.get_many([t for t in unique if t not in as_stored]))
        known = [t for t in unique if t in tracks]
        stored = self._readable(await self.db.genre_probabilities.get_many(known, version))
        missing = [t for t in known if t not in stored]
        report_progress(SortProgress("classifying", 0, len(missing)))
        early = await read_ahead.results() if read_ahead is not None else {}
        # Only where the stored song is the one classified (a page has no audio features yet).
        ready = {t: early[t][1] for t in missing if t in early and early[t][0] == tracks[t]}
        if ready:
            await self.db.genre_probabilities.save_many(version, ready)
            stored.update(ready)
            report_progress(SortProgress("classifying", len(ready), len(missing)))
        rest = [t for t in missing if t not in ready]
        loop = asyncio.get_running_loop()
        for start in range(0, len(rest), CLASSIFY_CHUNK):
            chunk = [tracks[t] for t in rest[start : start + CLASSIFY_CHUNK]]
            fresh = await loop.run_in_executor(self.classify_pool, self._classify_chunk, chunk)
            await self.db.genre_probabilities.save_many(version, fresh)
            stored.update(fresh)
            done = len(ready) + min(start + CLASSIFY_CHUNK, len(rest))
            report_progress(SortProgress("classifying", done, len(missing)))
        library = [tracks[t] for t in known]
        decided = sum(1 for t in wanted if t in tracks)  # `known` starts with them, in their order
        songs, known_artists = await loop.run_in_executor(
            self.classify_pool, self._decide, library, stored, pool, decided
        )
        return ClassifiedLibrary(songs, [t for t in wanted if t not in tracks], len(missing), known_artists)

    def _readable(self, blobs: Mapping[str, bytes]) -> dict[str, bytes]:
        """The stored blobs of this model's shape (anything else is classified again)."""
        size = len(self.classifier.genres) * STORED_DTYPE.itemsize
        return {track_id: blob for track_id, blob in blobs.items() if len(blob) == size}

    def _classify_chunk(self, tracks: Sequence[Track]) -> dict[str, bytes]:
        """Blocking: the model's probabilities for these songs, encoded for storage."""
        encoded = to_float16(self.classifier.genre_probabilities(tracks))  # STORED_DTYPE
        return {track.id: row.tobytes() for track, row in zip(tracks, encoded, strict=True)}

    def _decide(
        self, library: Sequence[Track], stored: Mapping[str, bytes], pooled: bool, decided: int
    ) -> tuple[SongGenres, KnownArtists]:
        """Blocking: decode the library's probabilities, pool them, decide its first `decided` songs
        and count those whose artist the model knows (the artist keys are computed once, for both)."""
        classifier = self.classifier
        n_genres = len(classifier.genres)
        joined = b"".join(stored[track.id] for track in library)
        probabilities = to_float32(np.frombuffer(joined, dtype=STORED_DTYPE).reshape(len(library), n_genres))
        artist_keys, album_keys = library_keys(library)
        if pooled and len(library):
            # what Classifier.pool does, with the keys computed once
            probabilities = pool_by_keys(probabilities, artist_keys, album_keys, classifier.pooling)
        ids = [track.id for track in library[:decided]]
        known = int(np.count_nonzero(classifier.known_artists(artist_keys[:decided])))
        return SongGenres.decide(ids, probabilities[:decided], classifier.taxonomy), KnownArtists(decided, known)


class ReadAhead:
    """Classifies pages of songs while the rest of the source is still being read.

    The reading thread hands over each page (`page_read`); one task classifies the pages waiting
    (up to `CLASSIFY_CHUNK` songs together) in the shared classify pool and keeps the results in
    memory, skipping songs this model already has stored. Nothing is stored here: the read may
    still fail or be read again, so only `LibraryClassifier.classify`, after the read, stores.
    """

    def __init__(self, owner: LibraryClassifier) -> None:
        self._owner = owner
        self._loop = asyncio.get_running_loop()
        self._pages: asyncio.Queue[list[Track] | None] = asyncio.Queue()
        self._results: dict[str, tuple[Track, bytes]] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ReadAhead:
        self._task = asyncio.create_task(self._classify_pages())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stops classifying (a failed read, or results already taken) and collects the task's
        end, a failure too: the sort reports its own error, and an uncollected one would reach
        asyncio's log as 'Task exception was never retrieved' when the task is freed."""
        if self._task is not None:
            self._task.cancel()  # nothing if it has ended
            await asyncio.gather(self._task, return_exceptions=True)

    def page_read(self, items: Sequence[tuple[Track, datetime]]) -> None:
        """Thread-safe: the reading thread calls it with each page's songs."""
        self._loop.call_soon_threadsafe(self._pages.put_nowait, [track for track, _ in items])

    async def results(self) -> dict[str, tuple[Track, bytes]]:
        """Each song of the pages read so far with the track classified and its stored encoding."""
        assert self._task is not None, "use ReadAhead with async with"
        self._pages.put_nowait(None)
        await self._task
        return self._results

    async def _classify_pages(self) -> None:
        while (page := await self._pages.get()) is not None:
            batch = page
            while len(batch) < CLASSIFY_CHUNK and not self._pages.empty():
                more = self._pages.get_nowait()
                if more is None:
                    await self._classify(batch)
                    return
                batch = [*batch, *more]
            await self._classify(batch)

    async def _classify(self, batch: Sequence[Track]) -> None:
        owner = self._owner
        fresh = {track.id: track for track in batch if track.id not in self._results}
        stored = owner._readable(await owner.db.genre_probabilities.get_many(list(fresh), owner.classifier.answers_version))
        todo = [track for track_id, track in fresh.items() if track_id not in stored]
        if todo:
            blobs = await self._loop.run_in_executor(owner.classify_pool, owner._classify_chunk, todo)
            self._results.update((track.id, (track, blobs[track.id])) for track in todo)
