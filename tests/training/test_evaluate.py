"""Evaluation (training/evaluate.py): the published splits and two-level scoring."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from classifier import Classifier
from classifier.features import AUDIO_FEATURES
from classifier.taxonomy import Taxonomy
from classifier.text import primary_artist
from tests.training.layouts import kaggle_tracks
from training.baselines import NAMES_LR, fit_boosting, own_songs
from training.data import SongRow
from training.dataset import Source, TrainingSet, load_training_set
from training.evaluate import (
    CLOSED_SET,
    NETWORK,
    OWN_MIX,
    SPLIT_SALTS,
    Split,
    _earlier_comparison,
    _keep_other_splits,
    _score_source,
    compare,
    genre_mix,
    held_out,
    markdown_tables,
    mean_over_seeds,
    own_mix,
    published_split,
    score,
    split_rule,
    tuned_baselines,
)
from training.train import ValidationRows

FULLWIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}  # "band1" -> "ｂａｎｄ１"
SHIPPED = Path(__file__).resolve().parents[2] / "training" / "taxonomy.json"


def synthetic_set(tmp_path: Path) -> TrainingSet:
    data, _ = load_training_set([kaggle_tracks(tmp_path)], Taxonomy.load(SHIPPED))
    return data


def test_artist_disjoint_split_uses_the_feature_artist_key(tmp_path: Path) -> None:
    """Names the features treat as one artist ('ＢＡＮＤ１', ' band1') are never on both sides."""
    data = synthetic_set(tmp_path)
    groups: list[list[int]] = []  # the rows of each artist's four spellings
    for artist in range(12):
        word = f"band{artist}"
        rows: list[int] = []
        for variant in (word.upper(), f" {word}", word.translate(FULLWIDTH), f"{word.title()} "):
            row = len(groups) * 4 + len(rows)
            t = data.tracks[row]
            data.tracks[row] = SongRow(t.name, (variant,), t.album, t.release_date, t.duration_ms, t.explicit,
                                       t.audio_features)
            rows.append(row)
        groups.append(rows)
    split = published_split(data, "artist")
    for rows in groups:
        assert np.isin(rows, split.test).all() or np.isin(rows, split.train).all()
    assert len(split.test) and len(split.train)


def test_published_split_holds_out_a_fifth_by_a_rule_anyone_can_recompute() -> None:
    """The held-out side is the first 12 hex digits of sha1(salt:key), 0 mod 5: deterministic, about 20 % of keys."""
    keys = [f"track-{i}" for i in range(5000)]
    held = [held_out(k, "genrebot-random-split") for k in keys]
    assert held == [held_out(k, "genrebot-random-split") for k in keys]
    assert 0.18 < sum(held) / len(held) < 0.22


@pytest.mark.parametrize("kind", ["random", "artist"])
def test_the_published_split_rule_followed_as_written_picks_the_songs_held_out(kind: str) -> None:
    """comparison.json's rule, run as written (a key in place of <track id> / <primary artist
    key>), holds out exactly the keys `held_out` does: it said sha1(...) % 5 == 0 over the whole
    digest while the split reads its first 12 hex digits, so a reader recomputing the split from
    it held out other songs."""
    rule = split_rule(kind).removeprefix("held out when ")
    keys = [f"key {i}" for i in range(500)] + ["metallica", "beyoncé"]
    for key in keys:
        written = rule.replace("<track id>" if kind == "random" else "<primary artist key>", key)
        assert eval(written, {"sha1": hashlib.sha1, "int": int}) == held_out(key, SPLIT_SALTS[kind]), key  # noqa: S307


def test_random_split_keeps_every_track_on_one_side(tmp_path: Path) -> None:
    """Each song is in training or in test, never both, never neither."""
    data = synthetic_set(tmp_path)
    split = published_split(data, "random")
    assert sorted(np.concatenate([split.train, split.test]).tolist()) == list(range(len(data)))


def test_a_prediction_matching_any_of_a_songs_labels_counts_as_right() -> None:
    """A song listed as rock and alt-rock is right as either; family scores read the genres' families."""
    taxonomy = Taxonomy.load(SHIPPED)
    rock, alt, jazz = (taxonomy.genre_index[g] for g in ("rock", "alt-rock", "jazz"))
    probabilities = np.full((2, len(taxonomy.genres)), 1e-4, dtype=np.float32)
    probabilities[0, alt] = 1.0
    probabilities[1, jazz] = 1.0
    result = score(probabilities, [(rock, alt), (jazz,)], taxonomy)
    assert result["genre"]["macro_f1"] == 1.0 and result["family"]["macro_f1"] == 1.0


def test_classes_a_data_set_lacks_do_not_count_in_its_macro_average() -> None:
    """A wrong 'jazz' on a set without jazz lowers rock's recall, not the average by a zero for jazz."""
    taxonomy = Taxonomy.load(SHIPPED)
    rock, jazz = taxonomy.genre_index["rock"], taxonomy.genre_index["jazz"]
    probabilities = np.full((2, len(taxonomy.genres)), 1e-4, dtype=np.float32)
    probabilities[0, rock] = 1.0
    probabilities[1, jazz] = 1.0
    result = score(probabilities, [(rock,), (rock,)], taxonomy)
    assert list(result["genre"]["per_class"]) == ["rock"]
    assert abs(result["genre"]["macro_f1"] - 2 * 1.0 * 0.5 / 1.5) < 1e-3


def test_a_comparison_of_one_split_keeps_the_other_splits_rows(tmp_path: Path) -> None:
    """`--split artist` after a full run replaces the artist-split rows and keeps the random split's."""
    def row(split: str, value: float) -> dict[str, object]:
        return {"data": "a.csv", "split": split, "audio": True, "mode": "per song", "n": 1, "models": {"m": value}}

    previous = {"splits": {"random": {"train": 8}, "artist": {"train": 7}},
                "settings": [row("random track split", 0.1), row("artist-disjoint split", 0.2)]}
    (tmp_path / "comparison.json").write_text(json.dumps(previous))
    result: dict[str, Any] = {"splits": {"artist": {"train": 9}}, "settings": [row("artist-disjoint split", 0.3)]}
    earlier = _earlier_comparison(tmp_path / "comparison.json", ("artist",))
    assert earlier is not None
    _keep_other_splits(result, earlier, ("artist",))
    assert result["splits"] == {"random": {"train": 8}, "artist": {"train": 9}}
    assert [(r["split"], r["models"]) for r in result["settings"]] == [("random track split", {"m": 0.1}),
                                                                     ("artist-disjoint split", {"m": 0.3})]


WRITE_A_LARGE_COMPARISON = """
import resource, sys
from pathlib import Path
from training.evaluate import write_comparison

resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))  # no file past 64 KiB: EFBIG, as on a full disk
row = {"data": "a.csv", "split": "random track split", "audio": True, "mode": "per song", "n": 1, "models": {"m": 0.5}}
write_comparison({"settings": [dict(row, n=i) for i in range(5000)]}, Path(sys.argv[1]))
"""


def test_a_comparison_cut_short_keeps_the_earlier_one_whole(tmp_path: Path) -> None:
    """A comparison whose write fails part-way (a disk full, a kill) leaves the earlier
    comparison.json and .md as they were: never a truncated JSON that the next `--split` run reads
    back after hours of training, nor a table that no longer matches it."""
    earlier: dict[str, Any] = {"splits": {}, "settings": []}
    (tmp_path / "comparison.json").write_text(json.dumps(earlier))
    (tmp_path / "comparison.md").write_text("earlier tables")
    result = subprocess.run([sys.executable, "-c", WRITE_A_LARGE_COMPARISON, str(tmp_path)], capture_output=True,
                            text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert "File too large" in result.stderr, result.stderr[-2000:]
    assert json.loads((tmp_path / "comparison.json").read_text()) == earlier
    assert (tmp_path / "comparison.md").read_text() == "earlier tables"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comparison.json", "comparison.md"]


def two_data_sets(taxonomy: Taxonomy) -> TrainingSet:
    """Two files whose songs share every name word but not their genres: 'moon' songs are jazz in
    a.csv and rock in b.csv; 'sun' songs are filed under rock and jazz (in that order) in both."""
    rock, jazz = taxonomy.genre_index["rock"], taxonomy.genre_index["jazz"]
    tracks: list[SongRow] = []
    ids: list[str] = []
    genre_sets: list[tuple[int, ...]] = []
    rows: dict[str, list[int]] = {"a.csv": [], "b.csv": []}
    for file, moon in (("a.csv", jazz), ("b.csv", rock)):
        for i in range(60):
            word, labels = ("moon", (moon,)) if i % 2 else ("sun", (rock, jazz))
            rows[file].append(len(tracks))
            tracks.append(SongRow(f"{word} song {i}", (f"{word} band {i % 9}",), f"{word} album {i % 5}", "2001",
                                  200_000 + i, False, {f: i % 7 / 7 for f in AUDIO_FEATURES}))
            ids.append(f"{file}-{i}")
            genre_sets.append(labels)
    sources = [Source(file, "sha", np.array(r), [genre_sets[i] for i in r], [], len(r)) for file, r in rows.items()]
    return TrainingSet(tracks, ids, genre_sets, sources, taxonomy)


def test_an_unreadable_earlier_comparison_is_refused_before_any_training(tmp_path: Path) -> None:
    """A one-split comparison into a folder whose comparison.json cannot be read (damaged, not JSON)
    stops before training, naming the file: it used to train everything and then fail reading it."""
    (tmp_path / "comparison.json").write_text('{"splits": {"random": ')
    said: list[str] = []
    with pytest.raises(ValueError, match="comparison.json cannot be read"):
        compare(two_data_sets(Taxonomy.load(SHIPPED)), tmp_path, kinds=("artist",), epochs=1, say=said.append)
    assert said == []
    assert (tmp_path / "comparison.json").read_text() == '{"splits": {"random": '


def baselines_per_data_set(data: TrainingSet) -> dict[str, np.ndarray]:
    """Each data set's names-baseline probabilities for a 'moon' and a 'sun' song, as compare() fits them."""
    everything = np.arange(len(data))
    split = Split("random", everything, np.array([], dtype=np.int64))
    held = everything[::6]
    validation = ValidationRows(np.setdiff1d(everything, held), held[::2], held[1::2])
    boosting = fit_boosting(data, validation.train, seed=3)
    probe = [SongRow("moon song 999", ("moon band 3",), "moon album 2", "2001", 200_000, False, None),
             SongRow("sun song 999", ("sun band 4",), "sun album 1", "2001", 200_000, False, None)]
    return {source.name: tuned_baselines(data, source, split, validation, boosting, 3, lambda _m: None)[0]
            .probabilities(probe, audio=False)[NAMES_LR] for source in data.sources}


def test_the_names_baseline_is_fitted_on_each_data_sets_own_songs() -> None:
    """'moon' means jazz to a.csv's baseline and rock to b.csv's: each data set gets its own fit."""
    taxonomy = Taxonomy.load(SHIPPED)
    probabilities = baselines_per_data_set(two_data_sets(taxonomy))
    assert probabilities["a.csv"][0].argmax() == taxonomy.genre_index["jazz"]
    assert probabilities["b.csv"][0].argmax() == taxonomy.genre_index["rock"]


def test_the_names_baseline_learns_every_label_of_a_song() -> None:
    """'sun' songs filed under rock and jazz teach both: jazz is not lost for being the second label."""
    taxonomy = Taxonomy.load(SHIPPED)
    rock, jazz = taxonomy.genre_index["rock"], taxonomy.genre_index["jazz"]
    for probabilities in baselines_per_data_set(two_data_sets(taxonomy)).values():
        sun = probabilities[1]
        assert sun[jazz] > 0.3 and sun[rock] > 0.3


def test_a_data_sets_songs_are_scored_by_its_own_labels() -> None:
    """A song two files label differently is judged, in each file's table, by that file's labels."""
    taxonomy = Taxonomy.load(SHIPPED)
    rock, jazz = taxonomy.genre_index["rock"], taxonomy.genre_index["jazz"]
    source = Source("a.csv", "sha", np.array([4, 7]), [(jazz,), (rock, jazz)], [], 2)
    positions, labels = own_songs(source, np.array([1, 7, 4, 9]))
    assert positions.tolist() == [1, 2] and labels == [(rock, jazz), (jazz,)]


def test_the_closed_set_row_chooses_only_among_the_data_sets_labels(tmp_path: Path) -> None:
    """On a file labelled only jazz, the network restricted to its labels is always right; the open network is not."""
    taxonomy = Taxonomy.load(SHIPPED)
    jazz, rock = taxonomy.genre_index["jazz"], taxonomy.genre_index["rock"]
    tracks: list[SongRow] = []
    ids: list[str] = []
    genre_sets: list[tuple[int, ...]] = []
    rows: dict[str, list[int]] = {"jazz.csv": [], "rock.csv": []}
    for file, genre in (("jazz.csv", jazz), ("rock.csv", rock)):
        for i in range(40):
            rows[file].append(len(tracks))
            tracks.append(SongRow(f"{file} night drive {i}", (f"{file} band {i % 8}",), f"album {i % 5}", "2001",
                                  200_000 + i, False, {f: i % 7 / 7 for f in AUDIO_FEATURES}))
            ids.append(f"{file}-{i}")
            genre_sets.append((genre,))
    sources = [Source(file, "sha", np.array(r), [genre_sets[i] for i in r], [], len(r)) for file, r in rows.items()]
    data = TrainingSet(tracks, ids, genre_sets, sources, taxonomy)
    everything = np.arange(len(data))
    split = Split("artist", everything[everything % 4 != 0], everything[everything % 4 == 0])
    validation = ValidationRows(np.arange(0, len(split.train), 2), np.arange(1, len(split.train), 4),
                                np.arange(3, len(split.train), 4))
    boosting = fit_boosting(data, split.train[validation.train], seed=3)
    baselines, pooling = tuned_baselines(data, sources[0], split, validation, boosting, 3, lambda _m: None)
    train_artists = {primary_artist(data.tracks[r].artists) for r in split.train}
    settings = _score_source(sources[0], split, data, Classifier.load(), baselines, pooling, train_artists, tmp_path,
                             lambda _m: None)
    assert len(settings) == 4  # with and without audio, per song and as a library
    for setting in settings:
        closed = setting["models"][CLOSED_SET]
        assert closed["genre"]["accuracy"] == 1.0 and closed["family"]["accuracy"] == 1.0
        assert OWN_MIX in setting["models"]
    assert min(setting["models"][NETWORK]["genre"]["accuracy"] for setting in settings) < 1.0


def test_the_diagnostic_rows_are_never_marked_best() -> None:
    """comparison.md bolds the best of the product and the baselines, not the diagnostic rows
    (closed set, own genre mix)."""
    def scores(value: float) -> dict[str, dict[str, float]]:
        return {"family": {"macro_f1": value}, "genre": {"macro_f1": value}}

    result = {"baselines": {"names": "how"}, "diagnostics": {CLOSED_SET: "how", OWN_MIX: "how"},
              "settings": [{"data": "a.csv", "split": "s", "audio": True, "mode": "per song", "n": 1,
                            "models": {NETWORK: scores(0.4), CLOSED_SET: scores(0.9), OWN_MIX: scores(0.8),
                                       "names": scores(0.5)}}]}
    row = [line for line in markdown_tables(result).splitlines() if line.startswith("| s |")][0]
    assert row.endswith("| 0.400 | 0.900 | 0.800 | **0.500** |")


def test_the_own_mix_row_decides_with_the_scored_data_sets_genre_mix() -> None:
    """A data set whose training songs are mostly genre 0, beside another mostly genre 1: a song the
    network finds slightly more like genre 1 goes to genre 0 under the first set's own mix, and
    each row still sums to one. A song of two labels counts half to each."""
    first = [(0,)] * 8 + [(1,)] * 2
    both = first + [(1,)] * 8 + [(0,)] * 2
    ratio = genre_mix(first, 3) / genre_mix(both, 3)
    assert ratio[0] > 1 > ratio[1]
    reweighted = own_mix(np.array([[0.45, 0.55, 0.0]]), ratio)
    assert reweighted.argmax() == 0 and abs(float(reweighted.sum()) - 1) < 1e-6
    assert genre_mix([(0, 1), (0,)], 2).tolist() == [2.5 / 4, 1.5 / 4]  # one song's worth added to each


def test_the_boosting_baseline_names_the_genres_too_rare_to_fit() -> None:
    """A file too small for the comparison says which genres have a single training song, by name."""
    taxonomy = Taxonomy.load(SHIPPED)
    data = two_data_sets(taxonomy)
    lonely = next(i for i, labels in enumerate(data.genre_sets) if labels == (taxonomy.genre_index["jazz"],))
    rows = np.array([i for i, labels in enumerate(data.genre_sets)
                     if labels != (taxonomy.genre_index["jazz"],)] + [lonely])
    with pytest.raises(ValueError, match=r"at least 2 training songs of each genre.*\bjazz\b"):
        fit_boosting(data, rows, seed=3)


def seed_row(family: float, genre: float, rock_f1: float) -> dict[str, Any]:
    """One settings row of one seed's run, as _score_source writes it (one model, rock only)."""
    def level(value: float) -> dict[str, Any]:
        return {"macro_f1": value, "accuracy": value / 2, "n": 10,
                "per_class": {"rock": {"precision": rock_f1, "recall": rock_f1, "f1": rock_f1, "support": 10}}}

    return {"data": "a.csv", "split": "artist-disjoint split", "audio": False, "mode": "per song", "n": 10,
            "models": {NETWORK: {"family": level(family), "genre": level(genre)}}}


def test_several_seeds_are_reported_as_their_mean_with_each_seeds_figure() -> None:
    """Three seeds' runs of a cell become one row: the mean, and every seed's macro-F1 kept beside it."""
    runs = [[seed_row(0.46, 0.28, 0.5)], [seed_row(0.48, 0.29, 0.7)], [seed_row(0.47, 0.30, 0.6)]]
    [row] = mean_over_seeds(runs)
    family = row["models"][NETWORK]["family"]
    assert family["macro_f1"] == 0.47 and family["macro_f1_by_seed"] == [0.46, 0.48, 0.47]
    assert family["accuracy"] == 0.235 and family["per_class"]["rock"] == {"precision": 0.6, "recall": 0.6,
                                                                           "f1": 0.6, "support": 10}
    assert row["models"][NETWORK]["genre"]["macro_f1"] == 0.29
    assert mean_over_seeds([[seed_row(0.4, 0.2, 0.5)]]) == [seed_row(0.4, 0.2, 0.5)]  # one seed: as it was


def test_a_class_only_some_seeds_score_is_kept_from_those_seeds() -> None:
    """A class is in a seed's per-class figures only when that seed's any-of-its-labels truth has
    it (a song labelled (jazz, rock) counts as rock when rock was predicted), so seeds can list
    different classes: each class is the mean over the seeds that list it, never a KeyError after
    a 20-minute comparison (the first seed without it) nor dropped (the first seed without it)."""
    with_jazz = seed_row(0.46, 0.28, 0.5)
    for level in ("family", "genre"):
        with_jazz["models"][NETWORK][level]["per_class"]["jazz"] = {"precision": 1.0, "recall": 0.5, "f1": 0.6667,
                                                                    "support": 2}
    for runs in ([[with_jazz], [seed_row(0.48, 0.29, 0.7)]], [[seed_row(0.48, 0.29, 0.7)], [with_jazz]]):
        [row] = mean_over_seeds(runs)
        per_class = row["models"][NETWORK]["family"]["per_class"]
        assert per_class["jazz"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
        assert per_class["rock"]["f1"] == 0.6


def test_a_cell_of_several_seeds_shows_their_range_and_the_best_mean_is_bold() -> None:
    """comparison.md: 'mean (lowest-highest)', bold for the best mean; the seeds are named above the tables."""
    network = {"family": {"macro_f1": 0.47, "macro_f1_by_seed": [0.46, 0.48]},
               "genre": {"macro_f1": 0.29, "macro_f1_by_seed": [0.28, 0.30]}}
    names = {"family": {"macro_f1": 0.475, "macro_f1_by_seed": [0.47, 0.48]},
             "genre": {"macro_f1": 0.28, "macro_f1_by_seed": [0.27, 0.29]}}
    result = {"baselines": {"names": "how"}, "splits": {"artist": {"seeds": [1337, 1338]}},
              "settings": [{"data": "a.csv", "split": "s", "audio": False, "mode": "per song", "n": 1,
                            "models": {NETWORK: network, "names": names}}]}
    tables = markdown_tables(result)
    assert "seeds 1337, 1338" in tables
    family_row, genre_row = [line for line in tables.splitlines() if line.startswith("| s |")]
    assert family_row.endswith("| 0.470 (0.460-0.480) | **0.475** (0.470-0.480) |")
    assert genre_row.endswith("| **0.290** (0.280-0.300) | 0.280 (0.270-0.290) |")
