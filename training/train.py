"""Training the genre network: one model, good with and without audio features.

Audio features are hidden at random (with their presence mask) so the metadata-only path is
trained too; the primary artist is replaced by "unknown" at random so artists never seen in
training still get a sensible prediction. A held-out slice picks the best epoch and fits the
temperatures that calibrate the probabilities.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from classifier.features import (
    AUDIO_FEATURES,
    BINNED_FEATURES,
    META_FEATURES,
    N_BINS,
    Batch,
    FeatureSchema,
    featurise,
    hide_audio_bins,
    parse_year,
    primary_artist,
)
from classifier.model import GenreNet, ModelConfig
from classifier.names import NameModel
from training.data import SongRow
from training.names import fit_name_model, out_of_fold_probabilities


@dataclass
class TrainConfig:
    epochs: int = 16
    batch_size: int = 256
    learning_rate: float = 3e-3
    weight_decay: float = 1e-5
    audio_dropout: float = 0.35
    artist_dropout: float = 0.5
    token_dropout: float = 0.2
    tabular_weight: float = 1.0
    min_artist_count: int = 2
    label_smoothing: float = 0.05
    subgenre_weight: float = 0.5
    validation_fraction: float = 0.1
    seed: int = 1337
    threads: int = 2
    hash_buckets: int = 1 << 17


@dataclass
class Labels:
    genres: list[str]
    subgenres: list[str]
    subgenre_parent: list[int]
    genre_index: np.ndarray
    subgenre_index: np.ndarray  # -1 where unknown


def build_labels(genre_sets: Sequence[tuple[str, ...]], subgenre_sets: Sequence[tuple[str, ...]]) -> Labels:
    """The taxonomy comes from the data: each subgenre belongs to the genre it appears with most."""
    genres = sorted({g[0] for g in genre_sets if g})
    pairs: Counter[tuple[str, str]] = Counter()
    for g, s in zip(genre_sets, subgenre_sets, strict=True):
        if g and s:
            pairs[(s[0], g[0])] += 1
    parent: dict[str, str] = {}
    for (sub, genre), _ in pairs.most_common():
        parent.setdefault(sub, genre)
    subgenres = sorted(parent, key=lambda s: (genres.index(parent[s]), s))
    genre_index = np.array([genres.index(g[0]) for g in genre_sets], dtype=np.int64)
    sub_index = np.array(
        [subgenres.index(s[0]) if s and parent.get(s[0]) == g[0] else -1 for g, s in zip(genre_sets, subgenre_sets, strict=True)],
        dtype=np.int64,
    )
    return Labels(genres, subgenres, [genres.index(parent[s]) for s in subgenres], genre_index, sub_index)


def fit_schema(tracks: Sequence[SongRow], config: TrainConfig) -> FeatureSchema:
    counts = Counter(primary_artist(t.artists) for t in tracks)
    vocab = {name: i + 1 for i, name in enumerate(sorted(n for n, c in counts.items() if n and c >= config.min_artist_count))}
    years = [y for y in (parse_year(t.release_date) for t in tracks) if y is not None]
    durations = [math.log(t.duration_ms) for t in tracks if t.duration_ms]
    audio = np.array(
        [[t.audio_features.get(f, np.nan) for f in AUDIO_FEATURES] for t in tracks if t.audio_features], dtype=np.float64
    )
    schema = FeatureSchema(hash_buckets=config.hash_buckets, artist_vocab=vocab)
    if years:
        schema.year_mean, schema.year_std = float(np.mean(years)), float(np.std(years) or 1.0)
    if durations:
        schema.duration_mean, schema.duration_std = float(np.mean(durations)), float(np.std(durations) or 1.0)
    columns: list[list[float]] = [[] for _ in range(BINNED_FEATURES)]
    if len(audio):
        for j in range(len(AUDIO_FEATURES)):
            columns[j] = [float(x) for x in audio[:, j] if not np.isnan(x)]
    columns[-2] = [float(y) for y in years]
    columns[-1] = [float(t.duration_ms) for t in tracks if t.duration_ms]
    schema.bin_edges = [
        [float(x) for x in np.unique(np.quantile(c, np.linspace(0, 1, N_BINS + 1)[1:-1]))] if c else []
        for c in columns
    ]
    if len(audio):
        schema.audio_mean = [float(x) for x in np.nanmean(audio, axis=0)]
        schema.audio_std = [float(x) or 1.0 for x in np.nanstd(audio, axis=0)]
    return schema


def _gather(
    batch: Batch, rows: np.ndarray, *, token_dropout: float = 0.0, rng: np.random.Generator | None = None
) -> tuple[torch.Tensor, ...]:
    ends = np.append(batch.token_offsets[1:], len(batch.token_ids))
    pieces = [batch.token_ids[batch.token_offsets[r] : ends[r]] for r in rows]
    if token_dropout and rng is not None:
        # Hide some name n-grams so no single token (often an artist's) carries a prediction.
        kept = []
        for piece in pieces:
            keep = piece[rng.random(len(piece)) >= token_dropout]
            kept.append(keep if len(keep) else piece[:1])
        pieces = kept
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return (
        torch.from_numpy(np.concatenate(pieces)),
        torch.from_numpy(offsets),
        torch.from_numpy(batch.artist_ids[rows].copy()),
        torch.from_numpy(batch.numeric[rows].copy()),
        torch.from_numpy(batch.bins[rows].copy()),
    )


AUDIO_SLICE = slice(len(META_FEATURES), len(META_FEATURES) + len(AUDIO_FEATURES) + 1)


def hide_audio(numeric: torch.Tensor) -> torch.Tensor:
    """The metadata-only view: audio features and their presence mask zeroed."""
    out = numeric.clone()
    out[:, AUDIO_SLICE] = 0.0
    return out


def predict_logits(net: GenreNet, batch: Batch, *, without_audio: bool = False, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    net.eval()
    genre_parts, sub_parts = [], []
    with torch.inference_mode():
        for start in range(0, len(batch.artist_ids), chunk):
            rows = np.arange(start, min(start + chunk, len(batch.artist_ids)))
            tokens, offsets, artists, numeric, bins = _gather(batch, rows)
            if without_audio:
                numeric = hide_audio(numeric)
                bins = torch.from_numpy(hide_audio_bins(bins.numpy()))
            genre, sub = net(tokens, offsets, artists, numeric, bins)
            genre_parts.append(genre.numpy())
            sub_parts.append(sub.numpy())
    return np.concatenate(genre_parts), np.concatenate(sub_parts)


def _fit_temperature(logits: np.ndarray, target: np.ndarray) -> float:
    valid = target >= 0
    if not valid.any():
        return 1.0
    logits, target = logits[valid], target[valid]
    best, best_nll = 1.0, math.inf
    for temperature in np.arange(0.5, 3.01, 0.05):
        scaled = logits / temperature
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        nll = float(-log_probs[np.arange(len(target)), target].mean())
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return round(best, 2)


@dataclass
class TrainedModel:
    net: GenreNet
    schema: FeatureSchema
    labels: Labels
    temperature: dict[str, float]
    history: list[dict[str, float]]
    seconds: float
    name_model: NameModel

    def featurise(self, tracks: Sequence[SongRow]) -> Batch:
        """Network inputs for new songs, name-model probabilities included."""
        return self.name_model.with_probabilities(featurise(tracks, self.schema), tracks)

    def metadata(self, **extra: Any) -> dict[str, Any]:
        return {
            "genres": self.labels.genres,
            "subgenres": self.labels.subgenres,
            "subgenre_parent": self.labels.subgenre_parent,
            "schema": asdict(self.schema),
            "temperature": self.temperature,
            "history": self.history,
            **extra,
        }


def train(
    tracks: Sequence[SongRow],
    labels: Labels,
    config: TrainConfig,
    *,
    progress: Callable[[str], None] | None = None,
) -> TrainedModel:
    started = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)

    # Validation is half whole held-out artists, half random songs of known artists, so the
    # best epoch and the temperatures serve both familiar and never-seen artists.
    artist_keys = np.array([primary_artist(t.artists) for t in tracks])
    unique_artists = np.unique(artist_keys)
    rng.shuffle(unique_artists)
    held_out = set(unique_artists[: max(1, int(len(unique_artists) * config.validation_fraction / 2))])
    unseen = np.array([a in held_out for a in artist_keys])
    known_rows = rng.permutation(np.where(~unseen)[0])
    n_known = max(1, int(len(tracks) * config.validation_fraction / 2))
    seen_val = np.sort(known_rows[:n_known])
    unseen_val = np.where(unseen)[0]
    val_rows = np.sort(np.concatenate([seen_val, unseen_val]))
    train_rows = known_rows[n_known:]
    schema = fit_schema([tracks[i] for i in train_rows], config)
    batch = featurise(tracks, schema)
    # Stacking: training songs get out-of-fold name probabilities, validation songs those of the
    # name model fitted on every training song (the one shipped for run time). Rows whose artist
    # embedding is hidden during training get probabilities from folds that held out their whole
    # artist instead, so "unknown artist" looks the same in both inputs.
    n_classes = len(labels.genres)
    train_tracks = [tracks[i] for i in train_rows]
    if progress:
        progress("fitting the name model (out-of-fold by song and by artist, 4 folds each)")
    train_genres = labels.genre_index[train_rows]
    name_probs = np.zeros((len(tracks), n_classes), dtype=np.float32)
    name_probs[train_rows] = out_of_fold_probabilities(train_tracks, train_genres, n_classes, config.seed)
    name_model = fit_name_model(train_tracks, train_genres, n_classes, config.seed)
    name_probs[val_rows] = name_model.probabilities([tracks[i] for i in val_rows])
    unseen_artist_probs = name_probs.copy()
    unseen_artist_probs[train_rows] = out_of_fold_probabilities(
        train_tracks, train_genres, n_classes, config.seed, groups=artist_keys[train_rows]
    )
    unseen_artist_probs_t = torch.from_numpy(unseen_artist_probs)
    batch.numeric = np.concatenate([batch.numeric, name_probs], axis=1)
    net = GenreNet(
        ModelConfig(
            hash_buckets=config.hash_buckets,
            artist_vocab_size=len(schema.artist_vocab) + 1,
            numeric_size=schema.numeric_size,
            binned_features=BINNED_FEATURES,
            n_bins=N_BINS,
            n_genres=len(labels.genres),
            n_subgenres=max(1, len(labels.subgenres)),
            name_classes=n_classes,
        )
    )
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    # Small data sets still get a few dozen optimiser steps per epoch.
    batch_size = min(config.batch_size, max(16, len(train_rows) // 20))
    steps = config.epochs * math.ceil(len(train_rows) / batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.learning_rate, total_steps=max(1, steps))
    genre_loss = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    sub_loss = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing, ignore_index=-1)
    genre_target = torch.from_numpy(labels.genre_index)
    sub_target = torch.from_numpy(labels.subgenre_index)
    history: list[dict[str, float]] = []
    best_state, best_score = None, -1.0
    for epoch in range(1, config.epochs + 1):
        net.train()
        epoch_rows = rng.permutation(train_rows)
        total_loss = 0.0
        for start in range(0, len(epoch_rows), batch_size):
            rows = epoch_rows[start : start + batch_size]
            index = torch.from_numpy(rows)
            tokens, offsets, artists, numeric, bins = _gather(batch, rows, token_dropout=config.token_dropout, rng=rng)
            dropped = rng.random(len(rows)) < config.audio_dropout
            drop_audio = torch.from_numpy(dropped)
            numeric[drop_audio, AUDIO_SLICE] = 0.0
            bins[drop_audio] = torch.from_numpy(hide_audio_bins(bins[drop_audio].numpy()))
            drop_artist = torch.from_numpy(rng.random(len(rows)) < config.artist_dropout)
            artists[drop_artist] = 0
            numeric[drop_artist, -n_classes:] = unseen_artist_probs_t[index[drop_artist]]
            genre_logits, sub_logits, tabular_logits = net.forward_with_tabular(tokens, offsets, artists, numeric, bins)
            loss = genre_loss(genre_logits, genre_target[index])
            loss = loss + config.tabular_weight * genre_loss(tabular_logits, genre_target[index])
            if labels.subgenres and (sub_target[index] >= 0).any():
                loss = loss + config.subgenre_weight * sub_loss(sub_logits, sub_target[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            total_loss += float(loss.detach()) * len(rows)
        accuracies = []
        for part in (seen_val, unseen_val):
            part_batch = _subset(batch, part)
            truth = labels.genre_index[part]
            for hide in (False, True):
                logits, _ = predict_logits(net, part_batch, without_audio=hide)
                accuracies.append(float((logits.argmax(1) == truth).mean()) if len(part) else 0.0)
        acc_audio = (accuracies[0] + accuracies[2]) / 2
        acc_meta = (accuracies[1] + accuracies[3]) / 2
        score = sum(accuracies) / len(accuracies)
        history.append({"epoch": epoch, "loss": round(total_loss / len(epoch_rows), 4),
                        "val_acc_audio": round(acc_audio, 4), "val_acc_metadata": round(acc_meta, 4)})
        if progress:
            progress(f"epoch {epoch}/{config.epochs}: loss {total_loss / len(epoch_rows):.3f}, "
                     f"validation accuracy {acc_audio:.3f} with audio, {acc_meta:.3f} metadata only")
        if score > best_score:
            best_score = score
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    assert best_state is not None
    net.load_state_dict(best_state)
    val_batch = _subset(batch, val_rows)
    val_genre, val_sub = predict_logits(net, val_batch)
    temperature = {
        "genre": _fit_temperature(val_genre, labels.genre_index[val_rows]),
        "subgenre": _fit_temperature(val_sub, labels.subgenre_index[val_rows]) if labels.subgenres else 1.0,
    }
    return TrainedModel(net.eval(), schema, labels, temperature, history, time.perf_counter() - started, name_model)


def _subset(batch: Batch, rows: np.ndarray) -> Batch:
    ends = np.append(batch.token_offsets[1:], len(batch.token_ids))
    pieces = [batch.token_ids[batch.token_offsets[r] : ends[r]] for r in rows]
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(rows) else np.zeros(0, np.int64)
    return Batch(
        np.concatenate(pieces) if pieces else np.zeros(0, np.int64),
        offsets,
        batch.artist_ids[rows],
        batch.numeric[rows],
        batch.audio_present[rows],
        batch.bins[rows],
    )


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
