"""The bot package's subcommands: `genrebot run --list-commands` and `genrebot sort --csv`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.layouts import exportify


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


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    """An impossible --min-confidence is one line naming it, exit status 2."""
    export = exportify(tmp_path, False)
    result = subprocess.run(
        [sys.executable, "-m", "genrebot_cli", "sort", "--csv", str(export), "--out", str(tmp_path / "o"),
         "--min-confidence", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and "min_confidence" in result.stderr and "Traceback" not in result.stderr


def test_list_commands_prints_the_tree_without_token_or_network(clean_env: dict[str, str], tmp_path: Path) -> None:
    """`run --list-commands` prints every slash command and its options, with no credentials set."""
    result = subprocess.run([sys.executable, "-m", "genrebot_cli", "run", "--list-commands"], env=clean_env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    tree = {c["name"]: c for c in json.loads(result.stdout)}
    assert set(tree) == {"link", "unlink", "sort", "genres", "stats", "status", "schedule", "leaderboard", "privacy"}
    assert {o["name"] for o in tree["sort"]["options"]} == {
        "genres", "level", "min_confidence", "min_size", "multi", "dry_run"}
    assert {o["name"] for o in tree["schedule"]["options"]} == {"set", "off", "status"}
    assert all(c["description"] for c in tree.values())
