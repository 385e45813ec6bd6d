"""Loading every public layout, training, predicting and evaluating from the command line."""

from __future__ import annotations

import csv
import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from classifier import Classifier, ModelLoadError
from training.data import DataError, load

GENRES = {"rock": ["hard rock", "album rock"], "latin": ["reggaeton", "tropical"], "rap": ["trap", "gangster rap"]}
WORDS = {"rock": "guitar thunder highway stone", "latin": "corazón fuego baila amor", "rap": "money street flow trap"}
AUDIO = ["danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
         "instrumentalness", "liveness", "valence", "tempo"]


def songs(n: int = 240, seed: int = 3) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        genre = list(GENRES)[i % 3]
        words = WORDS[genre].split()
        out.append({
            "id": f"{i:022d}", "name": f"{rng.choice(words).title()} {rng.choice(words)} {i}",
            "artist": f"{genre.title()} Artist {i % 17}", "album": f"{rng.choice(words).title()} Album",
            "date": f"{rng.randint(1970, 2020)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "duration": rng.randint(150_000, 300_000), "genre": genre, "sub": GENRES[genre][i % 2],
            "audio": [round(rng.random(), 3) for _ in range(2)] + [rng.randint(0, 11), round(-rng.random() * 10, 2), rng.randint(0, 1)]
                     + [round(rng.random(), 3) for _ in range(5)] + [round(rng.uniform(70, 170), 2)],
        })
    return out


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:  # type: ignore[operator]
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def thirty_k(tmp: Path) -> Path:
    header = ["track_id", "track_name", "track_artist", "track_popularity", "track_album_id", "track_album_name",
              "track_album_release_date", "playlist_name", "playlist_id", "playlist_genre", "playlist_subgenre",
              *AUDIO, "duration_ms"]
    rows = [[s["id"], s["name"], s["artist"], 50, "alb", s["album"], s["date"], "pl", "plid", s["genre"], s["sub"],
             *s["audio"], s["duration"]] for s in songs()]
    rows.append(rows[0][:9] + ["rap", "trap"] + rows[0][11:])  # the same track in a second genre
    rows.append(["", "", "", 0, "", "", "", "", "", "rock", "hard rock", *([""] * 11), ""])  # an empty row
    return write(tmp / "spotify_songs.csv.gz", header, rows)


def kaggle_tracks(tmp: Path) -> Path:
    header = ["", "track_id", "artists", "album_name", "track_name", "popularity", "duration_ms", "explicit",
              *AUDIO, "time_signature", "track_genre"]
    rows = [[i, s["id"], f"{s['artist']};Guest {i % 5}", s["album"], s["name"], 40, s["duration"], "False",
             *s["audio"], 4, s["genre"]] for i, s in enumerate(songs())]
    return write(tmp / "dataset.csv", header, rows)


def spotify_features(tmp: Path) -> Path:
    header = ["genre", "artist_name", "track_name", "track_id", "popularity", "acousticness", "danceability",
              "duration_ms", "energy", "instrumentalness", "key", "liveness", "loudness", "mode", "speechiness",
              "tempo", "time_signature", "valence"]
    rows = []
    for s in songs():
        a = s["audio"]
        rows.append([s["genre"].title(), s["artist"], s["name"], s["id"], 30, a[6], a[0], s["duration"], a[1], a[7],
                     "C#", a[8], a[3], "Major" if a[4] else "Minor", a[5], a[10], "4/4", a[9]])
    return write(tmp / "SpotifyFeatures.csv", header, rows)


def music_genre(tmp: Path) -> Path:
    header = ["instance_id", "artist_name", "track_name", "popularity", "acousticness", "danceability", "duration_ms",
              "energy", "instrumentalness", "key", "liveness", "loudness", "mode", "speechiness", "tempo",
              "obtained_date", "valence", "music_genre"]
    rows = []
    for i, s in enumerate(songs()):
        a = s["audio"]
        rows.append([i, "empty_field" if i % 20 == 0 else s["artist"], s["name"], 30, a[6], a[0],
                     -1 if i % 10 == 0 else s["duration"], a[1], a[7], "A", a[8], a[3],
                     "Minor", a[5], "?" if i % 7 == 0 else a[10], "4-Apr", a[9], s["genre"].title()])
    return write(tmp / "music_genre.csv", header, rows)


def exportify(tmp: Path, with_audio: bool) -> Path:
    header = ["Track URI", "Track Name", "Artist URI(s)", "Artist Name(s)", "Album URI", "Album Name",
              "Album Artist URI(s)", "Album Artist Name(s)", "Album Release Date", "Album Image URL", "Disc Number",
              "Track Number", "Track Duration (ms)", "Track Preview URL", "Explicit", "Popularity", "ISRC",
              "Added By", "Added At"]
    if with_audio:
        header += ["Danceability", "Energy", "Key", "Loudness", "Mode", "Speechiness", "Acousticness",
                   "Instrumentalness", "Liveness", "Valence", "Tempo", "Time Signature"]
    rows = []
    for s in songs(30):
        row = [f"spotify:track:{s['id']}", s["name"], "spotify:artist:x", s["artist"] + ", Tyler\\, The Creator",
               "spotify:album:y", s["album"], "", "", s["date"], "", 1, 1, s["duration"], "", "true", 0, "", "", ""]
        if with_audio:
            row += [*s["audio"], 4]
        rows.append(row)
    return write(tmp / ("export-audio.csv" if with_audio else "export.csv"), header, rows)


def genrebot(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genrebot_cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd or Path.cwd())


@pytest.mark.parametrize("make", [thirty_k, kaggle_tracks, spotify_features, music_genre])
def test_each_public_layout_loads_with_labels_and_audio(tmp_path: Path, make) -> None:
    data = load(make(tmp_path))
    assert len({g[0] for g in data.genres}) == 3
    assert data.has_audio and all(t.name for t in data.tracks)
    assert sum(bool(t.artists) for t in data.tracks) >= len(data.tracks) * 0.9
    assert sum(t.audio_features is not None for t in data.tracks) > len(data.tracks) * 0.8


def test_cleaning_merges_duplicates_keeps_both_genres_and_reports_why(tmp_path: Path) -> None:
    data = load(thirty_k(tmp_path))
    assert len(data.tracks) == 240
    assert data.genres[0] == ("rock", "rap")
    report = data.report.render()
    assert "merged: duplicate rows of the same track: 1" in report
    assert "dropped: no track name and no artist: 1" in report


def test_placeholders_become_missing_never_zero(tmp_path: Path) -> None:
    data = load(music_genre(tmp_path))
    assert data.tracks[0].artists == () and data.tracks[0].duration_ms is None
    assert data.tracks[7].audio_features is not None and "tempo" not in data.tracks[7].audio_features
    assert data.tracks[1].audio_features["key"] == 9.0 and data.tracks[1].audio_features["mode"] == 0.0
    assert "tempo: placeholder or out of range -> missing" in data.report.render()


def test_exportify_artists_split_on_commas_but_not_escaped_ones(tmp_path: Path) -> None:
    data = load(exportify(tmp_path, with_audio=False), require_labels=False)
    assert data.tracks[0].artists[-1] == "Tyler, The Creator" and len(data.tracks[0].artists) == 2


def test_train_predict_evaluate_round_trip(tmp_path: Path) -> None:
    source = kaggle_tracks(tmp_path)
    out = tmp_path / "model"
    result = genrebot("train", "--data", str(source), "--out", str(out), "--epochs", "20", "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert "epoch 20/20" in result.stderr and "cleaning report" in result.stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["genres"] == ["latin", "rap", "rock"] and meta["training_data_sha256"]
    assert not list(out.glob("*.pkl")) and not list(out.glob("*.pt"))

    for with_audio in (False, True):
        export = exportify(tmp_path, with_audio)
        predictions = tmp_path / f"pred-{with_audio}.csv"
        result = genrebot("predict", "--input", str(export), "--output", str(predictions), "--model", str(out))
        assert result.returncode == 0, result.stderr
        rows = list(csv.DictReader(predictions.open()))
        assert [r["Track URI"] for r in rows] == [f"spotify:track:{s['id']}" for s in songs(30)]
        assert {"genre", "genre_confidence", "subgenre", "subgenre_confidence"} <= set(rows[0])
        assert all(r["genre"] in meta["genres"] for r in rows)

    result = genrebot("evaluate", "--data", str(source), "--model", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["macro_f1"] > 0.5  # three well-separated synthetic genres


def test_same_seed_same_model(tmp_path: Path) -> None:
    source = spotify_features(tmp_path)
    versions = []
    for run in ("a", "b"):
        result = genrebot("train", "--data", str(source), "--out", str(tmp_path / run), "--epochs", "2", "--seed", "9")
        assert result.returncode == 0, result.stderr
        versions.append(json.loads((tmp_path / run / "model.json").read_text())["history"])
    assert versions[0] == versions[1]


def test_shipped_model_loads_and_subgenres_agree_with_genres() -> None:
    classifier = Classifier.load()
    assert set(classifier.taxonomy) == {"edm", "latin", "pop", "r&b", "rap", "rock"}
    assert all(len(subs) == 4 for subs in classifier.taxonomy.values())
    data_songs = [
        type("T", (), {"name": "Despacito", "artists": ("Luis Fonsi",), "album": "Vida", "release_date": "2017",
                       "duration_ms": 228000, "explicit": False, "audio_features": None})(),
        type("T", (), {"name": "Enter Sandman", "artists": ("Metallica",), "album": "Metallica",
                       "release_date": "1991-08-12", "duration_ms": 331000, "explicit": False,
                       "audio_features": None})(),
    ]
    predictions = classifier.classify(data_songs)
    assert [p.genre for p in predictions] == ["latin", "rock"]
    for p in predictions:
        assert p.subgenre in classifier.taxonomy[p.genre]
        assert abs(sum(p.genre_probabilities.values()) - 1) < 1e-3
        assert 0 < (p.subgenre_confidence or 0) <= p.genre_confidence <= 1


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
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    args = [a.replace("{bad}", str(bad)) for a in args]
    result = genrebot(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 12


def test_unrecognisable_columns_and_single_class_labels_are_refused(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", ["a", "b"], [[1, 2]])
    with pytest.raises(DataError, match="expected a track name"):
        load(bad)
    one = write(tmp_path / "one.csv", ["track_name", "artists", "genre"], [["x", "y", "rock"], ["z", "w", "rock"]])
    with pytest.raises(DataError, match="fewer than two classes"):
        load(one)
    result = genrebot("train", "--data", str(one), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "fewer than two classes" in result.stderr
    assert not (tmp_path / "m").exists()


def test_unreadable_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text('{"format": "something-else"}')
    with pytest.raises(ModelLoadError, match="not a genrebot model"):
        Classifier.load(tmp_path)
