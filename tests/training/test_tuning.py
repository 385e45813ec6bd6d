"""Tuning on validation songs (training/tuning.py): each data set scored as the comparison scores it."""

from __future__ import annotations

import numpy as np

from classifier.features import FeatureSchema, featurise
from classifier.library import Pooling
from classifier.taxonomy import Taxonomy
from training.cli import SHIPPED_TAXONOMY
from training.data import SongRow
from training.dataset import Source, TrainingSet
from training.evaluate import subset
from training.tuning import DataSetGroups, macro_f1_both


def song(title: str, artist: str) -> SongRow:
    return SongRow(title, (artist,), f"{title} album", None, 200_000, None, None)


def two_files(taxonomy: Taxonomy, tracks: list[SongRow], files: dict[str, list[tuple[int, int]]]) -> TrainingSet:
    """A training set of `tracks` read from two files, each listing (row, genre) pairs; a row listed
    by both has both files' genres, as the loader merges them."""
    merged: list[set[int]] = [set() for _ in tracks]
    sources = []
    for name, listed in files.items():
        for row, genre in listed:
            merged[row].add(genre)
        sources.append(Source(name, "sha", np.array([row for row, _ in listed]), [(genre,) for _, genre in listed],
                              [], len(listed)))
    return TrainingSet(tracks, [f"id{i}" for i in range(len(tracks))], [tuple(sorted(g)) for g in merged], sources,
                       taxonomy)


def one_hot(taxonomy: Taxonomy, genres: list[int]) -> np.ndarray:
    out = np.full((len(genres), len(taxonomy.genres)), 1e-4, dtype=np.float32)
    out[np.arange(len(genres)), genres] = 1.0
    return out / out.sum(axis=1, keepdims=True)


def test_each_data_set_is_scored_by_its_own_labels_and_the_score_is_their_mean() -> None:
    """A song both files list, as rock in one and jazz in the other, is right for the first file
    only when it is rock; the score is the mean of the two files' own macro-F1s."""
    taxonomy = Taxonomy.load(SHIPPED_TAXONOMY)
    rock, jazz, pop = (taxonomy.genre_index[g] for g in ("rock", "jazz", "pop"))
    tracks = [song(f"song {i}", f"artist {i}") for i in range(4)]
    data = two_files(taxonomy, tracks, {"a.csv": [(0, rock), (1, pop), (2, rock)], "b.csv": [(2, jazz), (3, pop)]})
    predicted = one_hot(taxonomy, [rock, pop, rock, pop])
    rows = np.arange(4)
    family, genre = DataSetGroups.of(data, rows).macro_f1(predicted, taxonomy)
    a = macro_f1_both(predicted[[0, 1, 2]], [(rock,), (pop,), (rock,)], taxonomy)
    b = macro_f1_both(predicted[[2, 3]], [(jazz,), (pop,)], taxonomy)
    assert a == (1.0, 1.0) and b[1] < 1.0  # song 2 is rock: right for a.csv, wrong for b.csv
    assert (family, genre) == ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    merged = macro_f1_both(predicted, [data.genre_sets[r] for r in rows], taxonomy)
    assert merged == (1.0, 1.0)  # scored together, the merged labels would call every answer right


def test_each_data_sets_songs_are_pooled_as_a_library_of_their_own() -> None:
    """One artist's songs are rock in one file and jazz in the other: an unsure song of the first
    file is pooled with that file's rock songs, not with the other file's jazz."""
    taxonomy = Taxonomy.load(SHIPPED_TAXONOMY)
    rock, jazz = taxonomy.genre_index["rock"], taxonomy.genre_index["jazz"]
    tracks = [song(f"song {i}", "the same artist") for i in range(7)]
    data = two_files(taxonomy, tracks, {"a.csv": [(0, rock), (1, rock), (2, rock)],
                                        "b.csv": [(3, jazz), (4, jazz), (5, jazz), (6, jazz)]})
    predicted = one_hot(taxonomy, [rock, rock, jazz, jazz, jazz, jazz, jazz])
    predicted[2, rock] = predicted[2, jazz] * 0.8  # song 2 leans jazz, a little
    predicted /= predicted.sum(axis=1, keepdims=True)
    batch = featurise(tracks, FeatureSchema())
    groups = DataSetGroups.of(data, np.arange(7))
    per_song = groups.macro_f1(predicted, taxonomy)
    pooled = groups.macro_f1(predicted, taxonomy, batch=batch, pooling=Pooling(artist=0.9))
    assert per_song[1] < 1.0 and pooled == (1.0, 1.0)


def test_a_subset_of_the_groups_keeps_each_data_set_in_its_place() -> None:
    """Groups of some of the songs (new artists only, say) renumber the songs and keep every data
    set's group, empty or not, so the i-th group is always the i-th file's."""
    taxonomy = Taxonomy.load(SHIPPED_TAXONOMY)
    rock, jazz = taxonomy.genre_index["rock"], taxonomy.genre_index["jazz"]
    tracks = [song(f"song {i}", f"artist {i}") for i in range(5)]
    data = two_files(taxonomy, tracks, {"a.csv": [(0, rock), (1, rock)], "b.csv": [(2, jazz), (3, jazz), (4, rock)]})
    part = DataSetGroups.of(data, np.arange(5)).subset(np.array([3, 4]))
    assert [positions.tolist() for positions, _ in part.groups] == [[], [0, 1]]
    assert [labels for _, labels in part.groups] == [(), ((jazz,), (rock,))]
    assert len(part) == 2


def test_a_published_split_keeps_each_songs_file_and_its_own_labels() -> None:
    """The training side of a split still knows which file each song came from, with that file's labels."""
    taxonomy = Taxonomy.load(SHIPPED_TAXONOMY)
    rock, jazz = taxonomy.genre_index["rock"], taxonomy.genre_index["jazz"]
    tracks = [song(f"song {i}", f"artist {i}") for i in range(4)]
    data = two_files(taxonomy, tracks, {"a.csv": [(0, rock), (2, rock)], "b.csv": [(2, jazz), (3, jazz)]})
    part = subset(data, np.array([2, 3]))
    assert [(s.name, s.rows.tolist(), s.genre_sets) for s in part.sources] == [
        ("a.csv", [0], [(rock,)]), ("b.csv", [0, 1], [(jazz,), (jazz,)])]
