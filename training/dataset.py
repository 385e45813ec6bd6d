"""One training set from one or more labelled files, with every label mapped onto the taxonomy.

A file's labels become genres through the taxonomy (verbatim or an alias): its subgenre column
when it has one (the 30k set's "hard rock"), else its label column (the 114 set's "hard-rock").
Tracks present in several files are merged by track id, keeping every genre they carry; each
file is remembered as a `Source` so evaluation can score each data set on its own labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.taxonomy import Taxonomy
from training.data import DataError, LoadedData, SongRow, load_labelled


@dataclass
class Source:
    name: str  # the file's name
    sha256: str
    rows: np.ndarray  # each of the file's tracks' row in the training set
    genre_sets: list[tuple[int, ...]]  # the file's own labels, as genre indices
    labels: list[tuple[str, ...]]  # the file's label column as written (the 30k set's six genres)
    rows_read: int


@dataclass
class TrainingSet:
    tracks: list[SongRow]
    track_ids: list[str]
    genre_sets: list[tuple[int, ...]]  # every genre a track carries, over all files
    sources: list[Source]
    taxonomy: Taxonomy

    def __len__(self) -> int:
        return len(self.tracks)

    def targets(self) -> np.ndarray:
        """[tracks, genres] float32: each track's genres share its probability mass."""
        out = np.zeros((len(self.tracks), len(self.taxonomy.genres)), dtype=np.float32)
        for row, genres in enumerate(self.genre_sets):
            out[row, list(genres)] = 1.0 / len(genres)
        return out

    def first_family(self) -> np.ndarray:
        return np.array([self.taxonomy.genre_family[g[0]] for g in self.genre_sets], dtype=np.int64)

    @property
    def has_audio(self) -> bool:
        return any(t.audio_features for t in self.tracks)


def genres_of(data: LoadedData, taxonomy: Taxonomy) -> list[tuple[int, ...]]:
    """Each track's labels as genre indices: its subgenres where it has them, else its labels."""
    index = taxonomy.genre_index
    unknown: set[str] = set()
    out = []
    for labels, subs in zip(data.genres, data.subgenres, strict=True):
        names = subs or labels
        genres = []
        for name in names:
            genre = taxonomy.genre_of_label(name)
            if genre is None:
                unknown.add(name)
            elif index[genre] not in genres:
                genres.append(index[genre])
        out.append(tuple(genres))
    if unknown:
        shown = ", ".join(sorted(unknown)[:10]) + (" ..." if len(unknown) > 10 else "")
        raise DataError(f"{len(unknown)} label(s) are not in the taxonomy: {shown} "
                        "(add them as aliases, or pass --taxonomy data to derive one from the data)")
    return out


def build(files: Sequence[tuple[str, LoadedData]], taxonomy: Taxonomy) -> TrainingSet:
    tracks: list[SongRow] = []
    track_ids: list[str] = []
    genre_sets: list[list[int]] = []
    row_of: dict[str, int] = {}
    sources = []
    for name, data in files:
        file_genres = genres_of(data, taxonomy)
        rows = np.zeros(len(data.tracks), dtype=np.int64)
        for i, (track, track_id, genres) in enumerate(zip(data.tracks, data.track_ids, file_genres, strict=True)):
            row = row_of.get(track_id)
            if row is None:
                row = row_of[track_id] = len(tracks)
                tracks.append(track)
                track_ids.append(track_id)
                genre_sets.append([])
            genre_sets[row].extend(g for g in genres if g not in genre_sets[row])
            rows[i] = row
        sources.append(Source(name, data.sha256, rows, file_genres, list(data.genres), data.report.rows_read))
    return TrainingSet(tracks, track_ids, [tuple(g) for g in genre_sets], sources, taxonomy)


def load_training_set(paths: Sequence[Path], taxonomy: Taxonomy | None, *, label_column: str | None = None,
                      subgenre_column: str | None = None) -> tuple[TrainingSet, list[LoadedData]]:
    """Every file loaded and mapped; with no taxonomy, one is read off the (first) file's labels."""
    loaded = [load_labelled(p, label_column=label_column, subgenre_column=subgenre_column) for p in paths]
    if taxonomy is None:
        taxonomy = Taxonomy.from_labels([g for d in loaded for g in d.genres], [s for d in loaded for s in d.subgenres])
    return build([(Path(p).name, d) for p, d in zip(paths, loaded, strict=True)], taxonomy), loaded
