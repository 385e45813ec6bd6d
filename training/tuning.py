"""What training chooses on validation songs after the epochs, scored by family and genre
macro-F1: which weights to keep (one epoch's or a mean of epochs'), the temperature, the name
model's share in the final blend, the library pooling weights, the decision sharpness (see
`classifier.names.sharpened`) with the pooling weights that go with it, and how new artists'
songs share a family's probability among its genres (`tune_new_artist_balance`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from classifier.features import Batch
from classifier.inference import softmax
from classifier.library import Pooling, pool
from classifier.names import NameBlend, geometric_blend, sharpened
from classifier.taxonomy import Taxonomy
from training.baselines import own_songs
from training.dataset import TrainingSet
from training.metrics import macro_f1

SHARPNESS_GRID = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
BALANCE_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


def macro_f1_both(probabilities: np.ndarray, label_sets: list[tuple[int, ...]], taxonomy: Taxonomy) -> tuple[float, float]:
    families, genres = taxonomy.decide(probabilities)
    return (macro_f1(families, taxonomy.family_sets(label_sets), len(taxonomy.families)),
            macro_f1(genres, label_sets, len(taxonomy.genres)))


@dataclass(frozen=True)
class DataSetGroups:
    """Validation songs scored the way `evaluate --compare` scores test songs: each data set's songs
    on their own, by that data set's own labels, pooled as that data set's own library; a score is
    the mean over data sets. Scored together instead, a data set's songs would be judged among
    labels it never uses, and the 30k set's six families would be a small corner of the twenty:
    the deciding values tuned that way (a decision sharpness of 1, say) cost its unseen-artist
    songs several points that the test then measured.

    `groups`: per data set, the positions of its songs among the validation songs, and their labels."""

    groups: tuple[tuple[np.ndarray, tuple[tuple[int, ...], ...]], ...]

    @classmethod
    def single(cls, label_sets: Sequence[tuple[int, ...]]) -> DataSetGroups:
        """All songs as one data set (one file, or labels that are already one data set's)."""
        return cls(((np.arange(len(label_sets)), tuple(label_sets)),))

    @classmethod
    def of(cls, data: TrainingSet, rows: np.ndarray) -> DataSetGroups:
        """`rows` of `data` grouped by the file they came from (a song in two files is in both, with
        each file's labels); data without sources is one group with the merged labels."""
        if not data.sources:
            return cls.single([data.genre_sets[r] for r in rows])
        groups = []
        for source in data.sources:
            positions, labels = own_songs(source, rows)
            if len(positions):
                groups.append((positions, tuple(labels)))
        return cls(tuple(groups))

    def subset(self, rows: np.ndarray) -> DataSetGroups:
        """The groups of the songs at positions `rows`, renumbered as positions within `rows`."""
        index = np.full(max((int(p.max()) + 1 for p, _ in self.groups if len(p)), default=0), -1)
        index[rows[rows < len(index)]] = np.flatnonzero(rows < len(index))
        groups = []
        for positions, labels in self.groups:  # every group kept, empty or not: the i-th is still data set i
            inside = index[positions] >= 0
            groups.append((index[positions[inside]], tuple(s for s, keep in zip(labels, inside, strict=True) if keep)))
        return DataSetGroups(tuple(groups))

    def __len__(self) -> int:
        return sum(len(positions) for positions, _ in self.groups)

    def macro_f1(self, probabilities: np.ndarray, taxonomy: Taxonomy, *, batch: Batch | None = None,
                 pooling: Pooling | None = None) -> tuple[float, float]:
        """(family, genre) macro-F1, the mean over data sets; with `pooling`, each data set's songs
        pooled as one library (keys from `batch`, aligned with `probabilities`)."""
        family, genre = [], []
        for positions, labels in self.groups:
            if not len(positions):
                continue
            part = probabilities[positions]
            if pooling is not None and batch is not None:
                part = pool(part, batch.artist_keys[positions], batch.album_keys[positions], pooling)
            f, g = macro_f1_both(part, list(labels), taxonomy)
            family.append(f)
            genre.append(g)
        return (float(np.mean(family)), float(np.mean(genre))) if family else (0.0, 0.0)


def as_groups(label_sets: Sequence[tuple[int, ...]] | DataSetGroups) -> DataSetGroups:
    return label_sets if isinstance(label_sets, DataSetGroups) else DataSetGroups.single(label_sets)


def tune_pooling(views: list[np.ndarray], batch: Batch, label_sets: Sequence[tuple[int, ...]] | DataSetGroups,
                 taxonomy: Taxonomy) -> Pooling:
    """The artist and album weights that give validation songs, each data set's pooled as one
    library, the best mean of family and genre macro-F1 (over every view: with and without audio
    features)."""
    groups = as_groups(label_sets)
    best, best_score = Pooling(), -1.0
    for artist in np.arange(0.0, 0.95, 0.1):
        for album in np.arange(0.0, 1.0 - artist + 1e-9, 0.1):
            weights = Pooling(round(float(artist), 2), round(float(album), 2))
            score = 0.0
            for probabilities in views:
                score += sum(groups.macro_f1(probabilities, taxonomy, batch=batch, pooling=weights)) / 2 / len(views)
            if score > best_score + 1e-4:
                best, best_score = weights, score
    return best


def tune_sharpness(views: list[np.ndarray], batch: Batch, label_sets: Sequence[tuple[int, ...]] | DataSetGroups,
                   taxonomy: Taxonomy) -> tuple[float, Pooling]:
    """(power, pooling): the mean of family and genre macro-F1 over every view (with and without
    audio), half per song and half pooled with the pooling weights tuned for that power."""
    groups = as_groups(label_sets)
    best: tuple[float, Pooling] = (1.0, Pooling())
    best_score = -1.0
    for power in SHARPNESS_GRID:
        sharp = [sharpened(view, power) for view in views]
        pooling = tune_pooling(sharp, batch, groups, taxonomy)
        per_song = np.mean([sum(groups.macro_f1(view, taxonomy)) / 2 for view in sharp])
        pooled = np.mean([sum(groups.macro_f1(view, taxonomy, batch=batch, pooling=pooling)) / 2 for view in sharp])
        total = float(per_song + pooled) / 2
        if total > best_score + 1e-4:
            best, best_score = (power, pooling), total
    return best


def tune_new_artist_balance(views: list[np.ndarray], batch: Batch, known: np.ndarray,
                            label_sets: Sequence[tuple[int, ...]] | DataSetGroups, taxonomy: Taxonomy,
                            pooling: Pooling) -> tuple[float, np.ndarray]:
    """(strength, log-weights per genre) for songs by artists the model does not know: minus
    `strength` times the log of the mean probability validation's new-artist songs get per genre.

    For an artist it never met, the model leans to the genres it says often (a big genre, or one
    whose songs look like everyone's), and macro-F1 counts every genre alike. Dividing by that
    mean, within each family (see `Taxonomy.rebalanced`), evens out which genre a family's songs
    get and leaves the family answer alone. `strength` is what gives validation's new-artist
    songs the best genre macro-F1, half per song and half pooled as a library, over every view."""
    rows = np.flatnonzero(~known)
    if not len(rows):
        return 0.0, np.zeros(len(taxonomy.genres))
    groups = as_groups(label_sets).subset(rows)
    part = batch.subset(rows)
    log_mean = np.log(np.maximum(np.mean([view[rows].mean(axis=0) for view in views], axis=0), 1e-12))
    best, best_score = (0.0, np.zeros(len(taxonomy.genres))), -1.0
    for strength in BALANCE_GRID:
        weights = -strength * (log_mean - log_mean.mean())
        score = 0.0
        for view in views:
            balanced = taxonomy.rebalanced(view[rows], weights, np.arange(len(rows)))
            score += (groups.macro_f1(balanced, taxonomy)[1]
                      + groups.macro_f1(balanced, taxonomy, batch=part, pooling=pooling)[1]) / 2
        if score > best_score + 1e-4:
            best, best_score = (strength, np.round(weights, 4)), score
    return best


@dataclass
class KeptWeights:
    """The network's weights training keeps: one epoch's, or the mean of a run of epochs'."""

    epochs: list[int]
    scores: dict[str, float]  # validation macro-F1 of these weights (as in `history`), and their mean

    @property
    def score(self) -> float:
        return self.scores["score"]

    def describe(self) -> str:
        if len(self.epochs) == 1:
            return f"epoch {self.epochs[0]}"
        return f"the mean of epochs {self.epochs[0]}-{self.epochs[-1]}'s weights"


def validation_score(scores: dict[str, float]) -> float:
    """The one number that picks the weights to keep: the mean of the validation macro-F1s."""
    return sum(scores.values()) / len(scores)


def keep_weights(net: torch.nn.Module, states: list[dict[str, torch.Tensor]], history: list[dict[str, float]],
                 validate_net: Callable[[], dict[str, float]]) -> KeptWeights:
    """Load into `net` the weights validation likes best: the best epoch's, or the mean of the
    weights of epochs k..last for some k (a mean of points along the path generalises better to
    artists the network never met than any one of them; validation decides, not a rule)."""
    best_epoch = max(history, key=lambda row: row["score"])
    kept = KeptWeights([int(best_epoch["epoch"])], {k: v for k, v in best_epoch.items() if k not in ("epoch", "loss")})
    kept_state = states[kept.epochs[0] - 1]
    total = {k: torch.zeros_like(v, dtype=torch.float64) for k, v in states[-1].items()}
    for first in range(len(states), 0, -1):
        for k, v in states[first - 1].items():
            total[k] += v
        if first == len(states):
            continue  # a mean of one epoch is that epoch
        count = len(states) - first + 1
        mean = {k: (v / count).to(states[-1][k].dtype) for k, v in total.items()}
        net.load_state_dict(mean)
        scores = validate_net()
        score = round(validation_score(scores), 4)
        if score > kept.score:
            kept, kept_state = KeptWeights(list(range(first, len(states) + 1)), {"score": score, **scores}), mean
    net.load_state_dict(kept_state)
    return kept


def fit_temperature(logits: np.ndarray, label_sets: list[tuple[int, ...]]) -> float:
    """The temperature that minimises the validation log-loss of the songs' first labels."""
    target = np.array([s[0] for s in label_sets])
    best, best_nll = 1.0, math.inf
    for temperature in np.arange(0.5, 3.01, 0.05):
        log_p = np.log(np.maximum(softmax(logits / temperature), 1e-12))
        nll = float(-log_p[np.arange(len(target)), target].mean())
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return round(best, 2)


def tune_blend(network_views: list[np.ndarray], names: np.ndarray, known: np.ndarray, audio_views: list[np.ndarray],
               label_sets: Sequence[tuple[int, ...]] | DataSetGroups, taxonomy: Taxonomy) -> NameBlend:
    """The name model's share for each kind of validation song (artist known or new, with or
    without audio): the weight that gives those songs the best mean of family and genre macro-F1
    (per data set, averaged; the views' songs of that kind taken together)."""
    groups = as_groups(label_sets)
    weights: dict[str, float] = {}
    for known_artist, artist_word in ((True, "known_artist"), (False, "new_artist")):
        for with_audio, audio_word in ((True, "with_audio"), (False, "without_audio")):
            network_parts: list[np.ndarray] = []
            names_parts: list[np.ndarray] = []
            view_groups: list[DataSetGroups] = []
            offset = 0
            for probabilities, audio in zip(network_views, audio_views, strict=True):
                rows = np.flatnonzero((known == known_artist) & (audio == with_audio))
                network_parts.append(probabilities[rows])
                names_parts.append(names[rows])
                part = groups.subset(rows)
                view_groups.append(DataSetGroups(tuple((positions + offset, labels) for positions, labels in part.groups)))
                offset += len(rows)
            network, name_p = np.concatenate(network_parts), np.concatenate(names_parts)
            cell = _merged(view_groups)
            best, best_score = 0.0, -1.0
            if len(cell):
                for weight in np.arange(0.0, 1.0001, 0.05):
                    mixed = geometric_blend(network, name_p, float(weight))
                    score = sum(cell.macro_f1(mixed, taxonomy)) / 2
                    if score > best_score + 1e-4:
                        best, best_score = round(float(weight), 2), score
            weights[f"{artist_word}_{audio_word}"] = best
    return NameBlend(**weights)


def _merged(parts: list[DataSetGroups]) -> DataSetGroups:
    """Groups of several views' songs laid end to end (positions already offset), one group per data
    set (`subset` keeps every data set's group, so the i-th group of each view is data set i)."""
    return DataSetGroups(tuple((np.concatenate([p for p, _ in same]), tuple(s for _, labels in same for s in labels))
                               for same in zip(*(part.groups for part in parts), strict=True)))
