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
    AUDIO_SLICE,
    BINNED_FEATURES,
    N_BINS,
    Batch,
    FeatureSchema,
    featurise,
    hide_audio,
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


def drop_tokens(batch: Batch, rate: float, rng: np.random.Generator) -> Batch:
    """Hide some name n-grams so no single token (often an artist's) carries a prediction;
    a song always keeps at least its first token."""
    if rate <= 0:
        return batch
    lengths = batch.token_lengths()
    keep = rng.random(len(batch.token_ids)) >= rate
    row_of = np.repeat(np.arange(len(batch), dtype=np.int64), lengths)
    empty = (np.bincount(row_of, weights=keep, minlength=len(batch)) == 0) & (lengths > 0)
    keep[batch.token_offsets[empty]] = True
    kept_lengths = np.bincount(row_of[keep], minlength=len(batch)).astype(np.int64)
    offsets = np.zeros(len(batch), dtype=np.int64)
    np.cumsum(kept_lengths[:-1], out=offsets[1:])
    return Batch(batch.token_ids[keep], offsets, batch.artist_ids, batch.numeric, batch.audio_present, batch.bins)


def as_tensors(batch: Batch) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in (
        batch.token_ids, batch.token_offsets, batch.artist_ids, batch.numeric, batch.bins))


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


@dataclass
class ValidationRows:
    """Half whole held-out artists, half random songs of known artists, so the best epoch and
    the temperatures serve both familiar and never-seen artists."""

    train: np.ndarray
    seen: np.ndarray
    unseen: np.ndarray

    @property
    def all(self) -> np.ndarray:
        return np.sort(np.concatenate([self.seen, self.unseen]))


def split_validation(artist_keys: np.ndarray, fraction: float, rng: np.random.Generator) -> ValidationRows:
    unique_artists = np.unique(artist_keys)
    rng.shuffle(unique_artists)
    held_out = set(unique_artists[: max(1, int(len(unique_artists) * fraction / 2))])
    unseen = np.array([a in held_out for a in artist_keys])
    known_rows = rng.permutation(np.where(~unseen)[0])
    n_known = max(1, int(len(artist_keys) * fraction / 2))
    return ValidationRows(train=known_rows[n_known:], seen=np.sort(known_rows[:n_known]), unseen=np.where(unseen)[0])


@dataclass
class StackedNames:
    """The name model's probabilities as network inputs (see classifier/names.py)."""

    model: NameModel
    probabilities: np.ndarray  # per song: out-of-fold for training songs, the final model's otherwise
    artist_held_out: np.ndarray  # the same, with whole artists held out: for rows whose artist is hidden


def stack_name_model(
    tracks: Sequence[SongRow], genre_index: np.ndarray, n_classes: int, split: ValidationRows,
    artist_keys: np.ndarray, seed: int,
) -> StackedNames:
    """Training songs get out-of-fold name probabilities, validation songs those of the name model
    fitted on every training song (the one shipped for run time). Rows whose artist embedding is
    hidden during training get probabilities from folds that held out their whole artist instead,
    so "unknown artist" looks the same in both inputs."""
    train_tracks = [tracks[i] for i in split.train]
    train_genres = genre_index[split.train]
    probabilities = np.zeros((len(tracks), n_classes), dtype=np.float32)
    probabilities[split.train] = out_of_fold_probabilities(train_tracks, train_genres, n_classes, seed)
    model = fit_name_model(train_tracks, train_genres, n_classes, seed)
    probabilities[split.all] = model.probabilities([tracks[i] for i in split.all])
    artist_held_out = probabilities.copy()
    artist_held_out[split.train] = out_of_fold_probabilities(
        train_tracks, train_genres, n_classes, seed, groups=artist_keys[split.train]
    )
    return StackedNames(model, probabilities, artist_held_out)


def build_network(schema: FeatureSchema, labels: Labels, config: TrainConfig) -> GenreNet:
    return GenreNet(
        ModelConfig(
            hash_buckets=config.hash_buckets,
            artist_vocab_size=len(schema.artist_vocab) + 1,
            numeric_size=schema.numeric_size,
            binned_features=BINNED_FEATURES,
            n_bins=N_BINS,
            n_genres=len(labels.genres),
            n_subgenres=max(1, len(labels.subgenres)),
            name_classes=len(labels.genres),
        )
    )


class Objective:
    """Genre loss (network and tabular expert) plus the subgenre loss where a subgenre is known."""

    def __init__(self, labels: Labels, config: TrainConfig) -> None:
        self.genre_loss = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.sub_loss = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing, ignore_index=-1)
        self.genre_target = torch.from_numpy(labels.genre_index)
        self.sub_target = torch.from_numpy(labels.subgenre_index)
        self.has_subgenres = bool(labels.subgenres)
        self.config = config

    def __call__(self, outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor], rows: np.ndarray) -> torch.Tensor:
        genre_logits, sub_logits, tabular_logits = outputs
        index = torch.from_numpy(rows)
        target = self.genre_target[index]
        loss = self.genre_loss(genre_logits, target) + self.config.tabular_weight * self.genre_loss(tabular_logits, target)
        sub_target = self.sub_target[index]
        if self.has_subgenres and bool((sub_target >= 0).any()):
            loss = loss + self.config.subgenre_weight * self.sub_loss(sub_logits, sub_target)
        return loss


def augment(batch: Batch, rows: np.ndarray, names: StackedNames, config: TrainConfig, rng: np.random.Generator) -> Batch:
    """A training batch as the model will meet songs: some name n-grams hidden, audio features
    hidden for some songs (apps without them), some artists replaced by "unknown" (with the name
    probabilities of a model that never saw them)."""
    part = drop_tokens(batch.subset(rows), config.token_dropout, rng)
    dropped_audio = rng.random(len(rows)) < config.audio_dropout
    part.numeric[dropped_audio, AUDIO_SLICE] = 0.0
    part.bins[dropped_audio] = hide_audio_bins(part.bins[dropped_audio])
    dropped_artist = rng.random(len(rows)) < config.artist_dropout
    part.artist_ids[dropped_artist] = 0
    n_classes = names.probabilities.shape[1]
    part.numeric[dropped_artist, -n_classes:] = names.artist_held_out[rows[dropped_artist]]
    return part


def genre_accuracy(net: GenreNet, batch: Batch, truth: np.ndarray) -> float:
    if not len(batch):
        return 0.0
    logits, _ = net.logits(batch)
    return float((logits.argmax(1) == truth).mean())


def validate(net: GenreNet, batch: Batch, labels: Labels, split: ValidationRows) -> dict[str, float]:
    """Genre accuracy on known and never-seen artists, with and without audio features."""
    scores = {}
    for part_name, rows in (("seen", split.seen), ("unseen", split.unseen)):
        part = batch.subset(rows)
        truth = labels.genre_index[rows]
        scores[f"{part_name}_audio"] = genre_accuracy(net, part, truth)
        scores[f"{part_name}_metadata"] = genre_accuracy(net, hide_audio(part), truth)
    return scores


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
    say = progress or (lambda _message: None)

    artist_keys = np.array([primary_artist(t.artists) for t in tracks])
    split = split_validation(artist_keys, config.validation_fraction, rng)
    schema = fit_schema([tracks[i] for i in split.train], config)
    say("fitting the name model (out-of-fold by song and by artist, 4 folds each)")
    names = stack_name_model(tracks, labels.genre_index, len(labels.genres), split, artist_keys, config.seed)
    batch = featurise(tracks, schema)
    batch.numeric = np.concatenate([batch.numeric, names.probabilities], axis=1)

    net = build_network(schema, labels, config)
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    # Small data sets still get a few dozen optimiser steps per epoch.
    batch_size = min(config.batch_size, max(16, len(split.train) // 20))
    steps = config.epochs * math.ceil(len(split.train) / batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.learning_rate, total_steps=max(1, steps))
    objective = Objective(labels, config)
    history: list[dict[str, float]] = []
    best_state, best_score = None, -1.0
    for epoch in range(1, config.epochs + 1):
        net.train()
        epoch_rows = rng.permutation(split.train)
        total_loss = 0.0
        for start in range(0, len(epoch_rows), batch_size):
            rows = epoch_rows[start : start + batch_size]
            part = augment(batch, rows, names, config, rng)
            loss = objective(net.forward_with_tabular(*as_tensors(part)), rows)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scheduler.step()
            total_loss += float(loss.detach()) * len(rows)

        accuracy = validate(net, batch, labels, split)
        acc_audio = (accuracy["seen_audio"] + accuracy["unseen_audio"]) / 2
        acc_meta = (accuracy["seen_metadata"] + accuracy["unseen_metadata"]) / 2
        history.append({"epoch": epoch, "loss": round(total_loss / len(epoch_rows), 4),
                        "val_acc_audio": round(acc_audio, 4), "val_acc_metadata": round(acc_meta, 4)})
        say(f"epoch {epoch}/{config.epochs}: loss {total_loss / len(epoch_rows):.3f}, "
            f"validation accuracy {acc_audio:.3f} with audio, {acc_meta:.3f} metadata only")
        score = sum(accuracy.values()) / len(accuracy)
        if score > best_score:
            best_score = score
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}

    assert best_state is not None
    net.load_state_dict(best_state)
    val_genre, val_sub = net.logits(batch.subset(split.all))
    temperature = {
        "genre": _fit_temperature(val_genre, labels.genre_index[split.all]),
        "subgenre": _fit_temperature(val_sub, labels.subgenre_index[split.all]) if labels.subgenres else 1.0,
    }
    return TrainedModel(net.eval(), schema, labels, temperature, history, time.perf_counter() - started, names.model)


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
