"""`genrebot evaluate` from the command line (training/cli.py): scoring a model on labelled data,
another data set's classes through a label map, and `--compare`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from tests.training.layouts import genrebot, kaggle_tracks, machinehack, thirty_k, write


def test_evaluate_scores_a_model_on_labelled_data(trained: tuple[Path, Path, str]) -> None:
    """`evaluate --json` scores family and genre macro-F1; three well-separated synthetic genres are learnt."""
    source, out, _ = trained
    result = genrebot("evaluate", "--data", str(source), "--model", str(out), "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["family"]["macro_f1"] > 0.5 and scores["genre"]["macro_f1"] > 0.5


def relabelled(tmp: Path, unknown_share: float) -> Path:
    """The Kaggle-layout data with the first `unknown_share` of rows moved to genres no model here knows."""
    source = kaggle_tracks(tmp)
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    cut = int(len(body) * unknown_share)
    for index, row in enumerate(body[:cut]):
        row[-1] = ("polka", "yodel", "kazoo-core")[index % 3]
    return write(tmp / f"relabelled-{unknown_share}.csv", header, body)


def test_evaluate_states_its_scoring_rule_beside_the_per_row_figure(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    """The text says how a track counts as right, and prints the per-row macro-F1 beside it."""
    _, model, _ = trained
    result = genrebot("evaluate", "--input", str(thirty_k(tmp_path)), "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert "a prediction counts as right when it is any of the track's labels" in result.stdout
    assert "per row: macro-F1" in result.stdout and "against its own label only" in result.stdout
    as_json = json.loads(genrebot("evaluate", "--input", str(thirty_k(tmp_path)), "--model", str(model), "--json").stdout)
    assert as_json["per_row"]["rows"] == as_json["n"] + 1  # the one track labelled both rock and rap is two rows
    assert 0 <= as_json["per_row"]["genre"]["macro_f1"] <= 1 and as_json["scoring_rule"]


def test_evaluate_counts_tracks_whose_labels_the_model_does_not_know(
        trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    """A minority of unknown labels is left out and counted in the output."""
    _, model, _ = trained
    result = genrebot("evaluate", "--input", str(relabelled(tmp_path, 0.25)), "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert "60 of 240 had only labels this model does not know" in result.stdout


def test_evaluate_refuses_when_most_labels_are_unknown_to_the_model(
        trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    """When most tracks' labels are unknown, no misleading score: one line, exit 2."""
    _, model, _ = trained
    result = genrebot("evaluate", "--input", str(relabelled(tmp_path, 0.75)), "--model", str(model))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "180 of 240 tracks have only labels this model does not know (kazoo-core, polka, yodel)" in last
    assert "macro-F1" not in result.stdout


def test_compare_trains_every_seed_on_both_splits_and_reports_their_mean(tmp_path: Path) -> None:
    """`evaluate --compare --seeds 2` on two small labelled files: comparison.json names both seeds
    and both published splits, every cell of every model is the mean of its two seeds' figures
    (each kept), and comparison.md is written beside it."""
    sources = [thirty_k(tmp_path), kaggle_tracks(tmp_path)]
    out = tmp_path / "evaluation"
    result = genrebot("evaluate", *(a for s in sources for a in ("--data", str(s))), "--compare", "--seeds", "2",
                      "--seed", "11", "--epochs", "1", "--threads", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "comparison.json").read_text())
    assert report["seeds"] == [11, 12]
    assert set(report["splits"]) == {"random", "artist"}
    assert {s["split"] for s in report["settings"]} == {"random track split", "artist-disjoint split"}
    assert {s["data"] for s in report["settings"]} == {source.name for source in sources}
    for setting in report["settings"]:
        for level in (m[level] for m in setting["models"].values() for level in ("family", "genre")):
            assert len(level["macro_f1_by_seed"]) == 2
            assert level["macro_f1"] == pytest.approx(sum(level["macro_f1_by_seed"]) / 2, abs=1e-4)  # 4 places
    assert (out / "comparison.md").read_text().count("trained with seeds 11, 12;") == 2  # one line per split


def test_evaluate_scores_a_file_of_one_genre(tmp_path: Path) -> None:
    """A member's own playlist labelled with the one genre it holds (all jazz) is a fair thing to score:
    only training needs two classes."""
    jazz = write(tmp_path / "jazz.csv", ["track_name", "artists", "genre"],
                 [[f"Blue Note {i}", f"Quartet {i % 5}", "jazz"] for i in range(20)])
    result = genrebot("evaluate", "--input", str(jazz), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 20 and list(report["genre"]["per_class"]) == ["jazz"]


def _evaluated(*args: str) -> dict[str, Any]:
    result = genrebot("evaluate", *args, "--json")
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    return {level: report[level] for level in ("n", "family", "genre")}


def test_evaluate_reads_a_data_sets_own_classes_through_a_label_map(trained: tuple[Path, Path, str], tmp_path: Path
                                                                   ) -> None:
    """A data set whose classes are numbers is refused with a pointer to --label-map; read through a
    map, it scores exactly as the same songs labelled with the genres' own names."""
    _, model, _ = trained
    numbered = machinehack(tmp_path)
    refused = genrebot("evaluate", "--input", str(numbered), "--label-column", "Class", "--model", str(model))
    assert refused.returncode == 2 and "or read them as genres with --label-map" in refused.stderr

    label_map = tmp_path / "classes.json"
    label_map.write_text(json.dumps({"about": "three numbered classes", "labels": {"0": "rock", "1": "Latin", "2": ["rap"]}}))
    mapped = _evaluated("--input", str(numbered), "--label-column", "Class", "--label-map", str(label_map),
                        "--model", str(model))
    named = _evaluated("--input", str(machinehack(tmp_path, classes={g: g for g in ("rock", "latin", "rap")})),
                       "--label-column", "Class", "--model", str(model))
    assert mapped["n"] == 240 and _figures(mapped) == _figures(named)
    assert mapped["label_map"] == {"path": str(label_map), "about": "three numbered classes"}


def test_a_label_map_naming_no_genre_of_the_model_is_refused_in_one_line(trained: tuple[Path, Path, str],
                                                                         tmp_path: Path) -> None:
    _, model, _ = trained
    label_map = tmp_path / "classes.json"
    label_map.write_text(json.dumps({"labels": {"0": "rock", "1": "polka-ish"}}))
    result = genrebot("evaluate", "--input", str(machinehack(tmp_path)), "--label-column", "Class",
                      "--label-map", str(label_map), "--model", str(model))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(
        "'polka-ish' (for '1') is no genre of this model (`genrebot genres` lists them)")


def test_evaluate_scores_songs_by_artists_new_to_the_model_apart(trained: tuple[Path, Path, str], tmp_path: Path
                                                               ) -> None:
    """What a member's library mostly holds, songs by artists the model never met, gets its own
    figures beside those of songs by artists it met in training."""
    _, model, _ = trained
    source = machinehack(tmp_path, classes={g: g for g in ("rock", "latin", "rap")}, stranger_every=4)
    report = _evaluated("--input", str(source), "--label-column", "Class", "--model", str(model))
    assert report["artists"]["new"]["n"] == 60 and report["artists"]["known"]["n"] == 180
    for part in report["artists"].values():
        assert 0 <= part["family"]["macro_f1"] <= 1 and 0 <= part["genre"]["accuracy"] <= 1
    text = genrebot("evaluate", "--input", str(source), "--label-column", "Class", "--model", str(model)).stdout
    assert "songs by artists it met in training (180): family macro-F1" in text
    assert "songs by artists new to it (60): family macro-F1" in text


def test_evaluate_without_audio_scores_as_if_the_file_had_no_audio_columns(trained: tuple[Path, Path, str],
                                                                           tmp_path: Path) -> None:
    """--without-audio: how the model does for an app Spotify no longer gives audio features."""
    _, model, _ = trained
    named = {g: g for g in ("rock", "latin", "rap")}
    ignored = _evaluated("--input", str(machinehack(tmp_path, classes=named)), "--label-column", "Class",
                         "--without-audio", "--model", str(model))
    absent = _evaluated("--input", str(machinehack(tmp_path, classes=named, audio=False)), "--label-column", "Class",
                        "--model", str(model))
    assert ignored["audio"] is False and absent["audio"] is False
    assert _figures(ignored) == _figures(absent)


@pytest.mark.parametrize("flag", [["--without-audio"], ["--label-map", "map.json"]])
def test_evaluate_compare_refuses_the_flags_that_score_a_trained_model(flag: list[str], tmp_path: Path) -> None:
    result = genrebot("evaluate", "--input", str(kaggle_tracks(tmp_path)), "--compare", *flag, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{flag[0]} scores a trained model; --compare trains" in result.stderr


def test_evaluate_scores_a_listed_song_with_the_known_artist_it_starts_with(tmp_path: Path) -> None:
    """A file without artist URIs that writes guests after the artist (Kaggle's MachineHack set has
    "Pritam, Arijit Singh"): "Drake, Quiet Lanterns" is scored among songs by artists the shipped model
    met, though no song of the file is Drake's alone (the model's known artists decide)."""
    known = {"Drake": "hip-hop", "Coldplay": "rock", "Miles Davis": "jazz", "Bad Bunny": "latin"}
    rows = [[f"{artist} Song {i}", f"{artist}, Quiet Lanterns {i}", genre]
            for artist, genre in known.items() for i in range(2)]
    rows += [[f"Stranger Song {i}", f"Stranger {i}", "rock"] for i in range(4)]
    report = _evaluated("--input", str(write(tmp_path / "guests.csv", ["track_name", "artist_name", "genre"], rows)))
    assert report["artists"]["known"]["n"] == 8 and report["artists"]["new"]["n"] == 4
