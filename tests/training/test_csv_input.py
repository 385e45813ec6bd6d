"""What users hand `sort` and `predict` instead of a clean UTF-8 comma CSV, as they would run it."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from tests.training.layouts import exportify, genrebot, write

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def one_line_refusal(result_stderr: str) -> str:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result_stderr, result_stderr
    return lines[0]


@pytest.mark.parametrize("command", ["sort", "predict"])
@pytest.mark.parametrize("content, said", [
    (b"", "is empty"),
    (b"\n\n", "is empty"),
    (PNG, "looks like a PNG image, not a CSV file"),
    (b"PK\x03\x04" + bytes(40), "Excel workbook (.xlsx)"),
    (b"Track URI,Track Name,Artist Name(s)\n", "has a header but no rows"),
    (b"Track URI,Track Name\nspotify:track:1,Song\n", "no artists column"),
], ids=["empty", "blank lines", "png", "xlsx", "header only", "no artists"])
def test_a_file_that_is_not_a_usable_export_is_named_in_one_line(
        tmp_path: Path, command: str, content: bytes, said: str) -> None:
    """Empty, an image, a workbook, a header alone, no artists: one line saying which, exit 2."""
    bad = tmp_path / "export.csv"
    bad.write_bytes(content)
    output = ["--output", str(tmp_path / ("out" if command == "sort" else "out.csv"))]
    result = genrebot(command, "--input", str(bad), *output, cwd=tmp_path)
    assert result.returncode == 2
    assert said in one_line_refusal(result.stderr)
    if said == "no artists column":
        assert "Track URI" not in result.stderr  # the missing column is named, not the found ones


@pytest.mark.parametrize("command", ["sort", "predict"])
def test_a_directory_given_as_input_is_one_line(tmp_path: Path, command: str) -> None:
    """`--input DIR`: one line, exit 2."""
    output = ["--output", str(tmp_path / ("out" if command == "sort" else "out.csv"))]
    result = genrebot(command, "--input", str(tmp_path), *output, cwd=tmp_path)
    assert result.returncode == 2 and "is a directory" in one_line_refusal(result.stderr)


def reencode(source: Path, target: Path, *, delimiter: str = ",", encoding: str = "utf-8",
             gzipped: bool = False) -> Path:
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[1][1] = "Café Señorita Ünïcode"  # a title only the right encoding reads back
    opener = gzip.open if gzipped else open
    with opener(target, "wt", newline="", encoding=encoding) as handle:  # type: ignore[operator]
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return target


@pytest.mark.parametrize("variant", ["semicolons", "tabs", "windows-1252", "utf-8 with BOM", "gzip named .csv"])
def test_exports_saved_another_way_are_read_as_they_are(tmp_path: Path, variant: str) -> None:
    """Semicolon- or tab-separated, Windows-1252, a BOM, gzip: read, every row sorted, titles intact."""
    source = exportify(tmp_path, False)
    kwargs = {"semicolons": {"delimiter": ";"}, "tabs": {"delimiter": "\t"}, "windows-1252": {"encoding": "cp1252"},
              "utf-8 with BOM": {"encoding": "utf-8-sig"}, "gzip named .csv": {"gzipped": True}}[variant]
    export = reencode(source, tmp_path / "other.csv", **kwargs)  # type: ignore[arg-type]
    result = genrebot("sort", "--input", str(export), "--output", str(tmp_path / "out"), "--min-size", "1")
    assert result.returncode == 0, result.stderr
    assert "30 songs" in result.stdout
    with (tmp_path / "out" / "all-with-genres.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 30 and rows[0]["Track Name"] == "Café Señorita Ünïcode"


def output_for(command: str, tmp_path: Path) -> list[str]:
    return ["--output", str(tmp_path / ("out" if command == "sort" else "out.csv"))]


@pytest.mark.parametrize("command", ["sort", "predict"])
def test_a_file_in_neither_utf8_nor_windows_1252_is_one_line(tmp_path: Path, command: str) -> None:
    """A Japanese Excel's Shift-JIS export (bytes Windows-1252 leaves undefined): one line naming
    the encoding to save it in, exit 2, nothing written."""
    source = exportify(tmp_path, False)
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[1][1] = "星・夜「東京」"  # ・ and 「 are 0x81 0x45 and 0x81 0x75 in Shift-JIS
    export = tmp_path / "shift-jis.csv"
    with export.open("w", newline="", encoding="cp932", errors="replace") as handle:  # the synthetic ó: ?
        csv.writer(handle).writerows(rows)
    result = genrebot(command, "--input", str(export), *output_for(command, tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "save it as UTF-8" in one_line_refusal(result.stderr)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", ["sort", "predict", "evaluate"])
def test_a_gzip_export_cut_short_is_one_line(tmp_path: Path, command: str) -> None:
    """A .csv.gz whose download stopped half-way (past the first look at its head): one line, exit 2."""
    header = ["track_name", "artists", "album_name", "track_genre"]
    whole = write(tmp_path / "whole.csv.gz", header,
                  [[f"Song {i} {i * 7919 % 104729}", f"Artist {i % 97}", f"Album {i % 13}", ["rock", "jazz"][i % 2]]
                   for i in range(60_000)])
    data = whole.read_bytes()
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) * 3 // 4])
    output = output_for(command, tmp_path) if command != "evaluate" else []
    result = genrebot(command, "--input", str(cut), *output, cwd=tmp_path)
    assert result.returncode == 2
    assert "damaged gzip" in one_line_refusal(result.stderr)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", ["sort", "predict", "evaluate"])
def test_rows_with_a_field_more_than_the_header_are_refused_not_read_shifted(tmp_path: Path, command: str) -> None:
    """Rows with one field past the header's last (a separator at each line's end, or an unquoted
    comma): pandas would take the first column as the index and read every column one to the
    left. One line, exit 2, instead."""
    header = ["track_name", "artists", "album_name", "track_genre"]
    rows = [[f"Song {i}", f"Artist {i % 7}", f"Album {i % 3}", ["rock", "jazz"][i % 2]] for i in range(40)]
    export = tmp_path / "trailing.csv"
    export.write_text("".join(",".join(r) + "\n" for r in [header, *[[*r, ""] for r in rows]]), encoding="utf-8")
    output = output_for(command, tmp_path) if command != "evaluate" else []
    result = genrebot(command, "--input", str(export), *output, cwd=tmp_path)
    assert result.returncode == 2
    assert "more fields than the header" in one_line_refusal(result.stderr)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.csv").exists()
