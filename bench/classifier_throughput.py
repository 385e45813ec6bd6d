"""Featurise + predict throughput of the shipped model on 10,000 tracks, one thread and all, side by
side with a reference model (e.g. the previous release) in the same run.

    python -m bench.classifier_throughput [--reference-checkout DIR [--reference-model DIR]]

The reference runs from its own checkout in a subprocess (its code may differ from ours), on the
same synthetic tracks, alternating with ours so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.machine import describe, table

N = 10_000
ROUNDS = 3

# Runs in whichever checkout is on sys.path: ours, or the reference's. Prints one JSON object.
MEASURE = """
import json, random, sys, time
from dataclasses import replace
from classifier import Classifier
from sandbox.library import synthetic_library
n, threads, model = int(sys.argv[1]), int(sys.argv[2]), (sys.argv[3] or None)
tracks = synthetic_library(n, seed=3)
rng = random.Random(1)
with_audio = [replace(t, audio_features={"danceability": rng.random(), "energy": rng.random(), "key": 5,
    "loudness": -6.0, "mode": 1, "speechiness": rng.random() / 3, "acousticness": rng.random(),
    "instrumentalness": 0.0, "liveness": 0.1, "valence": rng.random(), "tempo": 120.0}) for t in tracks]
classifier = Classifier.load(model, threads=threads)
classifier.classify(tracks[:500])
out = {}
for label, data in (("metadata only", tracks), ("with audio features", with_audio)):
    start = time.perf_counter()
    classifier.classify(data)
    out[label] = time.perf_counter() - start
print(json.dumps({"version": classifier.version, "seconds": out}))
"""


def measure(checkout: Path, threads: int, model: str = "") -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    result = subprocess.run([sys.executable, "-c", MEASURE, str(N), str(threads), model], cwd=checkout, env=env,
                            capture_output=True, text=True, check=True)
    body: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reference-checkout", type=Path, help="a checkout of the reference genrebot")
    parser.add_argument("--reference-model", default="", help="its model directory (default: its shipped one)")
    args = parser.parse_args(argv)
    ours = Path(__file__).resolve().parent.parent
    contenders = [("shipped", ours, "")]
    if args.reference_checkout:
        contenders.append(("reference", args.reference_checkout.resolve(), args.reference_model))
    best: dict[tuple[str, int, str], float] = {}
    versions: dict[str, str] = {}
    for threads in sorted({1, os.cpu_count() or 1}):
        for _ in range(ROUNDS):  # alternate, keep each one's best: both see the same machine
            for name, checkout, model in contenders:
                result = measure(checkout, threads, model)
                versions[name] = str(result["version"])
                for label, seconds in result["seconds"].items():  # type: ignore[attr-defined]
                    key = (name, threads, label)
                    best[key] = min(best.get(key, float("inf")), float(seconds))
    rows = []
    for (name, threads, label), seconds in best.items():
        ratio = ""
        if name == "shipped" and ("reference", threads, label) in best:
            ratio = f"{best[('reference', threads, label)] / seconds:.2f}x"
        rows.append([f"{name} ({versions[name]})", threads, label, f"{seconds * 1000:.0f} ms", f"{N / seconds:,.0f}",
                     ratio])
    load = os.getloadavg()
    print(f"Classifier throughput, {N:,} tracks, featurise + predict, best of {ROUNDS} ({describe()}; load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end)\n")
    print(table(["model", "torch threads", "input", "featurise + predict", "tracks/s", "speed vs reference"], rows))


if __name__ == "__main__":
    main()
