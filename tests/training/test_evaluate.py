"""Evaluation splits and scoring (training/evaluate.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.training.layouts import kaggle_tracks
from training.data import SongRow, load_labelled
from training.evaluate import make_splits

FULLWIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}  # "band1" -> "ｂａｎｄ１"


def test_artist_disjoint_split_uses_the_feature_artist_key(tmp_path: Path) -> None:
    """Names the artist embedding treats as one artist ('Ｍｏｎｏ', ' mono') are never on both sides."""
    data = load_labelled(kaggle_tracks(tmp_path))
    groups = []
    for artist in range(12):
        word = f"band{artist}"
        variants = [word.upper(), f" {word}", word.translate(FULLWIDTH), f"{word.title()} "]
        rows = []
        for variant in variants:
            row = len(groups) * len(variants) + len(rows)
            track = data.tracks[row]
            data.tracks[row] = SongRow(track.name, (variant,), track.album, track.release_date, track.duration_ms,
                                       track.explicit, track.audio_features)
            rows.append(row)
        groups.append(rows)
    artist_split = make_splits(data, seed=1)[1]
    for rows in groups:
        assert np.isin(rows, artist_split.test).all() or np.isin(rows, artist_split.train).all()
