"""Peak memory of `genrebot sort` on huge inputs (issue #15 item 8), against merely reading the
same file with pandas, in the same run.

    python -m bench.huge_inputs [--megabytes 200]

Three inputs, each sorted by a fresh `genrebot sort` process that reports its own peak resident
memory (VmHWM, read from /proc/self/status as it exits: unlike wait4's ru_maxrss it does not count
the forking parent): an Exportify export of about 200 MB, a small export with one 50 MB title,
and one with a 1,000,000-character title. The reference for each is a fresh
process that only reads the same file with `pandas.read_csv(dtype=str)`: what holding the file
as text costs at all.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe, table
from sandbox.library import synthetic_library

HEADER = ["Track URI", "Track Name", "Artist URI(s)", "Artist Name(s)", "Album URI", "Album Name",
          "Album Artist URI(s)", "Album Artist Name(s)", "Album Release Date", "Album Image URL", "Disc Number",
          "Track Number", "Track Duration (ms)", "Track Preview URL", "Explicit", "Popularity", "ISRC",
          "Added By", "Added At"]
# Each measured process prints its own high-water mark as it exits.
REPORT_PEAK = ("import atexit, sys; atexit.register(lambda: print('VmHWM_KB', next(l.split()[1] for l in "
               "open('/proc/self/status') if l.startswith('VmHWM')), file=sys.stderr)); ")
READ_ONLY = REPORT_PEAK + "import pandas as pd; pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)"
SORT = REPORT_PEAK + "import runpy; sys.argv = ['genrebot', *sys.argv[1:]]; runpy.run_module('genrebot_cli', run_name='__main__')"


def write_export(path: Path, megabytes: float, *, giant_title: int = 0) -> int:
    """An Exportify-layout export of about `megabytes` MB (rows cycle a synthetic library with fresh ids)."""
    songs = synthetic_library(20_000, seed=11)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        if giant_title:
            writer.writerow(["spotify:track:giant", "x" * giant_title, "", "Somebody", "", "Album", "", "", "2020",
                             "", 1, 1, 200000, "", "false", 0, "", "", ""])
            rows += 1
        while handle.tell() < megabytes * 1_000_000:
            for song in songs[:2_000]:
                rows += 1
                writer.writerow([f"spotify:track:{rows:022d}", song.name, "spotify:artist:x", ", ".join(song.artists),
                                 "spotify:album:y", song.album, "", "", song.release_date or "", "https://i.scdn.co/x",
                                 1, rows % 20 + 1, song.duration_ms or "", "", "false", 40, "USRC17607839",
                                 "", "2024-01-01T00:00:00Z"])
            songs = songs[2_000:] + songs[:2_000]
    return rows


def peak(command: list[str]) -> tuple[float, float, int]:
    """(peak resident MiB, seconds, exit status) of one fresh process that reports its VmHWM."""
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    reported = [line.split()[1] for line in result.stderr.splitlines() if line.startswith("VmHWM_KB")]
    if result.returncode:
        print(result.stderr[-2000:], file=sys.stderr)
    return (int(reported[-1]) / 1024 if reported else float("nan")), seconds, result.returncode


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=200.0)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = [
            (f"Exportify export, {args.megabytes:.0f} MB", Path(tmp) / "huge.csv", args.megabytes, 0),
            ("one 50 MB title + 2,000 rows", Path(tmp) / "field.csv", 50.5, 50_000_000),
            ("one 1,000,000-character title + 2,000 rows", Path(tmp) / "name.csv", 1.5, 1_000_000),
        ]
        for label, path, megabytes, giant in inputs:
            count = write_export(path, megabytes, giant_title=giant)
            size = path.stat().st_size / 1e6
            reference, ref_seconds, _ = peak([sys.executable, "-c", READ_ONLY, str(path)])
            out = Path(tmp) / f"out-{path.stem}"
            used, seconds, status = peak([sys.executable, "-c", SORT, "sort", "--input", str(path),
                                          "--output", str(out)])
            rows.append([label, f"{count:,}", f"{size:.0f} MB", f"{used:,.0f} MiB" if status == 0 else "failed",
                         f"{seconds:.0f} s", f"{reference:,.0f} MiB", f"{used / reference:.2f}x"])
            path.unlink()
    print(f"machine: {describe()}")  # after the runs: importing torch here would not change them, but keep it light
    print(table(["input", "rows", "file", "sort peak RSS", "sort time", "pandas read_csv alone", "ratio"], rows))


if __name__ == "__main__":
    main()
