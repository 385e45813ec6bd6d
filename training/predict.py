"""Classifying a CSV's rows and writing them back out: the one path `genrebot predict` and
`genrebot sort --csv` share (read -> classify -> write), in chunks.

The file is read `CHUNK_ROWS` rows at a time, twice: once to classify (keeping, per row, only
the model's probabilities, in one array filled in place, and then a few numbers of its
decision), once to write each chunk's rows, as read, with their prediction columns. So a 200 MB
export never sits in memory whole, neither as text nor as features (issue #15 item 8: bench/huge_inputs.py measures it). Writing is
one `DataFrame.to_csv` call per chunk and file, never a Python loop over rows.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from classifier import Classifier
from classifier.features import featurise
from classifier.float16 import HALF, to_float16
from classifier.library import pooled_chunks
from cli_output import neutralise_formula_cells
from training.data import LoadedRows, count_rows, iter_frames, iter_rows

CHUNK_ROWS = 10_000
# Pooling works in float64 on a few temporaries per row: in smaller steps than reading, so its
# transients stay small beside the [rows, genres] probabilities it needs whole (same result).
POOL_ROWS = 4_096
# A library's probabilities wait for pooling as the bot stores them (2 bytes per genre, see
# bot/services/sorting/classifying.STORED_DTYPE): half the memory of float32, and `--library`
# then decides exactly as /sort does.
KEPT_DTYPE = HALF
# `genrebot predict`'s four columns: the family, its confidence, the genre, its confidence (the
# names of the six-genre model's columns, kept: `genre` is now the family, `subgenre` the genre).
PREDICT_COLUMNS = ("genre", "genre_confidence", "subgenre", "subgenre_confidence")


@dataclass
class Decided:
    """Per row of the file, the model's decision as compact arrays (no Python object per song)."""

    family: np.ndarray  # index into classifier.families
    family_confidence: np.ndarray
    genre: np.ndarray  # index into classifier.genres, always a child of the family
    genre_confidence: np.ndarray
    second_family: np.ndarray  # the most probable family after `family`, for `multi`
    second_family_confidence: np.ndarray
    second_genre: np.ndarray  # the most probable genre after `genre` (any family), for `multi` by genre
    second_genre_confidence: np.ndarray

    @classmethod
    def join(cls, parts: list[Decided]) -> Decided:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) if parts else np.zeros(0)
                     for name in ("family", "family_confidence", "genre", "genre_confidence",
                                  "second_family", "second_family_confidence", "second_genre",
                                  "second_genre_confidence")))


@dataclass
class ClassifiedFile:
    """Every row of a CSV classified; the rows themselves are read again, chunk by chunk, to write."""

    path: Path
    classifier: Classifier
    decided: Decided
    columns: dict[str, str]  # role -> the file's column name
    known_artists: int  # songs whose primary artist the model met in training (`Classifier.known_artists`)
    episodes: np.ndarray  # row numbers of the podcast episodes (training.data.podcast_episodes), ascending

    def __len__(self) -> int:
        return len(self.decided.family)

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The file as read (every column a string), CHUNK_ROWS rows at a time, indexed by row number."""
        yield from iter_frames(self.path, CHUNK_ROWS)  # as read: the rows are copied out, not classified again

    def annotated(self, frame: pd.DataFrame, names: tuple[str, str, str, str], *, suffix: str) -> pd.DataFrame:
        """`frame` (a chunk from `chunks`) with the four prediction columns (family, its confidence,
        genre, its confidence; built from arrays) after its own, left empty for a podcast episode
        (not a song). A name the file already uses (its own "Genre" column, say) keeps the file's
        column as it was and gets the prediction under the name plus `suffix`."""
        family, family_confidence, genre, genre_confidence = (
            f"{name}{suffix}" if name in frame.columns else name for name in names)
        rows = frame.index.to_numpy()
        decided = self.decided
        families = np.array(self.classifier.families, dtype=object)
        genres = np.array(self.classifier.genres, dtype=object)
        song = ~np.isin(rows, self.episodes)
        predictions = pd.DataFrame({
            family: np.where(song, families[decided.family[rows]], ""),
            family_confidence: np.where(song, decided.family_confidence[rows].astype(np.float64), np.nan),
            genre: np.where(song, genres[decided.genre[rows]], ""),
            genre_confidence: np.where(song, decided.genre_confidence[rows].astype(np.float64), np.nan),
        }, index=frame.index)
        return pd.concat([frame, predictions], axis=1)


def classify_file(path: Path, classifier: Classifier, *, library: bool = False, progress: bool = True) -> ClassifiedFile:
    """Every row of the file, classified in chunks, in input order; with `library`, pooled as one
    library (the pooling needs every row's probabilities: they are kept, as KEPT_DTYPE, until decided)."""
    chunks = iter_rows(path, CHUNK_ROWS, known_artists=classifier.known_artists)
    first = next(chunks)  # a file that cannot be used is refused here, before any progress bar
    total = count_rows(path)
    decided: list[Decided] = []
    kept = RowsInPlace(total)
    artist_keys: list[np.ndarray] = []
    album_keys: list[np.ndarray] = []
    columns: dict[str, str] = {}
    known_artists = 0
    episodes: list[np.ndarray] = []
    with tqdm(total=total, unit="songs", desc="classifying", disable=not progress, file=sys.stderr,
              dynamic_ncols=True) as bar:
        loaded: LoadedRows | None = first
        del first
        while loaded is not None:
            columns = loaded.columns
            batch = featurise(loaded.tracks, classifier.parts.schema)  # = genre_probabilities, keys kept
            probabilities = classifier.batch_probabilities(batch)
            artists, albums = batch.artist_keys, batch.album_keys  # the keys `library_keys` gives
            del batch  # its tokens are not held beside the chunk's probabilities
            if loaded.episodes.any():  # a show is no artist: its episodes pool with nothing (key 0)
                artists, albums = np.where(loaded.episodes, 0, artists), np.where(loaded.episodes, 0, albums)
            known_artists += int(np.count_nonzero(classifier.known_artists(artists) & ~loaded.episodes))
            episodes.append(loaded.frame.index.to_numpy()[loaded.episodes])
            if library:
                kept.append(to_float16(probabilities))  # = .astype(KEPT_DTYPE), the same bits, fast
                artist_keys.append(artists)
                album_keys.append(albums)
            else:
                decided.append(_decide(classifier, probabilities))
            bar.update(len(loaded.frame))
            del probabilities
            loaded = None  # nothing of this chunk is held while the next one is read
            loaded = next(chunks, None)
    if library and kept.rows:
        for pooled in pooled_chunks(kept.array(), np.concatenate(artist_keys), np.concatenate(album_keys),
                                    classifier.pooling, POOL_ROWS):
            decided.append(_decide(classifier, pooled))
        del kept
    return ClassifiedFile(Path(path), classifier, Decided.join(decided), columns, known_artists,
                          np.concatenate(episodes).astype(np.int64) if episodes else np.zeros(0, dtype=np.int64))


class RowsInPlace:
    """Blocks of rows copied into one array sized from the file's line count (grown by doubling
    when a file has fewer lines than rows): a 200 MB export's probabilities are held once, not a
    second time by a final concatenation."""

    def __init__(self, expected_rows: int) -> None:
        self.expected_rows = max(expected_rows, 1)
        self.rows = 0
        self._array: np.ndarray | None = None

    def append(self, block: np.ndarray) -> None:
        if self._array is None:
            self._array = np.empty((max(self.expected_rows, len(block)), *block.shape[1:]), dtype=block.dtype)
        elif self.rows + len(block) > len(self._array):
            grown = np.empty((max(2 * len(self._array), self.rows + len(block)), *block.shape[1:]), dtype=block.dtype)
            grown[:self.rows] = self._array[:self.rows]
            self._array = grown
        self._array[self.rows:self.rows + len(block)] = block
        self.rows += len(block)

    def array(self) -> np.ndarray:
        """The rows appended so far (a view, no copy)."""
        return self._array[:self.rows] if self._array is not None else np.zeros((0, 0), dtype=np.float32)


def _decide(classifier: Classifier, probabilities: np.ndarray) -> Decided:
    d = classifier.decide(probabilities)
    rows = np.arange(len(probabilities))
    other_families = np.array(d.family_probabilities, dtype=np.float32)
    other_families[rows, d.family] = -1.0
    second_family = other_families.argmax(axis=1) if other_families.shape[1] > 1 else d.family
    second_family_confidence = (d.family_probabilities[rows, second_family] if other_families.shape[1] > 1
                                else np.zeros(len(rows)))
    others = np.array(probabilities, dtype=np.float32)
    others[rows, d.genre] = -1.0
    second = others.argmax(axis=1) if others.shape[1] > 1 else d.genre
    return Decided(d.family.astype(np.int32), d.family_confidence.astype(np.float32), d.genre.astype(np.int32),
                   d.genre_confidence.astype(np.float32), second_family.astype(np.int32),
                   second_family_confidence.astype(np.float32), second.astype(np.int32),
                   np.asarray(probabilities, dtype=np.float32)[rows, second])


def write_csv(path: Path, frame: pd.DataFrame, *, decimals: int, quote_all: bool = False, append: bool = False) -> None:
    """One CSV write (`append`: more rows, no header); confidences with `decimals` places, a missing
    one as an empty cell, and no cell a spreadsheet would run as a formula
    (`cli_output.neutralise_formula_cells`)."""
    neutralise_formula_cells(frame).to_csv(
        path, index=False, float_format=f"%.{decimals}f", na_rep="", lineterminator="\r\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, mode="a" if append else "w", header=not append)
