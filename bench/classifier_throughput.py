"""Featurise + predict throughput of the shipped model on 10,000 tracks, one thread and all."""

from __future__ import annotations

import os
import random
import time
from dataclasses import replace

from bench.machine import describe, table
from classifier import Classifier
from classifier.features import featurise
from sandbox.library import synthetic_library

N = 10_000


def main() -> None:
    tracks = synthetic_library(N, seed=3)
    rng = random.Random(1)
    with_audio = [
        replace(t, audio_features={"danceability": rng.random(), "energy": rng.random(), "key": 5, "loudness": -6.0,
                                   "mode": 1, "speechiness": rng.random() / 3, "acousticness": rng.random(),
                                   "instrumentalness": 0.0, "liveness": 0.1, "valence": rng.random(), "tempo": 120.0})
        for t in tracks
    ]
    rows = []
    for threads in sorted({1, os.cpu_count() or 1}):
        classifier = Classifier.load(threads=threads)
        classifier.classify(tracks[:500])  # warm up
        for label, data in (("metadata only", tracks), ("with audio features", with_audio)):
            start = time.perf_counter()
            featurise(data, classifier.schema)
            featurise_s = time.perf_counter() - start
            start = time.perf_counter()
            classifier.classify(data)
            total = time.perf_counter() - start
            rows.append([threads, label, f"{featurise_s * 1000:.0f} ms", f"{total * 1000:.0f} ms", f"{N / total:,.0f}"])
    print(f"Classifier throughput, {N:,} tracks, featurise + predict ({describe()})\n")
    print(table(["torch threads", "input", "featurise", "featurise + predict", "tracks/s"], rows))


if __name__ == "__main__":
    main()
