"""`genrebot predict` and `genrebot sort --csv` end to end (read the CSV, classify, write), as the
cost of each extra row relative to a plain linear model on hashed name n-grams doing the same job
on the same rows, in the same run.

    python -m bench.predict_throughput

Each contender runs as a fresh process on an Exportify-layout CSV of 2,000 and of 20,000 rows;
the cost per extra row is (t(20,000) - t(2,000)) / 18,000, so start-up (imports, loading the
model) cancels out. Best of three runs per size.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe, table
from sandbox.library import synthetic_library

SIZES = (2_000, 20_000)
ROUNDS = 3
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


def write_export(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for track in synthetic_library(n, seed=5):
            writer.writerow([f"spotify:track:{track.id}", track.name, "", ", ".join(track.artists), track.album,
                             track.release_date or "", track.duration_ms or "", "false", 0])


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    return time.perf_counter() - start


def main() -> None:
    genrebot = [sys.executable, "-m", "genrebot_cli"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exports = {n: work / f"export-{n}.csv" for n in SIZES}
        for n, path in exports.items():
            write_export(path, n)
        jobs = {
            "plain linear model on hashed name n-grams": lambda p: [sys.executable, "-c", LINEAR, str(p),
                                                                    str(work / "linear.csv")],
            "genrebot predict": lambda p: [*genrebot, "predict", "--input", str(p), "--output",
                                           str(work / "predicted.csv")],
            "genrebot predict --library": lambda p: [*genrebot, "predict", "--input", str(p), "--output",
                                                     str(work / "predicted.csv"), "--library"],
            "genrebot sort --csv": lambda p: [*genrebot, "sort", "--csv", str(p), "--out", str(work / "sorted")],
        }
        best = {(name, n): float("inf") for name in jobs for n in SIZES}
        for _ in range(ROUNDS):  # interleaved, so every contender sees the same machine load
            for name, command in jobs.items():
                for n, path in exports.items():
                    best[(name, n)] = min(best[(name, n)], timed(command(path)))
    per_row = {name: (best[(name, SIZES[1])] - best[(name, SIZES[0])]) / (SIZES[1] - SIZES[0]) for name in jobs}
    reference = per_row["plain linear model on hashed name n-grams"]
    rows: list[list[object]] = [[name, f"{best[(name, SIZES[0])]:.2f} s", f"{best[(name, SIZES[1])]:.2f} s",
             f"{per_row[name] * 1e6:.1f} µs", f"{1 / per_row[name]:,.0f}", f"{per_row[name] / reference:.2f}x"]
            for name in jobs]
    print(f"Read, classify, write: cost per extra row, best of {ROUNDS} ({describe()})\n")
    print(table(["command", f"{SIZES[0]:,} rows", f"{SIZES[1]:,} rows", "per extra row", "rows/s (marginal)",
                 "vs linear model"], rows))


if __name__ == "__main__":
    main()
