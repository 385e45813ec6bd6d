"""`genrebot train`, `predict` and `evaluate` from the command line (training/cli.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.training.layouts import exportify, genrebot, kaggle_tracks, songs, spotify_features, write


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A small model trained once from a synthetic Kaggle-layout CSV: (data, model dir, stderr)."""
    tmp = tmp_path_factory.mktemp("trained")
    source = kaggle_tracks(tmp)
    out = tmp / "model"
    result = genrebot("train", "--data", str(source), "--out", str(out), "--epochs", "20", "--seed", "5")
    assert result.returncode == 0, result.stderr
    return source, out, result.stderr


def test_train_writes_a_model_directory_without_pickles(trained: tuple[Path, Path, str]) -> None:
    """Training writes safetensors + JSON with the data's genres and the data's hash."""
    _, out, stderr = trained
    assert "epoch 20/20" in stderr and "cleaning report" in stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["genres"] == ["latin", "rap", "rock"] and meta["training_data_sha256"]
    assert (out / "model.safetensors").exists()
    assert not list(out.glob("*.pkl")) and not list(out.glob("*.pt"))


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
    assert all(r["genre"] in ("latin", "rap", "rock") and 0 < float(r["genre_confidence"]) <= 1 for r in rows)


def test_evaluate_scores_a_model_on_labelled_data(trained: tuple[Path, Path, str]) -> None:
    """`evaluate --json` scores macro-F1; three well-separated synthetic genres are learnt."""
    source, out, _ = trained
    result = genrebot("evaluate", "--data", str(source), "--model", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["macro_f1"] > 0.5


def test_same_seed_same_training_history(tmp_path: Path) -> None:
    """Two runs with one seed give the same losses and validation scores, epoch by epoch."""
    source = spotify_features(tmp_path)
    histories = []
    for run in ("a", "b"):
        result = genrebot("train", "--data", str(source), "--out", str(tmp_path / run), "--epochs", "2", "--seed", "9")
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
