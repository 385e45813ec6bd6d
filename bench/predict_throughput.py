"""`genrebot predict` and `genrebot sort --csv` end to end (read the CSV, classify, write), as the
cost of each extra row relative to a plain linear model on hashed name n-grams doing the same job
on the same rows, in the same run.

    python -m bench.predict_throughput [--rounds N] [--layout exportify|names]

Each contender runs as a fresh process on an Exportify-layout CSV of 2,000 and of 100,000 rows
(`--layout names`: the same without the `Artist URI(s)` column, as other exports and Kaggle sets
are, every fifth song with a guest artist after its own, "A, B", which genrebot then reads by the
file's artists and the model's: training/artist_lists.py);
the cost per extra row is (t(100,000) - t(2,000)) / 98,000, so start-up (imports, loading the
model) cancels out. (Until 2026-11-28 the larger file had 20,000 rows: the reference's 18,000
extra rows cost about half a second, no more than its start-up varies between runs, and a round's
difference could come out negative.) Contenders are interleaved (reference, A, B, ..., reference, A, B, ...) for
several rounds; each round gives every contender a ratio to the reference measured moments
apart (listed per round), and the table's ratio is the median cost over rounds divided by the
reference's median (the reference's cost per row is small enough that one round's can be noise,
even negative, so the median of per-round ratios is not used). Two clocks: wall time, and the
process's CPU time (user + system, from the kernel's accounting of the finished child), which a
loaded machine inflates far less than wall time. The CPU-time ratio is the one to read on a
shared machine; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.machine import describe, table
from sandbox.library import synthetic_library

SIZES = (2_000, 100_000)
ROUNDS = 5
REFERENCE = "plain linear model on hashed name n-grams"
HEADER = ["Track URI", "Track Name", "Artist URI(s)", "Artist Name(s)", "Album Name", "Album Release Date",
          "Track Duration (ms)", "Explicit", "Popularity"]

# The reference: read with pandas, hash word 1-2-grams and character 2-4-grams of the names,
# one linear layer (random weights: the arithmetic is what is timed), write with pandas.
LINEAR = """
import sys
import numpy as np, pandas as pd
from scipy.sparse import hstack
from sklearn.feature_extraction.text import HashingVectorizer
source, target = sys.argv[1], sys.argv[2]
frame = pd.read_csv(source, dtype=str, keep_default_na=False)
text = (frame["Track Name"] + " | " + frame["Album Name"] + " | " + frame["Artist Name(s)"]).str.lower()
words = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=1 << 17, alternate_sign=False)
chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=1 << 17, alternate_sign=False)
features = hstack([words.transform(text), chars.transform(text)]).tocsr()
weights = np.random.default_rng(0).standard_normal((features.shape[1], 124)).astype(np.float32)
logits = features @ weights
best = logits.argmax(1)
out = frame[["Track URI", "Track Name", "Artist Name(s)"]].assign(genre=best, confidence=logits.max(1))
out.to_csv(target, index=False)
"""


def write_export(path: Path, n: int, layout: str = "exportify") -> None:
    tracks = synthetic_library(n, seed=5)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if layout == "exportify":
            writer.writerow(HEADER)
            for track in tracks:
                writer.writerow([f"spotify:track:{track.id}", track.name, "", ", ".join(track.artists), track.album,
                                 track.release_date or "", track.duration_ms or "", "false", 0])
            return
        writer.writerow([name for name in HEADER if name != "Artist URI(s)"])
        for i, track in enumerate(tracks):
            guests = (tracks[(i * 7919) % n].artists[0],) if i % 5 == 0 else ()
            writer.writerow([f"spotify:track:{track.id}", track.name, ", ".join((*track.artists, *guests)), track.album,
                             track.release_date or "", track.duration_ms or "", "false", 0])


@dataclass
class Timing:
    wall: float
    cpu: float


def timed(command: list[str]) -> Timing:
    """Wall time and the child's CPU time (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timing(wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"interleaved rounds (default {ROUNDS})")
    parser.add_argument("--layout", choices=("exportify", "names"), default="exportify",
                        help="Exportify's columns, or the same without artist URIs (default exportify)")
    args = parser.parse_args(argv)
    genrebot = [sys.executable, "-m", "genrebot_cli"]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exports = {n: work / f"export-{n}.csv" for n in SIZES}
        for n, path in exports.items():
            write_export(path, n, args.layout)
        jobs = {
            REFERENCE: lambda p: [sys.executable, "-c", LINEAR, str(p), str(work / "linear.csv")],
            "genrebot predict": lambda p: [*genrebot, "predict", "--input", str(p), "--output",
                                           str(work / "predicted.csv"), "--force"],
            "genrebot predict --library": lambda p: [*genrebot, "predict", "--input", str(p), "--output",
                                                     str(work / "predicted.csv"), "--library", "--force"],
            "genrebot sort --csv": lambda p: [*genrebot, "sort", "--csv", str(p), "--out", str(work / "sorted"), "--force"],
        }
        per_row: dict[str, list[Timing]] = {name: [] for name in jobs}
        for _ in range(args.rounds):  # interleaved: every contender sees the same machine moments apart
            for name, command in jobs.items():
                small, large = timed(command(exports[SIZES[0]])), timed(command(exports[SIZES[1]]))
                extra = SIZES[1] - SIZES[0]
                per_row[name].append(Timing((large.wall - small.wall) / extra, (large.cpu - small.cpu) / extra))
    load_after = os.getloadavg()

    def ratios(name: str, clock: str) -> list[float]:
        return [getattr(mine, clock) / getattr(ref, clock) for mine, ref in zip(per_row[name], per_row[REFERENCE],
                                                                                strict=True)]

    # Ratios of the medians: the reference's cost per extra row is small enough that one round's
    # difference can be noise (even negative), which makes a per-round ratio meaningless.
    reference_wall = statistics.median(t.wall for t in per_row[REFERENCE])
    reference_cpu = statistics.median(t.cpu for t in per_row[REFERENCE])
    rows: list[list[object]] = []
    for name in jobs:
        wall = statistics.median(t.wall for t in per_row[name])
        cpu = statistics.median(t.cpu for t in per_row[name])
        rows.append([name, f"{wall * 1e6:.1f} µs", f"{cpu * 1e6:.1f} µs", f"{1 / cpu:,.0f}",
                     f"{wall / reference_wall:.2f}x", f"{cpu / reference_cpu:.2f}x",
                     ", ".join(f"{r:.2f}" for r in ratios(name, "cpu"))])
    print(f"Read, classify, write ({args.layout} layout): cost per extra row, median of {args.rounds} interleaved "
          f"rounds ({describe()}; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after)\n")
    print(table(["command", "wall per extra row", "CPU per extra row", "rows/s (CPU)", "vs linear (wall)",
                 "vs linear (CPU)", "CPU ratio per round"], rows))


if __name__ == "__main__":
    main()
