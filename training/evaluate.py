"""Scoring models honestly: the published splits, macro-F1 at family and genre level, per-class
scores, confusion matrices, and the baselines a practitioner would reach for, in the same run.

`compare()` trains the network (and the gradient boosting baseline) on each published split of all
the data sets together, the names baseline on each data set's own training songs (see
training/baselines.py), then scores every data set on its own held-out songs: with and without audio features,
per song and as libraries (each data set's held-out songs pooled as one member's library), at
family and genre level. Beside the network as shipped (choosing among every genre, as a member's
library needs), the same network restricted to the genres the scored data set's own labels
resolve to is scored as a separate row: the label space its names baseline chooses from, so the
gap label space explains can be read off. A track listed under several labels counts as correct when the
prediction is any of them. The splits are published as a rule anyone can reproduce: a song is
held out when the first 12 hex digits of the SHA-1 of "<salt>:<key>", read as a number, are 0
mod 5 (key: the track id for the random split, the primary-artist key for the artist-disjoint
split), so 20 % of songs or artists are held out (`split_rule` says it as Python).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from classifier import Classifier
from classifier.features import FeatureSchema, featurise
from classifier.library import Pooling, library_keys, pool
from classifier.taxonomy import Taxonomy
from classifier.text import primary_artist
from cli_output import written_whole
from training.baselines import (
    BASELINES,
    BOOSTING,
    NAMES_LR,
    STACK,
    NamesRegression,
    boosting_probabilities,
    fit_boosting,
    fit_names_baseline,
    own_songs,
    stack,
)
from training.data import SongRow
from training.dataset import Source, TrainingSet
from training.metrics import report
from training.train import TrainConfig, ValidationRows, split_validation, train
from training.tuning import macro_f1_both, tune_pooling

SPLIT_SALTS = {"random": "genrebot-random-split", "artist": "genrebot-artist-split"}
SPLIT_NAMES = {"random": "random track split", "artist": "artist-disjoint split"}
NETWORK = "genre network (ours)"
CLOSED_SET = "network, choosing among the data set's labels"
CLOSED_SET_HOW = ("the same network's probabilities restricted to the genres the scored data set's training labels "
                  "resolve to and renormalised (families follow from those genres), as libraries pooled first and "
                  "then restricted: the label space each data set's names baseline chooses from. A diagnostic of how "
                  "much of the gap is label space, not the product's figure (a member's library chooses among all "
                  "labels); never in bold")


def held_out(key: str, salt: str) -> bool:
    """The published split rule (`split_rule`): held out when the first 12 hex digits of
    sha1("<salt>:<key>") are 0 mod 5."""
    return int(hashlib.sha1(f"{salt}:{key}".encode()).hexdigest()[:12], 16) % 5 == 0


def split_rule(kind: str) -> str:
    """`held_out` for a split, as comparison.json publishes it: a Python expression (with
    hashlib's sha1) anyone can recompute the split with."""
    key = "track id" if kind == "random" else "primary artist key"
    return f'held out when int(sha1("{SPLIT_SALTS[kind]}:<{key}>".encode()).hexdigest()[:12], 16) % 5 == 0'


def split_key(kind: str, track: SongRow, track_id: str) -> str:
    return track_id if kind == "random" else primary_artist(track.artists)


@dataclass
class Split:
    kind: str  # "random" or "artist"
    train: np.ndarray
    test: np.ndarray


def published_split(data: TrainingSet, kind: str) -> Split:
    test = np.array([held_out(split_key(kind, t, i), SPLIT_SALTS[kind]) for t, i in zip(data.tracks, data.track_ids,
                                                                                        strict=True)])
    return Split(kind, np.flatnonzero(~test), np.flatnonzero(test))


def subset(data: TrainingSet, rows: np.ndarray) -> TrainingSet:
    """`rows` of `data` as a training set of their own, each file's songs among them still known as
    its (training tunes on each data set's validation songs separately)."""
    position = np.full(len(data), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    sources = []
    for source in data.sources:
        kept = position[source.rows] >= 0
        sources.append(Source(source.name, source.sha256, position[source.rows][kept],
                              [g for g, keep in zip(source.genre_sets, kept, strict=True) if keep],
                              [label for label, keep in zip(source.labels, kept, strict=False) if keep],
                              source.rows_read))
    return TrainingSet([data.tracks[r] for r in rows], [data.track_ids[r] for r in rows],
                       [data.genre_sets[r] for r in rows], sources, data.taxonomy)


@dataclass
class DataSetBaselines:
    """The baselines as scored on one data set: its own names regression, the boosting fitted on
    both sets, and the stack weight tuned on the data set's validation songs."""

    names: NamesRegression
    boosting: dict[bool, HistGradientBoostingClassifier]
    blend: dict[bool, float]
    n_genres: int

    def probabilities(self, tracks: Sequence[SongRow], *, audio: bool) -> dict[str, np.ndarray]:
        names = self.names.probabilities(tracks)
        boosted = boosting_probabilities(self.boosting[audio], tracks, self.n_genres, audio=audio)
        return {NAMES_LR: names, BOOSTING: boosted, STACK: stack(names, boosted, self.blend[audio])}


def tuned_baselines(data: TrainingSet, source: Source, split: Split, validation: ValidationRows,
                    boosting: dict[bool, HistGradientBoostingClassifier], seed: int,
                    say: Callable[[str], None]) -> tuple[DataSetBaselines, dict[bool, dict[str, Pooling]]]:
    """Tune the stack weight and the library pooling on the data set's validation songs with a names
    regression that never saw them; then refit it on all the data set's training songs, as the
    network is fitted on all of them (validation only picks its epoch and weights)."""
    n_genres = len(data.taxonomy.genres)
    say(f"baselines for {source.name}: logistic regression on TF-IDF of names, stack weight, pooling")
    tuning = DataSetBaselines(fit_names_baseline(data, source, split.train[validation.train], seed), boosting,
                              {True: 0.5, False: 0.5}, n_genres)
    validation_rows = split.train[validation.all]
    positions, label_sets = own_songs(source, validation_rows)
    tracks = [data.tracks[r] for r in validation_rows[positions]]
    pooling = {}
    for audio in (True, False):
        probs = tuning.probabilities(tracks, audio=audio)
        # Each level's macro-F1 rounded as comparison.json reports it (as this tuning always has, so the
        # published stack weights stay the ones it picks).
        scores = {round(float(w), 1): sum(round(f1, 4) for f1 in macro_f1_both(
            stack(probs[NAMES_LR], probs[BOOSTING], w), label_sets, data.taxonomy)) for w in np.arange(0.0, 1.01, 0.1)}
        tuning.blend[audio] = max(scores, key=lambda w: scores[w])
        batch = featurise(tracks, FeatureSchema())
        pooling[audio] = {name: tune_pooling([p], batch, label_sets, data.taxonomy)
                          for name, p in tuning.probabilities(tracks, audio=audio).items()}
    say(f"baselines for {source.name}: stack weight {tuning.blend}; refitting the names regression on "
        f"{len(own_songs(source, split.train)[0]):,} training songs")
    return DataSetBaselines(fit_names_baseline(data, source, split.train, seed), boosting, tuning.blend,
                            n_genres), pooling

OWN_MIX = "network, deciding with the data set's own genre mix"
OWN_MIX_HOW = ("the same network's probabilities reweighted genre by genre by how much more often the scored data "
               "set's training songs have each genre than the training songs of both data sets together (the mix "
               "the network learnt), then renormalised; as libraries pooled first. A diagnostic of how much of the "
               "gap is the two data sets' genre mix, which no member's library shares: not the product's figure; "
               "never in bold")


def genre_mix(label_sets: Sequence[tuple[int, ...]], n_genres: int) -> np.ndarray:
    """Each genre's share of these songs (a song of several labels counts a part to each), with one
    song's worth added to every genre so no genre's share is zero."""
    counts = np.ones(n_genres)
    for labels in label_sets:
        counts[list(labels)] += 1 / len(labels)
    return counts / counts.sum()


def own_mix(probabilities: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """`probabilities` with each genre's multiplied by `ratio` (a data set's mix over the learnt one), rows renormalised."""
    weighted = probabilities * ratio[None, :]
    return (weighted / weighted.sum(axis=1, keepdims=True)).astype(np.float32)


def genre_mask(label_sets: Sequence[tuple[int, ...]], n_genres: int) -> np.ndarray:
    """The genres a data set's own labels resolve to, as a boolean mask over the taxonomy's genres."""
    mask = np.zeros(n_genres, dtype=bool)
    mask[[g for labels in label_sets for g in labels]] = True
    return mask


def closed_set(probabilities: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`probabilities` choosing only among `mask`'s genres: the others zeroed, rows renormalised."""
    restricted = np.where(mask[None, :], np.maximum(probabilities, 1e-12), 0.0)  # floor: a row never sums to 0
    return (restricted / restricted.sum(axis=1, keepdims=True)).astype(np.float32)


def score(probabilities: np.ndarray, label_sets: list[tuple[int, ...]], taxonomy: Taxonomy) -> dict[str, Any]:
    families, genres = taxonomy.decide(probabilities)
    return {"family": report(families, taxonomy.family_sets(label_sets), taxonomy.families),
            "genre": report(genres, label_sets, taxonomy.genres)}


def score_model(classifier: Classifier, data: TrainingSet, *, library: bool, without_audio: bool = False
                ) -> dict[str, Any]:
    """A trained model on labelled data (`genrebot evaluate`), at family and genre level: all songs,
    then songs by artists the model met in training and by artists new to it (what a member's
    library mostly holds), and each (track, label) row against its own label (`per_row`)."""
    batch = featurise(data.tracks, classifier.parts.schema)
    probabilities = classifier.batch_probabilities(batch, without_audio=without_audio)
    if library:
        probabilities = classifier.pool(data.tracks, probabilities)
    label_sets = list(data.genre_sets)
    result = {"model_version": classifier.version, "n": len(data), "library": library,
              "audio": data.has_audio and not without_audio, **score(probabilities, label_sets, data.taxonomy)}
    known = classifier.known_artists(batch.artist_keys)
    result["artists"] = {}
    for which, rows in (("known", np.flatnonzero(known)), ("new", np.flatnonzero(~known))):
        if len(rows):
            part = score(probabilities[rows], [label_sets[i] for i in rows.tolist()], data.taxonomy)
            result["artists"][which] = {"n": len(rows), **{level: {k: part[level][k] for k in ("macro_f1", "accuracy")}
                                                             for level in ("family", "genre")}}
    result["per_row"] = per_row_scores(probabilities, data)
    return result


def per_row_scores(probabilities: np.ndarray, data: TrainingSet) -> dict[str, Any]:
    """Each (track, label) pair scored against that label alone, as a per-row report would."""
    rows = [(track, genre) for track, genres in enumerate(data.genre_sets) for genre in genres]
    result = score(probabilities[[t for t, _ in rows]], [(g,) for _, g in rows], data.taxonomy)
    return {"rows": len(rows), "family": {k: result["family"][k] for k in ("macro_f1", "accuracy")},
            "genre": {k: result["genre"][k] for k in ("macro_f1", "accuracy")}}


def compare(data: TrainingSet, out_dir: Path, *, seeds: Sequence[int] = (1337,), epochs: int | None = None,
            threads: int = 2, kinds: Sequence[str] = ("random", "artist"),
            say: Callable[[str], None] = lambda _message: None) -> dict[str, Any]:
    """Network vs baselines on the published splits (`kinds`: both by default); writes
    comparison.json/.md and confusion PNGs. Run for one split, it keeps the other split's rows
    from an existing comparison.json in `out_dir` (so the two can run one after the other).

    With several `seeds`, everything seeded (the network, the boosting, the names regressions and
    the validation songs they are tuned on) is trained once per seed, and each cell is the mean
    over seeds, with every seed's figure kept beside it: a cell won or lost by less than the
    spread between seeds is luck, not a finding."""
    if not data.has_audio:
        raise ValueError("the comparison needs data with audio-feature columns")
    out_dir.mkdir(parents=True, exist_ok=True)
    earlier = _earlier_comparison(out_dir / "comparison.json", kinds)  # refused now, not after the training
    taxonomy = data.taxonomy
    settings: list[dict[str, Any]] = []
    split_info = {}
    for kind in kinds:
        split = published_split(data, kind)
        split_info[kind] = {"rule": split_rule(kind),
                            "train": len(split.train), "test": len(split.test), "seeds": list(seeds)}
        train_set = subset(data, split.train)
        # What does not depend on the seed, worked out once per split: whose songs training shows
        # (the validation draw is by primary artist; scoring tells known artists from new ones).
        artist_keys = featurise(train_set.tracks, FeatureSchema()).artist_keys
        train_artists = {primary_artist(t.artists) for t in train_set.tracks}
        runs: list[list[dict[str, Any]]] = []
        for run, seed in enumerate(seeds):
            config = TrainConfig(seed=seed, threads=threads)
            if epochs:
                config.epochs = epochs
            say(f"{SPLIT_NAMES[kind]}, seed {seed}: training the network on {len(train_set):,} songs, "
                f"testing on {len(split.test):,}")
            model = train(train_set, config, say=say)
            classifier = Classifier(model.parts, {**model.metadata(), "version": "evaluation"})
            validation: ValidationRows = split_validation(artist_keys, config.validation_fraction,
                                                          np.random.default_rng(seed))
            say(f"{SPLIT_NAMES[kind]}, seed {seed}: baselines: gradient boosting with and without audio features")
            boosting = fit_boosting(train_set, validation.train, seed)
            rows: list[dict[str, Any]] = []
            for source in data.sources:
                baselines, base_pooling = tuned_baselines(data, source, split, validation, boosting, seed, say)
                rows.extend(_score_source(source, split, data, classifier, baselines, base_pooling, train_artists,
                                          out_dir if run == 0 else None, say))
            runs.append(rows)
        settings.extend(mean_over_seeds(runs))
    result = {"seeds": list(seeds), "splits": split_info, "taxonomy": {"families": len(taxonomy.families),
                                                               "genres": len(taxonomy.genres)},
              "sources": {s.name: {"sha256": s.sha256, "tracks": len(s.rows)} for s in data.sources},
              "pooling": "each data set's held-out songs pooled as one member's library (weights tuned on validation)",
              "baselines": BASELINES,
              "diagnostics": {CLOSED_SET: CLOSED_SET_HOW, OWN_MIX: OWN_MIX_HOW},
              "settings": settings}
    if earlier is not None:
        _keep_other_splits(result, earlier, kinds)
    write_comparison(result, out_dir)
    return result


def write_comparison(result: dict[str, Any], out_dir: Path) -> None:
    """comparison.json and comparison.md in `out_dir`, both written whole beside their names before
    either is renamed over the earlier one: a write cut short (disk full, a kill) leaves the earlier
    pair as it was, never a truncated comparison.json that the next one-split run reads back."""
    with written_whole(out_dir / "comparison.json") as json_file, written_whole(out_dir / "comparison.md") as tables:
        json_file.write_text(json.dumps(result, indent=1))
        tables.write_text(markdown_tables(result))


def _earlier_comparison(path: Path, kinds: Sequence[str]) -> dict[str, Any] | None:
    """The comparison at `path` whose other splits a run of `kinds` keeps (None: all redone, or none
    there); ValueError naming the file when it cannot be read."""
    if set(kinds) >= set(SPLIT_NAMES) or not path.exists():
        return None
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read ({exc}): this run keeps its other split's rows from it; "
                         "move it away, or run every split") from None
    if not isinstance(earlier, dict):
        raise ValueError(f"{path} cannot be read (not a comparison): move it away, or run every split")
    return earlier


def _keep_other_splits(result: dict[str, Any], previous: dict[str, Any], kinds: Sequence[str]) -> None:
    """Carry over the rows (and split facts) of splits this run did not redo."""
    others = [kind for kind in SPLIT_NAMES if kind not in kinds and kind in previous.get("splits", {})]
    names = {SPLIT_NAMES[kind] for kind in others}
    carried = [row for row in previous.get("settings", []) if row["split"] in names]
    result["splits"] = {kind: result["splits"].get(kind) or previous["splits"][kind] for kind in SPLIT_NAMES
                        if kind in result["splits"] or kind in others}
    order = list(SPLIT_NAMES.values())
    result["settings"] = sorted(result["settings"] + carried, key=lambda row: (row["data"], order.index(row["split"])))


def mean_over_seeds(runs: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The settings rows of several seeds' runs (the same rows in the same order) as one: each
    model's macro-F1, accuracy and per-class figures are the mean over seeds; with more than one
    seed, `macro_f1_by_seed` keeps each seed's macro-F1."""
    if len(runs) == 1:
        return list(runs[0])
    combined = []
    for rows in zip(*runs, strict=True):
        first = rows[0]
        models: dict[str, Any] = {}
        for name in first["models"]:
            models[name] = {}
            for level in ("family", "genre"):
                entries = [row["models"][name][level] for row in rows]
                # A seed lists the classes its any-of-its-labels truth has, which rests on its own
                # predictions: each class is the mean over the seeds listing it (support: the first's).
                per_class = {}
                for c in dict.fromkeys(c for e in entries for c in e["per_class"]):
                    listing = [e["per_class"][c] for e in entries if c in e["per_class"]]
                    per_class[c] = {k: round(float(np.mean([x[k] for x in listing])), 4) if k != "support"
                                    else listing[0][k] for k in listing[0]}
                models[name][level] = {
                    "macro_f1": round(float(np.mean([e["macro_f1"] for e in entries])), 4),
                    "macro_f1_by_seed": [e["macro_f1"] for e in entries],
                    "accuracy": round(float(np.mean([e["accuracy"] for e in entries])), 4),
                    "n": entries[0]["n"],
                    "per_class": per_class,
                }
        combined.append({**first, "models": models})
    return combined


def _score_source(source: Source, split: Split, data: TrainingSet, classifier: Classifier, baselines: DataSetBaselines,
                  base_pooling: dict[bool, dict[str, Pooling]], train_artists: set[str], out_dir: Path | None,
                  say: Callable[[str], None]) -> list[dict[str, Any]]:
    """The settings rows of one data set's held-out songs; confusion matrices written to `out_dir`
    (None: not written, as for every seed after the first)."""
    in_test = np.isin(source.rows, split.test)
    rows = source.rows[in_test]
    label_sets = [source.genre_sets[i] for i in np.flatnonzero(in_test)]
    tracks = [data.tracks[r] for r in rows]
    artist_keys, album_keys = library_keys(tracks)
    known = np.array([primary_artist(t.artists) in train_artists for t in tracks])
    batch = featurise(tracks, classifier.parts.schema)
    network = classifier.batch_probabilities(batch)
    network_meta = classifier.batch_probabilities(batch, without_audio=True)
    n_genres = len(data.taxonomy.genres)
    own_label_sets = own_songs(source, split.train)[1]
    own_labels = genre_mask(own_label_sets, n_genres)
    mix_ratio = genre_mix(own_label_sets, n_genres) / genre_mix([data.genre_sets[r] for r in split.train], n_genres)
    settings = []
    for audio, ours in ((True, network), (False, network_meta)):
        probs = {NETWORK: ours, **baselines.probabilities(tracks, audio=audio)}
        pooled = {name: pool(p, artist_keys, album_keys,
                             classifier.pooling if name == NETWORK else base_pooling[audio][name])
                  for name, p in probs.items()}
        probs = {NETWORK: ours, CLOSED_SET: closed_set(ours, own_labels), OWN_MIX: own_mix(ours, mix_ratio), **probs}
        pooled = {NETWORK: pooled[NETWORK], CLOSED_SET: closed_set(pooled[NETWORK], own_labels),
                  OWN_MIX: own_mix(pooled[NETWORK], mix_ratio), **pooled}
        modes: list[tuple[str, dict[str, np.ndarray], np.ndarray]] = [("per song", probs, np.arange(len(rows))),
                                                                      ("as a library", pooled, np.arange(len(rows)))]
        if split.kind == "random":
            modes.append(("per song, known artists", probs, np.flatnonzero(known)))
        for mode, table, chosen in modes:
            chosen_sets = [label_sets[i] for i in chosen]
            models = {name: score(p[chosen], chosen_sets, data.taxonomy) for name, p in table.items()}
            settings.append({"data": source.name, "split": SPLIT_NAMES[split.kind], "audio": audio, "mode": mode,
                             "n": len(chosen), "models": models})
            say(f"{source.name}, {SPLIT_NAMES[split.kind]}, {'with' if audio else 'without'} audio, {mode}: "
                + ", ".join(f"{name} {s['family']['macro_f1']:.3f}/{s['genre']['macro_f1']:.3f}"
                            for name, s in models.items()))
        if audio and out_dir is not None:
            families, _ = data.taxonomy.decide(ours)
            slug = f"{Path(source.name).name.split('.')[0]}-{split.kind}-split"
            confusion_png(families, data.taxonomy.family_sets(label_sets),
                          data.taxonomy, f"families, {source.name}, {SPLIT_NAMES[split.kind]}, with audio",
                          out_dir / f"confusion-{slug}.png")
    return settings


def confusion_png(predicted: np.ndarray, label_sets: list[tuple[int, ...]], taxonomy: Taxonomy, title: str,
                  path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from training.metrics import lenient_truth

    n = len(taxonomy.families)
    truth = lenient_truth(predicted, label_sets)
    matrix = np.zeros((n, n))
    np.add.at(matrix, (truth, predicted), 1)
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    labels = [taxonomy.label(f, "family") for f in taxonomy.families]
    figure = Figure(figsize=(10, 9), dpi=90)
    axes = figure.add_subplot()
    axes.imshow(normalised, cmap="Greens", vmin=0, vmax=1)
    axes.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=7)
    axes.set_yticks(range(n), labels, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title, fontsize=9)
    for i in range(n):
        for j in range(n):
            if normalised[i, j] >= 0.01:
                axes.text(j, i, f"{normalised[i, j]:.2f}", ha="center", va="center", fontsize=5,
                          color="white" if normalised[i, j] > 0.5 else "black")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path) as partial:
        figure.savefig(partial)


def markdown_tables(result: dict[str, Any]) -> str:
    """One table per data set and level: settings down, models across, the best in bold (diagnostic rows,
    such as the closed-set network, are shown but never marked best). A cell of several seeds is
    their mean, with the lowest and highest seed's figure after it."""
    described = {**result.get("baselines", {}), **result.get("diagnostics", {})}
    out = [f"- **{name}**: {how}" for name, how in described.items()]
    seeded = {kind: info["seeds"] for kind, info in result.get("splits", {}).items() if len(info.get("seeds", [])) > 1}
    for kind, seeds in seeded.items():
        out.append(f"- **{SPLIT_NAMES[kind]}**: every model trained with seeds {', '.join(map(str, seeds))}; "
                   "a cell is their mean macro-F1, then (lowest-highest)")
    out += [""] if out else []
    for source in dict.fromkeys(row["data"] for row in result["settings"]):
        for level in ("family", "genre"):
            rows = [r for r in result["settings"] if r["data"] == source]
            models = list(dict.fromkeys(m for r in rows for m in r["models"]))
            out.append(f"### {source}: {level} macro-F1\n")
            out.append("| split | audio | mode | n | " + " | ".join(models) + " |")
            out.append("|---|---|---|---|" + "---|" * len(models))
            for r in rows:
                values = {m: r["models"][m][level]["macro_f1"] for m in models}
                best = max(v for m, v in values.items() if m not in result.get("diagnostics", {}))
                cells = [(f"**{v:.3f}**" if v == best and m not in result.get("diagnostics", {}) else f"{v:.3f}")
                         + _seed_range(r["models"][m][level]) for m, v in values.items()]
                out.append(f"| {r['split']} | {'with' if r['audio'] else 'without'} | {r['mode']} | {r['n']:,} | "
                           + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def _seed_range(entry: dict[str, Any]) -> str:
    """" (lowest-highest)" of a cell measured with several seeds; "" for one seed."""
    by_seed = entry.get("macro_f1_by_seed", [])
    return f" ({min(by_seed):.3f}-{max(by_seed):.3f})" if len(by_seed) > 1 else ""
