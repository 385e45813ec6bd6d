"""`genrebot sort --input` (`sort --csv`) as a user runs it: an export split into a file per playlist, every row and
column kept, options, overwrite rules, progress and memory."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classifier import Classifier
from sandbox.library import synthetic_library
from tests.classifier.known_songs import demo_songs_by_known_artists
from tests.training.layouts import exportify, exportify_of, with_episodes


@pytest.mark.parametrize("with_audio", [False, True])
def test_export_is_split_into_genre_files_that_keep_every_row_and_column(tmp_path: Path, with_audio: bool) -> None:
    """Each row lands in exactly one genre CSV or unsorted.csv, in Exportify's own columns."""
    export = exportify(tmp_path, with_audio)
    out = tmp_path / "sorted"
    result = subprocess.run(
        [sys.executable, "-m", "genrebot_cli", "sort", "--csv", str(export), "--out", str(out), "--min-size", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "30 songs" in result.stdout and "unsorted" in result.stdout
    with export.open(newline="") as handle:
        original = list(csv.reader(handle))
    genre_files = [p for p in out.glob("*.csv") if p.name != "all-with-genres.csv"]
    rows: list[list[str]] = []
    for path in genre_files:
        with path.open(newline="") as handle:
            reader = list(csv.reader(handle))
        assert reader[0] == original[0]  # Exportify's own header: re-importable
        rows.extend(reader[1:])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, original[1:]))
    with (out / "all-with-genres.csv").open(newline="") as handle:
        annotated = list(csv.DictReader(handle))
    assert len(annotated) == 30 and all(r["Genre"] for r in annotated)


def sort_csv(export: Path, out: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "genrebot_cli", "sort", "--input", str(export), "--output", str(out),
                           *options], capture_output=True, text=True, timeout=120)


def sorted_files(out: Path) -> dict[str, list[dict[str, str]]]:
    """The playlist files of a sort (not Unsorted's nor all-with-genres.csv), their rows by Exportify's URI."""
    files = {}
    for path in out.glob("*.csv"):
        if path.name not in ("all-with-genres.csv", "Unsorted · genrebot.csv"):
            with path.open(newline="") as handle:
                files[path.name] = list(csv.DictReader(handle))
    return files


def annotated(out: Path) -> dict[str, dict[str, str]]:
    """all-with-genres.csv: each row's family (Genre) and genre (Subgenre), by track URI."""
    with (out / "all-with-genres.csv").open(newline="") as handle:
        return {row["Track URI"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("level", ["genre", "subgenre", "Genre"])
def test_sort_by_genre_writes_a_file_per_genre(tmp_path: Path, level: str) -> None:
    """--level genre (or its older name subgenre, or in any case, as /sort takes it): each file holds
    the songs of one genre."""
    export = exportify(tmp_path, False)
    result = sort_csv(export, tmp_path / "out", "--level", level, "--min-size", "1")
    assert result.returncode == 0, result.stderr
    genres = annotated(tmp_path / "out")
    files = sorted_files(tmp_path / "out")
    assert sum(len(rows) for rows in files.values()) == len(genres)
    assert all(len({genres[row["Track URI"]]["Subgenre"] for row in rows}) == 1 for rows in files.values())
    assert len(files) == len({row["Subgenre"] for row in genres.values()})


def test_sort_of_picked_families_and_genres_writes_only_their_files(tmp_path: Path) -> None:
    """--genres '<a family>, <a genre of another family>' writes those two files; the other songs are in neither."""
    export = exportify(tmp_path, False)
    assert sort_csv(export, tmp_path / "first", "--min-size", "1").returncode == 0
    rows = list(annotated(tmp_path / "first").values())
    taxonomy = Classifier.load().taxonomy
    family = rows[0]["Genre"]
    other = next(r for r in rows if r["Genre"] != family)
    picked = f"{taxonomy.label(family, 'family')}, {taxonomy.label(other['Subgenre'], 'genre')}"
    result = sort_csv(export, tmp_path / "picked", "--genres", picked, "--min-size", "1")
    assert result.returncode == 0, result.stderr
    files = sorted_files(tmp_path / "picked")
    expected = {r["Track URI"] for r in rows if r["Genre"] == family or r["Subgenre"] == other["Subgenre"]}
    assert len(files) == 2 and {row["Track URI"] for f in files.values() for row in f} == expected


def test_an_unknown_genre_is_one_line_with_the_closest_names(tmp_path: Path) -> None:
    """--genres with a typo exits 2 with one line naming it and what it resembles."""
    taxonomy = Classifier.load().taxonomy
    label = taxonomy.label(taxonomy.genres[0], "genre")
    result = sort_csv(exportify(tmp_path, False), tmp_path / "o", "--genres", label + "zz")
    assert result.returncode == 2 and label in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


@pytest.mark.parametrize("flag, value", [("--min-confidence", "2"), ("--min-confidence", "high"), ("--min-size", "0"),
                                         ("--genres", ","), ("--genres", " "), ("--genres", "")])
def test_bad_options_are_one_line_errors_naming_the_flag(tmp_path: Path, flag: str, value: str) -> None:
    """An impossible --min-confidence or --min-size, or a --genres naming nothing (which sorted every song
    into no playlist), is one line naming the flag (not a field name), exit 2."""
    export = exportify(tmp_path, False)
    result = subprocess.run(
        [sys.executable, "-m", "genrebot_cli", "sort", "--csv", str(export), "--out", str(tmp_path / "o"), flag, value],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and flag in result.stderr
    assert "min_confidence" not in result.stderr and "min_playlist_size" not in result.stderr
    assert not (tmp_path / "o").exists()


def sort(*args: str, cwd: Path, extra_env: dict[str, str] | None = None,
         limit_file_size: int | None = None) -> subprocess.CompletedProcess[str]:
    """`genrebot sort ...` as a user runs it; optionally with a file-size limit (`ulimit -f`) that makes writes fail."""
    import resource

    def limit() -> None:
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run([sys.executable, "-m", "genrebot_cli", "sort", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180, preexec_fn=limit, env={**os.environ, **(extra_env or {})})


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` with its bytes: to show that nothing there changed."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_sort_names_each_file_after_its_playlist_and_lists_only_what_it_wrote(tmp_path: Path) -> None:
    """Files are "<Genre> · genrebot.csv" like /sort's playlists; the last line lists exactly the files there."""
    export = exportify(tmp_path, False)
    result = sort("--input", str(export), "--output", "sorted", "--min-size", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "sorted").iterdir() if not p.name.startswith("."))
    playlists = [name for name in written if name != "all-with-genres.csv"]
    assert playlists and all(name.endswith(" · genrebot.csv") for name in playlists)
    assert "Unsorted · genrebot.csv" not in written  # --min-size 1 leaves nothing unsorted...
    last = result.stdout.strip().splitlines()[-1]
    assert "Unsorted" not in last  # ...and the summary does not claim an unsorted file
    assert sorted(last.split(": ", 1)[1].split(", ")) == written


def test_sort_says_how_many_songs_are_by_artists_the_model_knows(tmp_path: Path) -> None:
    """40 songs by artists of the training sets and 60 by invented ones: the summary counts both,
    as /sort's reply does, before its last line (the files written)."""
    known = demo_songs_by_known_artists(Classifier.load(), 40)
    export = exportify_of(tmp_path / "mixed.csv", [*known, *synthetic_library(60, seed=61, prefix="csv")])
    result = sort_csv(export, tmp_path / "sorted")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == ("The model knows the artists of 40 of these 100 songs; the other 60 were placed from their "
                         "titles and albums and their artists' other songs in this file, so they are the "
                         "likeliest to be in the wrong playlist.")
    assert lines[-1].startswith("wrote ")


def test_sort_of_songs_by_known_artists_says_nothing_of_them(tmp_path: Path) -> None:
    """45 of 50 songs by known artists (90 %): no line about artists, as /sort would say none."""
    known = demo_songs_by_known_artists(Classifier.load(), 45)
    export = exportify_of(tmp_path / "known.csv", [*known, *synthetic_library(5, seed=62, prefix="csv")])
    result = sort_csv(export, tmp_path / "sorted")
    assert result.returncode == 0, result.stderr
    assert "50 songs from known.csv" in result.stdout and "artists" not in result.stdout


def test_sort_refuses_an_output_directory_holding_other_files(tmp_path: Path) -> None:
    """--output with a user's files in it: one line, exit 2, nothing written or removed there."""
    export = exportify(tmp_path, False)
    (tmp_path / "my-playlists").mkdir()
    (tmp_path / "my-playlists" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    for extra in ([], ["--force"]):
        result = sort("--input", str(export), "--output", "my-playlists", *extra, cwd=tmp_path)
        assert result.returncode == 2 and "did not write" in result.stderr
        assert result.stderr.count("\n") == 1
    assert snapshot(tmp_path) == before


def test_a_second_sort_replaces_the_first_only_with_force(tmp_path: Path) -> None:
    """A genre run then a subgenre run into one folder: refused without --force; with it, only the
    subgenre run's files are left (no pop.csv beside dance-pop.csv to import twice)."""
    export = exportify(tmp_path, False)
    assert sort("--input", str(export), "--output", "sorted", "--min-size", "1", cwd=tmp_path).returncode == 0
    first = snapshot(tmp_path / "sorted")
    refused = sort("--input", str(export), "--output", "sorted", "--level", "subgenre", "--min-size", "1", cwd=tmp_path)
    assert refused.returncode == 2 and "pass --force" in refused.stderr
    assert snapshot(tmp_path / "sorted") == first
    forced = sort("--input", str(export), "--output", "sorted", "--level", "subgenre", "--min-size", "1", "--force",
                  cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    listed = sorted(forced.stdout.strip().splitlines()[-1].split(": ", 1)[1].split(", "))
    present = sorted(p.name for p in (tmp_path / "sorted").iterdir() if not p.name.startswith("."))
    assert present == listed  # every first-run file the second run did not write again is gone
    assert set(first) - {".genrebot-sort.json"} - set(listed)  # (and there were such files)


def test_a_sort_of_a_file_the_forced_output_would_replace_is_refused(tmp_path: Path) -> None:
    """Splitting one file of an earlier sort into the same folder with --force (as to split Rock into
    its subgenres) would remove the file it reads: refused with one line, every file left as it was."""
    export = exportify(tmp_path, False)
    assert sort("--input", str(export), "--output", "sorted", "--min-size", "1", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path)
    one_file = next(p for p in (tmp_path / "sorted").glob("* · genrebot.csv") if not p.name.startswith("Unsorted"))
    result = sort("--input", str(one_file), "--output", "sorted", "--level", "subgenre", "--min-size", "1", "--force",
                  cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.strip() == (f"genrebot sort: --input {one_file} is a file of the earlier sort in --output "
                                     "sorted, which --force replaces: write this sort to another directory")
    assert snapshot(tmp_path) == before


def test_a_sort_that_fails_while_writing_leaves_the_output_as_it_was(tmp_path: Path) -> None:
    """A write that fails half-way (the disk fills: here `ulimit -f`) changes nothing in --output."""
    export = exportify(tmp_path, False)
    assert sort("--input", str(export), "--output", "sorted", "--min-size", "1", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path)
    # Room for the small per-genre files, not for all-with-genres.csv (about 8 kB), written last.
    result = sort("--input", str(export), "--output", "sorted", "--level", "subgenre", "--min-size", "1", "--force",
                  cwd=tmp_path, limit_file_size=4096)
    assert result.returncode == 2 and "nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before  # and no staging folder left beside it


def test_a_sort_stopped_while_moving_its_files_in_is_replaced_whole_by_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A --force sort stopped after moving some of its files into --output (Ctrl-C, a crash) leaves
    a folder the next `--force` run still knows as genrebot's own: it replaces it whole, instead of
    refusing the new files as "files genrebot did not write"."""
    import cli_output
    from genrebot_cli import main

    export = exportify(tmp_path, False)
    assert sort("--input", str(export), "--output", "sorted", "--min-size", "1", cwd=tmp_path).returncode == 0
    moves_into_output = 0
    replace = os.replace

    def stopped_after_two_moves(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        nonlocal moves_into_output
        if Path(target).absolute().parent == tmp_path / "sorted" and Path(target).name.endswith(".csv"):
            moves_into_output += 1
            if moves_into_output > 2:
                raise KeyboardInterrupt
        replace(source, target)

    monkeypatch.setattr(cli_output.os, "replace", stopped_after_two_moves)
    monkeypatch.chdir(tmp_path)
    assert main(["sort", "--input", str(export), "--output", "sorted", "--level", "genre", "--min-size", "1",
                 "--force"]) == 130
    monkeypatch.setattr(cli_output.os, "replace", replace)
    again = sort("--input", str(export), "--output", "sorted", "--min-size", "1", "--force", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    listed = sorted(again.stdout.strip().splitlines()[-1].split(": ", 1)[1].split(", "))
    assert sorted(p.name for p in (tmp_path / "sorted").iterdir() if not p.name.startswith(".")) == listed


def test_sort_writes_no_cell_a_spreadsheet_would_run(tmp_path: Path) -> None:
    """Every file sort writes applies OWASP's rule: formulas become text; negative numbers stay numbers."""
    from tests.training.test_cli import FORMULAS, cells_a_spreadsheet_would_run, exportify_with_formulas

    result = sort("--input", str(exportify_with_formulas(tmp_path)), "--output", "sorted", "--min-size", "1",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = list((tmp_path / "sorted").glob("*.csv"))
    assert files and all(cells_a_spreadsheet_would_run(path) == [] for path in files)
    with (tmp_path / "sorted" / "all-with-genres.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["Track Name"] for r in rows[:len(FORMULAS)]] == ["'" + f for f in FORMULAS]
    assert rows[0]["Loudness"] == "-5.000"


def test_multi_by_genre_also_files_songs_under_their_second_genre(tmp_path: Path) -> None:
    """`--multi --level genre` adds songs to a second genre's file (mirroring /sort), never twice to one file."""
    export = exportify(tmp_path, False)
    single = sort_csv(export, tmp_path / "one", "--level", "genre", "--min-size", "1")
    multi = sort_csv(export, tmp_path / "two", "--level", "genre", "--min-size", "1", "--multi")
    assert single.returncode == 0 and multi.returncode == 0, multi.stderr
    one, two = sorted_files(tmp_path / "one"), sorted_files(tmp_path / "two")
    assert all(len({r["Track URI"] for r in rows}) == len(rows) for rows in two.values())
    placed = [r["Track URI"] for rows in two.values() for r in rows]
    assert len(placed) >= sum(len(rows) for rows in one.values())
    assert set(placed) == {r["Track URI"] for rows in one.values() for r in rows}


def test_sort_help_states_how_likely_a_second_genre_must_be_for_multi(tmp_path: Path) -> None:
    """`genrebot sort --help` documents --multi's threshold: a second family (or genre) at least 30% likely."""
    result = sort("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "second most likely family (or genre, with --level genre) when that is at least 30% likely" in " ".join(
        result.stdout.split())


def test_sort_shows_a_progress_bar_with_the_time_left_while_classifying(tmp_path: Path) -> None:
    """`genrebot sort` draws a tqdm bar on stderr: songs classified of the total, and the time left."""
    result = sort("--input", str(exportify(tmp_path, False)), "--output", "sorted", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    last_bar = [part for part in result.stderr.replace("\r", "\n").splitlines() if part.startswith("classifying")][-1]
    assert "100%" in last_bar and "songs" in last_bar and "<" in last_bar  # tqdm's [elapsed<left]


def test_sort_of_an_export_larger_than_a_chunk_keeps_every_row_once_in_order(tmp_path: Path) -> None:
    """An export read in several chunks: every row in exactly one file, files in the export's order."""
    from training.predict import CHUNK_ROWS

    source = exportify(tmp_path, False)
    with source.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    big = tmp_path / "big.csv"
    with big.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for number in range(CHUNK_ROWS * 2 + 500):
            row = list(rows[number % len(rows)])
            row[0] = f"spotify:track:{number:022d}"
            writer.writerow(row)
    result = sort("--input", str(big), "--output", "sorted", "--min-size", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    seen: list[str] = []
    for path in (tmp_path / "sorted").glob("* · genrebot.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            uris = [r["Track URI"] for r in csv.DictReader(handle)]
        assert uris == sorted(uris)  # input order (the ids count up)
        seen.extend(uris)
    assert sorted(seen) == [f"spotify:track:{n:022d}" for n in range(CHUNK_ROWS * 2 + 500)]


def test_a_runaway_field_is_sorted_and_written_back_whole(tmp_path: Path) -> None:
    """A 5 MB title (a broken export) is classified and its row written back unchanged, not cut."""
    source = exportify(tmp_path, False)
    with source.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    rows[0][1] = "Very long title " * 330_000
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    result = sort("--input", str(source), "--output", "sorted", "--min-size", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    csv.field_size_limit(16_000_000)  # Python's csv module refuses fields over 128 KiB by default
    with (tmp_path / "sorted" / "all-with-genres.csv").open(newline="", encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    assert first["Track Name"] == rows[0][1] and first["Genre"]


def sort_peak_mib(export: Path, output: str, cwd: Path) -> float:
    """Peak resident memory (VmHWM) of one `genrebot sort` process, as it reports it itself when it exits."""
    report_peak_then_sort = (
        "import atexit, runpy, sys; atexit.register(lambda: print('VmHWM_KB', next(line.split()[1] for line in "
        "open('/proc/self/status') if line.startswith('VmHWM')), file=sys.stderr)); "
        "sys.argv = ['genrebot', *sys.argv[1:]]; runpy.run_module('genrebot_cli', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", report_peak_then_sort, "sort", "--input", str(export),
                             "--output", output, "--min-size", "1"], cwd=cwd, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return int(next(line.split()[1] for line in result.stderr.splitlines() if line.startswith("VmHWM_KB"))) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from /proc (Linux)")
def test_a_runaway_field_adds_little_to_the_peak_memory_of_a_sort(tmp_path: Path) -> None:
    """A 10 MB title adds under 150 MB to sort's peak memory, against the same export without it."""
    plain = exportify(tmp_path, False)
    with plain.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    rows[0][1] = "Very long title " * 625_000
    runaway = tmp_path / "runaway.csv"
    with runaway.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    reference = sort_peak_mib(plain, "sorted-plain", tmp_path)
    measured = sort_peak_mib(runaway, "sorted-runaway", tmp_path)
    assert measured - reference < 150, f"{measured:.0f} MiB with the 10 MB title, {reference:.0f} MiB without"


def test_a_genre_column_of_the_users_own_is_kept_beside_genrebots(tmp_path: Path) -> None:
    """An export that already has a "Genre" column (a user's own labels): all-with-genres.csv keeps
    it as it was and puts genrebot's family under "Genre (genrebot)"."""
    with exportify(tmp_path, False).open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    labelled = tmp_path / "labelled.csv"
    with labelled.open("w", newline="") as handle:
        csv.writer(handle).writerows([[*header, "Genre"], *([*row, f"my label {i}"] for i, row in enumerate(rows))])
    result = sort_csv(labelled, tmp_path / "sorted", "--min-size", "2")
    assert result.returncode == 0, result.stderr
    with (tmp_path / "sorted" / "all-with-genres.csv").open(newline="") as handle:
        annotated = list(csv.DictReader(handle))
    assert [r["Genre"] for r in annotated] == [f"my label {i}" for i in range(len(rows))]
    families = set(Classifier.load().taxonomy.families)
    assert all(r["Genre (genrebot)"] in families for r in annotated)
    assert all(0 < float(r["Genre Confidence"]) <= 1 for r in annotated)


def test_sort_files_a_listed_song_with_its_first_artists_other_songs(tmp_path: Path) -> None:
    """`sort --csv` of a file without artist URIs: "Nova Harbor, Quiet Lanterns" is sorted with
    Nova Harbor's other songs (a model pooled by artist alone gives them one genre), into their playlist."""
    from tests.training.test_cli import library_with_a_listed_artist, pooled_by_artist_only

    result = sort_csv(library_with_a_listed_artist(tmp_path), tmp_path / "sorted", "--min-size", "1",
                      "--model", str(pooled_by_artist_only(tmp_path)))
    assert result.returncode == 0, result.stderr
    with (tmp_path / "sorted" / "all-with-genres.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    harbor = {(r["Genre"], r["Genre Confidence"]) for r in rows if r["artists"].startswith("Nova Harbor")}
    assert len(harbor) == 1, harbor
    playlists = {name for name, songs in sorted_files(tmp_path / "sorted").items()
                 if any(s["artists"].startswith("Nova Harbor") for s in songs)}
    assert len(playlists) == 1, playlists


def test_sort_counts_a_listed_song_as_by_the_known_artist_it_starts_with(tmp_path: Path) -> None:
    """A file without artist URIs that writes guests after a known artist ("Drake, Quiet Lanterns"):
    those songs are by an artist the model knows, and the summary counts them so."""
    known = demo_songs_by_known_artists(Classifier.load(), 6)
    rows = [[t.name, f"{t.artists[0]}, Quiet Lanterns" if i % 2 else t.artists[0], t.album]
            for i, t in enumerate(known)]
    rows += [[t.name, t.artists[0], t.album] for t in synthetic_library(4, seed=63, prefix="csv")]
    export = tmp_path / "guests.csv"
    with export.open("w", newline="") as handle:
        csv.writer(handle).writerows([["Track Name", "Artist Name(s)", "Album Name"], *rows])
    result = sort_csv(export, tmp_path / "sorted")
    assert result.returncode == 0, result.stderr
    assert "The model knows the artists of 6 of these 10 songs" in result.stdout, result.stdout


def test_podcast_episodes_in_an_export_are_left_unsorted_like_sort_leaves_them(tmp_path: Path) -> None:
    """A playlist export with episodes (Exportify writes them as Spotify dresses them as tracks: a
    `spotify:episode:` URI, the show as artist and album) files them under Unsorted, never in a genre
    file, with no genre in all-with-genres.csv, and says so; /sort skips them too."""
    songs = synthetic_library(30, seed=71, prefix="pod")
    export = with_episodes(exportify_of(tmp_path / "mixed.csv", songs), 2)
    result = sort_csv(export, tmp_path / "sorted", "--min-size", "1")
    assert result.returncode == 0, result.stderr
    filed = {row["Track URI"] for rows in sorted_files(tmp_path / "sorted").values() for row in rows}
    assert len(filed) == 30 and not any(uri.startswith("spotify:episode:") for uri in filed)
    with (tmp_path / "sorted" / "Unsorted · genrebot.csv").open(newline="") as handle:
        assert [row["Track URI"][:17] for row in csv.DictReader(handle)] == ["spotify:episode:0", "spotify:episode:1"]
    rows = annotated(tmp_path / "sorted")
    assert len(rows) == 32 and rows["spotify:episode:0pisode0000000000000"]["Genre"] == ""
    assert "2 podcast episodes" in result.stdout
