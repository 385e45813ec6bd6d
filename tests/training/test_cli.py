"""`genrebot train`, `predict` and `evaluate` from the command line (training/cli.py)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.training.layouts import exportify, genrebot, kaggle_tracks, songs, spotify_features, write


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A small model trained once from a synthetic Kaggle-layout CSV on the shipped taxonomy
    (its labels rock, latin and rap are genres there): (data, model dir, stderr)."""
    tmp = tmp_path_factory.mktemp("trained")
    source = kaggle_tracks(tmp)
    out = tmp / "model"
    result = genrebot("train", "--data", str(source), "--out", str(out), "--epochs", "12", "--seed", "5",
                      "--threads", "1")
    assert result.returncode == 0, result.stderr
    return source, out, result.stderr


def test_train_writes_a_model_directory_without_pickles(trained: tuple[Path, Path, str]) -> None:
    """Training writes safetensors + JSON + the taxonomy, with the data's hash and the kept epoch."""
    _, out, stderr = trained
    assert "epoch 12/12" in stderr and "cleaning report" in stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["training_data"]["dataset.csv"]["sha256"]
    assert 1 <= meta["kept_epoch"] <= 12 and meta["metrics"]["validation"]["epoch"] == meta["kept_epoch"]
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "model.json", "taxonomy.json"}


def test_training_shows_progress_with_time_estimates_in_every_phase(trained: tuple[Path, Path, str]) -> None:
    """The name-model folds and every epoch show a progress bar with an estimate of time left."""
    _, _, stderr = trained
    assert "name model" in stderr and "<" in stderr.split("name model", 1)[1].split("\n", 1)[0]
    assert "epoch 1/12" in stderr and "batch" in stderr


def test_genres_json_is_exactly_families_and_aliases(trained: tuple[Path, Path, str]) -> None:
    """`genres --json` prints one object: families -> genres, and source label -> genre."""
    _, out, _ = trained
    result = genrebot("genres", "--model", str(out), "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert set(listing) == {"families", "aliases"}
    assert "hard-rock" in listing["families"]["rock"] and listing["aliases"]["r&b"] == "r-n-b"


def test_genres_prints_families_with_their_genres(trained: tuple[Path, Path, str]) -> None:
    """Without --json, one line per family with its genres' display labels."""
    _, out, _ = trained
    result = genrebot("genres", "--model", str(out))
    assert result.returncode == 0 and "R&B & Soul [r&b]: R&B, Soul" in result.stdout


@pytest.mark.parametrize("with_audio", [False, True])
def test_predict_keeps_every_row_in_order_with_four_prediction_columns(
    trained: tuple[Path, Path, str], tmp_path: Path, with_audio: bool
) -> None:
    """`predict` writes one row per input row, in order, with genre and subgenre and confidences."""
    _, out, _ = trained
    predictions = tmp_path / "pred.csv"
    result = genrebot("predict", "--input", str(exportify(tmp_path, with_audio)), "--output", str(predictions),
                      "--model", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(predictions.open()))
    assert [r["Track URI"] for r in rows] == [f"spotify:track:{s['id']}" for s in songs(30)]
    assert {"genre", "genre_confidence", "subgenre", "subgenre_confidence"} <= set(rows[0])
    assert all(r["genre"] in ("latin", "hip-hop", "rock") and 0 < float(r["genre_confidence"]) <= 1 for r in rows)
    assert all(0 < float(r["subgenre_confidence"]) <= float(r["genre_confidence"]) for r in rows)


def test_predict_library_pools_the_songs_of_one_album(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    """With --library (and a model whose album weight is 1), songs of one album get one genre."""
    _, out, _ = trained
    pooled_model = tmp_path / "pooled"
    shutil.copytree(out, pooled_model)
    meta = json.loads((pooled_model / "model.json").read_text())
    meta["pooling"] = {"artist": 0.0, "album": 1.0}
    (pooled_model / "model.json").write_text(json.dumps(meta))
    library = write(tmp_path / "library.csv", ["track_name", "artists", "album_name"],
                    [[song["name"], f"Band {i % 3}", f"Record {i % 3}"] for i, song in enumerate(songs(30))])
    result = genrebot("predict", "--input", str(library), "--output", str(tmp_path / "p.csv"),
                      "--model", str(pooled_model), "--library")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert len(rows) == 30
    genres_by_album = {album: {r["subgenre"] for r in rows if r["artists"] == f"Band {album}"} for album in range(3)}
    assert all(len(genres) == 1 for genres in genres_by_album.values())


def test_evaluate_scores_a_model_on_labelled_data(trained: tuple[Path, Path, str]) -> None:
    """`evaluate --json` scores family and genre macro-F1; three well-separated synthetic genres are learnt."""
    source, out, _ = trained
    result = genrebot("evaluate", "--data", str(source), "--model", str(out), "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["family"]["macro_f1"] > 0.5 and scores["genre"]["macro_f1"] > 0.5


def test_same_seed_same_training_history(tmp_path: Path) -> None:
    """Two runs with one seed give the same losses and validation scores, epoch by epoch."""
    source = spotify_features(tmp_path)
    histories = []
    for run in ("a", "b"):
        result = genrebot("train", "--data", str(source), "--out", str(tmp_path / run), "--epochs", "2", "--seed", "9",
                          "--threads", "1")
        assert result.returncode == 0, result.stderr
        histories.append(json.loads((tmp_path / run / "model.json").read_text())["history"])
    assert histories[0] == histories[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--data", "missing.csv"], "no such file"),
        (["predict", "--input", "missing.csv", "--output", "o.csv"], "no such file"),
        (["evaluate", "--data", "missing.csv"], "no such file"),
        (["predict", "--input", "{bad}", "--output", "o.csv", "--model", "nowhere"], "has no"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    """A missing file or model is one clear line and exit status 2, never a traceback."""
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    args = [a.replace("{bad}", str(bad)) for a in args]
    result = genrebot(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 12


def test_training_on_one_class_is_refused_without_writing_a_model(tmp_path: Path) -> None:
    """`train` on single-genre data exits 2 and leaves no model directory behind."""
    one = write(tmp_path / "one.csv", ["track_name", "artists", "genre"], [["x", "y", "rock"], ["z", "w", "rock"]])
    result = genrebot("train", "--data", str(one), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "fewer than two classes" in result.stderr
    assert not (tmp_path / "m").exists()


def test_labels_outside_the_taxonomy_are_named_and_refused(tmp_path: Path) -> None:
    """Training labels the taxonomy does not know are listed, with the way out."""
    odd = write(tmp_path / "odd.csv", ["track_name", "artists", "genre"], [["x", "y", "polka"], ["z", "w", "rock"]])
    result = genrebot("train", "--data", str(odd), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "polka" in result.stderr and "--taxonomy data" in result.stderr
