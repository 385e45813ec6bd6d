"""Scoring models honestly: macro-F1, per-class scores, confusion matrices, and baselines.

`compare()` runs the four settings (random track split and artist-disjoint split, each with and
without audio features) on the same splits for the network and for the baselines a practitioner
would reach for, and writes one table (Markdown and JSON). A track listed under several genres
counts as correct when the prediction is any of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.pipeline import make_union

from classifier.features import AUDIO_FEATURES, hide_audio, parse_year, primary_artist
from training.data import LoadedData, SongRow
from training.names import fit_name_model, out_of_fold_probabilities
from training.train import TrainConfig, build_labels, train


def lenient_truth(predicted: Sequence[str], label_sets: Sequence[tuple[str, ...]]) -> list[str]:
    """The label a prediction is scored against: itself if the track carries it, else the first."""
    return [p if p in labels else labels[0] for p, labels in zip(predicted, label_sets, strict=True)]


def scores(predicted: Sequence[str], label_sets: Sequence[tuple[str, ...]], classes: Sequence[str]) -> dict[str, Any]:
    truth = lenient_truth(predicted, label_sets)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(classes), zero_division=0
    )
    return {
        "macro_f1": round(float(f1_score(truth, predicted, labels=list(classes), average="macro", zero_division=0)), 4),
        "accuracy": round(float(np.mean([t == p for t, p in zip(truth, predicted, strict=True)])), 4),
        "per_class": {
            c: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
        "n": len(predicted),
    }


def confusion_png(predicted: Sequence[str], label_sets: Sequence[tuple[str, ...]], classes: Sequence[str], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matrix = confusion_matrix(lenient_truth(predicted, label_sets), predicted, labels=list(classes))
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    figure = Figure(figsize=(6, 5), dpi=100)
    axes = figure.add_subplot()
    axes.imshow(normalised, cmap="Greens", vmin=0, vmax=1)
    axes.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axes.set_yticks(range(len(classes)), classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for i in range(len(classes)):
        for j in range(len(classes)):
            axes.text(j, i, f"{normalised[i, j]:.2f}", ha="center", va="center", fontsize=7,
                      color="white" if normalised[i, j] > 0.5 else "black")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)


def names_text(track: SongRow) -> str:
    return f"{track.name} | {track.album} | {' ; '.join(track.artists)}"


def tabular(tracks: Sequence[SongRow], *, audio: bool, metadata: bool) -> np.ndarray:
    rows = []
    for t in tracks:
        row: list[float] = []
        if audio:
            row.extend(float(t.audio_features.get(f, np.nan)) if t.audio_features else np.nan for f in AUDIO_FEATURES)
        if metadata:
            row.extend([parse_year(t.release_date) or np.nan, float(t.duration_ms) if t.duration_ms else np.nan])
        rows.append(row)
    return np.asarray(rows, dtype=np.float64)


@dataclass
class Split:
    name: str
    train: np.ndarray
    test: np.ndarray


def make_splits(data: LoadedData, seed: int, test_fraction: float = 0.2) -> list[Split]:
    rng = np.random.default_rng(seed)
    n = len(data.tracks)
    order = rng.permutation(n)
    cut = int(n * test_fraction)
    random_split = Split("random track split", np.sort(order[cut:]), np.sort(order[:cut]))
    artists = np.array([primary_artist(t.artists) for t in data.tracks])
    unique = np.unique(artists)
    rng.shuffle(unique)
    held = set(unique[: int(len(unique) * test_fraction)])
    in_test = np.array([a in held for a in artists])
    artist_split = Split("artist-disjoint split", np.where(~in_test)[0], np.where(in_test)[0])
    return [random_split, artist_split]


def compare(data: LoadedData, out_dir: Path, *, seed: int = 1337, epochs: int | None = None, progress: Any = None) -> dict[str, Any]:
    """Network vs baselines in four settings; writes comparison.json/.md and confusion PNGs."""
    if not data.has_audio:
        raise ValueError("the comparison needs a data set with audio-feature columns")
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    for split in make_splits(data, seed):
        train_tracks = [data.tracks[i] for i in split.train]
        test_tracks = [data.tracks[i] for i in split.test]
        train_labels = [data.genres[i][0] for i in split.train]
        test_sets = [data.genres[i] for i in split.test]
        labels = build_labels([data.genres[i] for i in split.train], [data.subgenres[i] for i in split.train])
        config = TrainConfig(seed=seed)
        if epochs:
            config.epochs = epochs
        if progress:
            progress(f"{split.name}: training the network on {len(train_tracks):,} tracks")
        model = train(train_tracks, labels, config)
        batch = model.featurise(test_tracks)

        text = make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=3, sublinear_tf=True, max_features=200_000),
        )
        x_text = text.fit_transform([names_text(t) for t in train_tracks])
        logistic = LogisticRegression(max_iter=2000, C=4.0).fit(x_text, train_labels)
        text_pred = list(logistic.predict(text.transform([names_text(t) for t in test_tracks])))

        # The strongest classical combination: gradient boosting stacked on out-of-fold name
        # probabilities (as a practitioner would stack: random folds over the training songs).
        oof_names = out_of_fold_probabilities(train_tracks, labels.genre_index, len(labels.genres), seed)
        test_names = fit_name_model(train_tracks, labels.genre_index, len(labels.genres), seed).probabilities(test_tracks)

        for with_audio in (True, False):
            setting = f"{split.name}, {'with' if with_audio else 'without'} audio features"
            logits, _ = model.net.logits(batch if with_audio else hide_audio(batch))
            net_pred = [model.labels.genres[k] for k in logits.argmax(1)]
            row: dict[str, Any] = {"setting": setting, "models": {}}
            row["models"]["genre network (ours)"] = scores(net_pred, test_sets, labels.genres)
            row["models"]["logistic regression on TF-IDF of names"] = scores(text_pred, test_sets, labels.genres)
            if with_audio:
                boosted = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.08, random_state=seed)
                boosted.fit(tabular(train_tracks, audio=True, metadata=False), train_labels)
                gb_pred = list(boosted.predict(tabular(test_tracks, audio=True, metadata=False)))
                row["models"]["gradient boosting on audio features"] = scores(gb_pred, test_sets, labels.genres)
                full = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.08, random_state=seed)
                full.fit(tabular(train_tracks, audio=True, metadata=True), train_labels)
                full_pred = list(full.predict(tabular(test_tracks, audio=True, metadata=True)))
                row["models"]["gradient boosting on audio + year + duration"] = scores(full_pred, test_sets, labels.genres)
            else:
                meta = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.08, random_state=seed)
                meta.fit(tabular(train_tracks, audio=False, metadata=True), train_labels)
                meta_pred = list(meta.predict(tabular(test_tracks, audio=False, metadata=True)))
                row["models"]["gradient boosting on year + duration"] = scores(meta_pred, test_sets, labels.genres)
            stacked = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.08, random_state=seed)
            stacked.fit(np.hstack([tabular(train_tracks, audio=with_audio, metadata=True), oof_names]), train_labels)
            stacked_pred = list(stacked.predict(np.hstack([tabular(test_tracks, audio=with_audio, metadata=True), test_names])))
            row["models"]["gradient boosting stacked on name probabilities"] = scores(stacked_pred, test_sets, labels.genres)
            slug = setting.replace(",", "").replace(" ", "-")
            confusion_png(net_pred, test_sets, labels.genres, f"genre network: {setting}", out_dir / f"confusion-{slug}.png")
            row["confusion_matrix"] = f"confusion-{slug}.png"
            results.append(row)
            if progress:
                progress(f"{setting}: " + ", ".join(f"{k} {v['macro_f1']:.3f}" for k, v in row["models"].items()))
    report = {"seed": seed, "data_sha256": data.sha256, "tracks": len(data.tracks), "settings": results}
    (out_dir / "comparison.json").write_text(json.dumps(report, indent=1))
    (out_dir / "comparison.md").write_text(markdown_table(report))
    return report


def markdown_table(report: dict[str, Any]) -> str:
    models: list[str] = []
    for row in report["settings"]:
        models.extend(m for m in row["models"] if m not in models)
    lines = ["| setting | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for row in report["settings"]:
        cells = []
        best = max(v["macro_f1"] for v in row["models"].values())
        for model in models:
            entry = row["models"].get(model)
            if entry is None:
                cells.append("—")
            else:
                value = f"{entry['macro_f1']:.3f}"
                cells.append(f"**{value}**" if entry["macro_f1"] == best else value)
        lines.append(f"| {row['setting']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
