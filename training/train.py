"""Training the genre network: one model for every genre of the taxonomy, good with and without
audio features, for artists it knows and artists it has never met.

Read `train()` top to bottom: split off validation, fit the feature schema, featurise, fit the
name model (held out by artist), count each known artist's and album's genres (held out by
song), then a flat loop of epochs whose steps have names: first for a teacher network, then for
the shipped one, which learns from the labels and from the teacher's probabilities (distillation:
the teacher's spread over near genres is a richer target than one label). Audio features are
hidden at random so the metadata-only path is trained too; the artist and album tables are hidden
at random so never-seen artists get a sensible prediction. Validation picks the epoch, the
temperature that calibrates the probabilities and the library-pooling weights.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.sparse import csr_matrix
from torch.nn import functional
from tqdm.auto import tqdm

from classifier.catalogue import GenreCounts
from classifier.features import (
    AUDIO_FEATURES,
    AUDIO_SLICE,
    BINNED_FEATURES,
    N_BINS,
    NUMERIC_SIZE,
    Batch,
    FeatureSchema,
    artist_token_counts,
    featurise,
    hide_audio_bins,
)
from classifier.inference import ModelParts, softmax
from classifier.library import Pooling
from classifier.model import GenreNet, ModelConfig, NetInputs
from classifier.names import NameBlend, sharpened
from classifier.ragged import offsets_of
from training.data import SongRow
from training.dataset import TrainingSet
from training.names import NAME_BUCKETS, NameFit, artist_held_out_name_model
from training.tuning import (
    DataSetGroups,
    KeptWeights,
    fit_temperature,
    keep_weights,
    tune_blend,
    tune_new_artist_balance,
    tune_sharpness,
    validation_score,
)


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 512
    learning_rate: float = 3e-3
    weight_decay: float = 1e-5
    audio_dropout: float = 0.35  # songs seen without audio features (apps that get none)
    artist_dropout: float = 0.5  # songs seen as by an unknown artist (artist and album tables hidden)
    artist_name_dropout: float = 1.0  # of those, the share whose artist names are hidden too
    album_dropout: float = 0.3  # songs of a known artist seen from an album the model never saw
    token_dropout: float = 0.8  # name n-grams hidden per song (tuned on validation: 0.2 to 0.8)
    # A teacher network is trained first and distilled into the shipped one (its softened
    # probabilities on each training batch are a second target): 0 trains the network alone.
    teacher_weight: float = 1.0
    teacher_temperature: float = 2.0
    tabular_weight: float = 1.0
    family_weight: float = 0.5
    label_smoothing: float = 0.05
    validation_fraction: float = 0.1
    catalogue_folds: int = 5
    name_folds: int = 3
    name_epochs: int = 3
    name_learning_rate: float = 0.05
    seed: int = 1337
    threads: int = 2
    hash_buckets: int = 1 << 17
    name_buckets: int = NAME_BUCKETS


@dataclass
class ValidationRows:
    """Half whole held-out artists, half random songs of known artists, so the best epoch, the
    temperature and the pooling weights serve both familiar and never-seen artists."""

    train: np.ndarray
    seen: np.ndarray
    unseen: np.ndarray

    @property
    def all(self) -> np.ndarray:
        return np.sort(np.concatenate([self.seen, self.unseen]))


@dataclass
class Context:
    """The context block per song: name-model probabilities and artist/album genre shares. Training
    rows get held-out values (a model that never saw the artist, tables without the song)."""

    names: np.ndarray
    artists: np.ndarray
    albums: np.ndarray
    artist_tokens: np.ndarray  # per song, how many of its (last) tokens name its artists


@dataclass
class TrainedModel:
    parts: ModelParts
    temperature: float
    pooling: Pooling
    blend: NameBlend
    history: list[dict[str, float]]
    kept: KeptWeights
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    sharpness: float = 1.0  # decision sharpness (classifier.names.sharpened)
    new_artist_balance: dict[str, float] | None = None  # genre -> log-weight (Taxonomy.rebalanced)
    teacher: KeptWeights | None = None  # the distilled teacher's kept weights and validation scores

    def metadata(self, **extra: Any) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "pooling": asdict(self.pooling),
            "name_blend": asdict(self.blend),
            "decision_sharpness": self.sharpness,
            "new_artist_genre_balance": self.new_artist_balance,
            "history": self.history,
            "kept_epochs": self.kept.epochs,
            "metrics": {"validation": self.kept.scores},
            "training_seconds": round(self.seconds, 1),
            "training_phases_seconds": {k: round(v, 1) for k, v in self.phases.items()},
            **({"teacher": {"kept_epochs": self.teacher.epochs, "validation": self.teacher.scores}}
               if self.teacher else {}),
            **extra,
        }


def split_validation(artist_keys: np.ndarray, fraction: float, rng: np.random.Generator) -> ValidationRows:
    unique_artists = np.unique(artist_keys)
    rng.shuffle(unique_artists)
    held_out = unique_artists[: max(1, int(len(unique_artists) * fraction / 2))]
    unseen = np.isin(artist_keys, held_out)
    known_rows = rng.permutation(np.flatnonzero(~unseen))
    n_known = max(1, int(len(artist_keys) * fraction / 2))
    return ValidationRows(train=known_rows[n_known:], seen=np.sort(known_rows[:n_known]), unseen=np.flatnonzero(unseen))


def fit_schema(tracks: list[SongRow], config: TrainConfig) -> FeatureSchema:
    durations = [float(t.duration_ms) for t in tracks if t.duration_ms]
    audio = np.array([[t.audio_features.get(f, np.nan) for f in AUDIO_FEATURES] for t in tracks if t.audio_features],
                     dtype=np.float64)
    schema = FeatureSchema(hash_buckets=config.hash_buckets)
    if durations:
        logs = np.log(durations)
        schema.duration_mean, schema.duration_std = float(np.mean(logs)), float(np.std(logs) or 1.0)
    columns: list[list[float]] = [[] for _ in range(BINNED_FEATURES)]
    if len(audio):
        for j in range(len(AUDIO_FEATURES)):
            columns[j] = [float(x) for x in audio[:, j] if not np.isnan(x)]
        schema.audio_mean = [float(x) for x in np.nanmean(audio, axis=0)]
        schema.audio_std = [float(x) or 1.0 for x in np.nanstd(audio, axis=0)]
    columns[-1] = durations
    schema.bin_edges = [
        [float(x) for x in np.unique(np.quantile(c, np.linspace(0, 1, N_BINS + 1)[1:-1]))] if c else [] for c in columns
    ]
    return schema


def count_genres(keys: np.ndarray, targets: np.ndarray, train_rows: np.ndarray, folds: int,
                 rng: np.random.Generator) -> tuple[GenreCounts, np.ndarray]:
    """The table of genre counts per key over the training rows, and every row's table features:
    training rows from the table without their own fold (as a new song of a known artist would
    see it), other rows from the whole table."""
    n_genres = targets.shape[1]
    unique, inverse, onehot, total = _key_totals(keys, targets, train_rows)
    table = GenreCounts.from_dense(unique, total)
    features = table.features(keys)
    fold_of = rng.integers(0, folds, len(train_rows))
    for fold in range(folds):
        members = np.flatnonzero(fold_of == fold)
        in_fold = np.asarray(onehot[:, members] @ targets[train_rows[members]], dtype=np.float32)
        counts = (total - in_fold)[inverse[members]]
        sums = counts.sum(axis=1)
        known = (sums > 1e-6) & (keys[train_rows[members]] != 0)
        block = np.zeros((len(members), n_genres + 1), dtype=np.float32)
        block[known, :n_genres] = counts[known] / sums[known, None]
        block[known, n_genres] = np.log1p(sums[known])
        features[train_rows[members]] = block
    return table, features


def genre_table(keys: np.ndarray, targets: np.ndarray, rows: np.ndarray) -> GenreCounts:
    """The genre counts per key over `rows`: the table a model ships (see `train`)."""
    unique, _, _, total = _key_totals(keys, targets, rows)
    return GenreCounts.from_dense(unique, total)


def _key_totals(keys: np.ndarray, targets: np.ndarray,
                rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, csr_matrix, np.ndarray]:
    """The distinct keys of `rows`, each row's index among them, the key x row incidence matrix and
    each key's summed targets."""
    unique, inverse = np.unique(keys[rows], return_inverse=True)
    onehot = csr_matrix((np.ones(len(rows)), (inverse, np.arange(len(rows)))), shape=(len(unique), len(rows)))
    return unique, inverse, onehot, np.asarray(onehot @ targets[rows], dtype=np.float32)


def build_network(schema: FeatureSchema, n_genres: int, context_size: int, config: TrainConfig) -> GenreNet:
    return GenreNet(ModelConfig(hash_buckets=schema.hash_buckets, numeric_size=NUMERIC_SIZE, context_size=context_size,
                                binned_features=BINNED_FEATURES, n_bins=N_BINS, n_genres=n_genres))


def drop_tokens(batch: Batch, rate: float, rng: np.random.Generator,
                trailing: np.ndarray | None = None) -> Batch:
    """Hide some name n-grams so no single token (often an artist's) carries a prediction, and
    per row its last `trailing` tokens (its artists' names); a song always keeps its first token."""
    if rate <= 0 and trailing is None:
        return batch
    lengths = batch.token_lengths()
    keep = rng.random(len(batch.token_ids)) >= rate
    row_of = batch.token_rows()
    if trailing is not None:
        position = np.arange(len(batch.token_ids)) - batch.token_offsets[row_of]
        keep &= position < (lengths - trailing)[row_of]
    empty = (np.bincount(row_of, weights=keep, minlength=len(batch)) == 0) & (lengths > 0)
    keep[batch.token_offsets[empty]] = True
    kept_lengths = np.bincount(row_of[keep], minlength=len(batch)).astype(np.int64)
    return Batch(batch.token_ids[keep], offsets_of(kept_lengths), batch.artist_keys, batch.album_keys, batch.numeric,
                 batch.audio_present, batch.bins, batch.name_ids, batch.name_offsets)


def augment(batch: Batch, context: Context, rows: np.ndarray, config: TrainConfig,
            rng: np.random.Generator) -> NetInputs:
    """A training batch as the model will meet songs: some name tokens hidden, audio features
    hidden for some songs, some artists (or just albums) unknown. An artist the model never met has
    names whose tokens it never learnt (or learnt for other words, as hashes collide), so a song
    seen as by an unknown artist has its artists' names hidden too (`artist_name_dropout` of them:
    all by default): without that, the network learns to lean on artist names and is lost on a
    new one."""
    no_artist = rng.random(len(rows)) < config.artist_dropout
    no_album = no_artist | (rng.random(len(rows)) < config.album_dropout)
    no_artist_names = no_artist & (rng.random(len(rows)) < config.artist_name_dropout)
    part = drop_tokens(batch.subset(rows), config.token_dropout, rng,
                       np.where(no_artist_names, context.artist_tokens[rows], 0))
    no_audio = rng.random(len(rows)) < config.audio_dropout
    part.numeric[no_audio, AUDIO_SLICE] = 0.0
    part.bins[no_audio] = hide_audio_bins(part.bins[no_audio])
    artists, albums = context.artists[rows], context.albums[rows]
    artists[no_artist] = 0.0
    albums[no_album] = 0.0
    return NetInputs.from_numpy(part.token_ids, part.token_offsets, part.numeric,
                                np.concatenate([context.names[rows], artists, albums], axis=1), part.bins)


def loss_of(net: GenreNet, inputs: NetInputs, targets: torch.Tensor, membership: torch.Tensor,
            config: TrainConfig, teacher: GenreNet | None = None) -> torch.Tensor:
    """Soft cross-entropy over genres (a song's labels share the target), the same over families
    (a family's probability is the sum of its genres'), and the tabular expert's own genre loss;
    with a `teacher`, also the cross-entropy to its probabilities on the same (augmented) songs,
    both softened by `teacher_temperature` (scaled by its square, so the term's gradients keep their
    size). What the teacher spreads over a song's near genres is what a new artist's song needs: one
    label says "trance", the teacher says "trance, some progressive-house"."""
    logits, tabular = net(inputs)
    smoothed = targets * (1 - config.label_smoothing) + config.label_smoothing / targets.shape[1]
    log_p = functional.log_softmax(logits, dim=1)
    genre_loss = -(smoothed * log_p).sum(1).mean()
    family_log_p = torch.log(log_p.exp() @ membership + 1e-9)
    family_loss = -((targets @ membership) * family_log_p).sum(1).mean()
    tabular_loss = -(smoothed * functional.log_softmax(tabular, dim=1)).sum(1).mean()
    loss = genre_loss + config.family_weight * family_loss + config.tabular_weight * tabular_loss
    if teacher is not None:
        with torch.no_grad():
            teacher_logits, _ = teacher(inputs)
        t = config.teacher_temperature
        soft = functional.softmax(teacher_logits / t, dim=1)
        distil = -(soft * functional.log_softmax(logits / t, dim=1)).sum(1).mean() * t * t
        loss = loss + config.teacher_weight * distil
    return loss


def validation_logits(parts: ModelParts, batch: Batch, context: Context, rows: np.ndarray, *,
                      without_audio: bool) -> np.ndarray:
    part = batch.subset(rows)
    if without_audio:
        part.numeric[:, AUDIO_SLICE] = 0.0
        part.bins = hide_audio_bins(part.bins)
    with torch.inference_mode():
        parts.net.eval()
        logits, _ = parts.net(NetInputs.from_numpy(
            part.token_ids, part.token_offsets, part.numeric,
            np.concatenate([context.names[rows], context.artists[rows], context.albums[rows]], axis=1), part.bins))
    result: np.ndarray = logits.numpy()
    return result


def validate(parts: ModelParts, batch: Batch, context: Context, data: TrainingSet,
             split: ValidationRows) -> dict[str, float]:
    """Family and genre macro-F1 (any-of-its-labels) on known and never-seen artists, with and
    without audio features."""
    taxonomy = data.taxonomy
    scores: dict[str, float] = {}
    for part_name, rows in (("seen", split.seen), ("unseen", split.unseen)):
        groups = DataSetGroups.of(data, rows)
        for view in ("audio", "metadata"):
            logits = validation_logits(parts, batch, context, rows, without_audio=view == "metadata")
            family, genre = groups.macro_f1(softmax(logits), taxonomy)
            scores[f"{part_name}_{view}_family_f1"] = round(family, 4)
            scores[f"{part_name}_{view}_genre_f1"] = round(genre, 4)
    return scores


def fit_network(parts: ModelParts, batch: Batch, context: Context, data: TrainingSet, split: ValidationRows,
                targets: np.ndarray, config: TrainConfig, rng: np.random.Generator, progress: bool,
                say: Callable[[str], None], teacher: GenreNet | None,
                label: str) -> tuple[list[dict[str, float]], KeptWeights]:
    """Train `parts.net` for the configured epochs (distilling `teacher` when given) and load the
    weights validation likes best. `label` prefixes its progress bars and lines ("teacher ")."""
    net = parts.net
    taxonomy = data.taxonomy
    # The token table is most of the weights and a batch touches few rows: sparse gradients.
    optimisers: list[torch.optim.Optimizer] = [
        torch.optim.SparseAdam(list(net.tokens.parameters()), lr=config.learning_rate),
        torch.optim.AdamW([p for n, p in net.named_parameters() if not n.startswith("tokens.")],
                          lr=config.learning_rate, weight_decay=config.weight_decay),
    ]
    batch_size = min(config.batch_size, max(16, len(split.train) // 20))  # small data: still dozens of steps
    steps_per_epoch = math.ceil(len(split.train) / batch_size)
    schedulers = [torch.optim.lr_scheduler.OneCycleLR(o, max_lr=config.learning_rate,
                                                      total_steps=max(1, config.epochs * steps_per_epoch))
                  for o in optimisers]
    membership = torch.from_numpy(taxonomy.membership)
    targets_t = torch.from_numpy(targets)
    history: list[dict[str, float]] = []
    states: list[dict[str, torch.Tensor]] = []
    for epoch in range(1, config.epochs + 1):
        net.train()
        order = rng.permutation(split.train)
        total_loss = 0.0
        bar = tqdm(range(0, len(order), batch_size), desc=f"{label}epoch {epoch}/{config.epochs}", unit="batch",
                   leave=False, disable=not progress)
        for start in bar:
            rows = order[start : start + batch_size]
            loss = loss_of(net, augment(batch, context, rows, config, rng), targets_t[rows], membership, config,
                           teacher)
            for optimiser in optimisers:
                optimiser.zero_grad()
            loss.backward()
            for optimiser, scheduler in zip(optimisers, schedulers, strict=True):
                optimiser.step()
                scheduler.step()
            total_loss += float(loss.detach()) * len(rows)
        bar.close()

        scores = validate(parts, batch, context, data, split)
        score = validation_score(scores)
        history.append({"epoch": epoch, "loss": round(total_loss / len(order), 4), "score": round(score, 4), **scores})
        states.append({k: v.detach().clone() for k, v in net.state_dict().items()})
        say(f"{label}epoch {epoch}/{config.epochs}: loss {total_loss / len(order):.3f}, validation macro-F1 "
            f"{scores['seen_audio_family_f1']:.3f}/{scores['unseen_metadata_family_f1']:.3f} family "
            f"(known artists with audio / unseen artists without), {scores['unseen_metadata_genre_f1']:.3f} genre "
            f"(unseen, without audio); mean {score:.3f}")
    kept = keep_weights(net, states, history, lambda: validate(parts, batch, context, data, split))
    return history, kept


def train(data: TrainingSet, config: TrainConfig, *, progress: bool = True,
          say: Callable[[str], None] = lambda _message: None) -> TrainedModel:
    started = time.perf_counter()
    phases: dict[str, float] = {}
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    taxonomy = data.taxonomy
    n_genres = len(taxonomy.genres)

    # 1. Features: the schema from training songs only, then every song featurised once.
    say(f"featurising {len(data):,} songs")
    probe = featurise(data.tracks, FeatureSchema(hash_buckets=config.hash_buckets))
    split = split_validation(probe.artist_keys, config.validation_fraction, rng)
    schema = fit_schema([data.tracks[i] for i in split.train], config)
    batch = featurise(data.tracks, schema)
    targets = data.targets()
    phases["features"] = time.perf_counter() - started

    # 2. The name model (genres), and what it says of each training song's artist without having seen it.
    mark = time.perf_counter()
    fit = NameFit(buckets=config.name_buckets, epochs=config.name_epochs, learning_rate=config.name_learning_rate,
                  folds=config.name_folds)
    with tqdm(total=fit.folds * fit.epochs, desc="name model (folds held out by artist)", unit="epoch",
              disable=not progress) as bar:
        name_model, held_out_names = artist_held_out_name_model(batch.subset(split.train), targets[split.train], fit,
                                                                config.seed, on_epoch=lambda: bar.update(1))
    names = np.zeros((len(data), n_genres), dtype=np.float32)
    names[split.train] = held_out_names
    names[split.all] = name_model.probabilities(batch.subset(split.all))
    phases["name model"] = time.perf_counter() - mark

    # 3. Each known artist's and album's genres (training songs see them without their own fold).
    artist_table, artist_features = count_genres(batch.artist_keys, targets, split.train, config.catalogue_folds, rng)
    album_table, album_features = count_genres(batch.album_keys, targets, split.train, config.catalogue_folds, rng)
    context = Context(names, artist_features, album_features, artist_token_counts(data.tracks))
    context_size = n_genres + 2 * (n_genres + 1)

    # 4. The network: a teacher first (unless distillation is off), then the shipped network, each
    #    trained in a flat loop of epochs.
    teacher, teacher_kept = None, None
    if config.teacher_weight > 0:
        mark = time.perf_counter()
        teacher = build_network(schema, n_genres, context_size, config)
        teacher_parts = ModelParts(teacher, name_model, artist_table, album_table, taxonomy, schema)
        _, teacher_kept = fit_network(teacher_parts, batch, context, data, split, targets, config, rng,
                                      progress, say, None, "teacher ")
        teacher.eval()
        say(f"teacher: kept {teacher_kept.describe()} (validation macro-F1 {teacher_kept.score:.3f})")
        phases["teacher network"] = time.perf_counter() - mark
    mark = time.perf_counter()
    net = build_network(schema, n_genres, context_size, config)
    parts = ModelParts(net, name_model, artist_table, album_table, taxonomy, schema)
    history, kept = fit_network(parts, batch, context, data, split, targets, config, rng, progress, say, teacher, "")
    del teacher
    phases["network"] = time.perf_counter() - mark

    # 5. Calibrate the kept weights, blend them with the name model and tune the decision on validation.
    net.eval()
    label_sets = [data.genre_sets[r] for r in split.all]
    groups = DataSetGroups.of(data, split.all)  # each data set scored on its own, as evaluate --compare does
    logits = validation_logits(parts, batch, context, split.all, without_audio=False)
    temperature = fit_temperature(logits, label_sets)
    network_views = [softmax(logits / temperature),
                     softmax(validation_logits(parts, batch, context, split.all, without_audio=True) / temperature)]
    validation_batch = batch.subset(split.all)
    known = artist_table.rows(validation_batch.artist_keys) >= 0
    audio_views = [validation_batch.audio_present, np.zeros(len(split.all), dtype=bool)]
    blend = tune_blend(network_views, names[split.all], known, audio_views, groups, taxonomy)
    views = [blend.apply(p, names[split.all], known, a) for p, a in zip(network_views, audio_views, strict=True)]
    sharpness, pooling = tune_sharpness(views, validation_batch, groups, taxonomy)
    strength, balance = tune_new_artist_balance([sharpened(view, sharpness) for view in views], validation_batch,
                                                known, groups, taxonomy, pooling)
    # 6. The tables that ship count every song, validation's too. They were held out above to tune the
    #    decision as a member's new artist would meet it; a table is counts, nothing is fitted on
    #    them, and a song by one of those artists (B.B. King, in the validation's 5 % of artists)
    #    should find its artist known. The network and every tuned value stay as tuned.
    every_row = np.arange(len(data))
    parts.artists = genre_table(batch.artist_keys, targets, every_row)
    parts.albums = genre_table(batch.album_keys, targets, every_row)
    say(f"kept {kept.describe()} (best mean validation macro-F1 {kept.score:.3f}); temperature {temperature}; "
        f"name blend {asdict(blend)}; decision sharpness {sharpness}; pooling: artist {pooling.artist}, album {pooling.album}; "
        f"new artists' genre balance: strength {strength}")
    return TrainedModel(parts, temperature, pooling, blend, history, kept, time.perf_counter() - started,
                        phases, sharpness, dict(zip(taxonomy.genres, balance.tolist(), strict=True)), teacher_kept)
