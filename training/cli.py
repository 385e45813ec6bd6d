"""`genrebot train`, `evaluate`, `predict` and `genres`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli_errors import positive_int

if TYPE_CHECKING:

    from classifier import Classifier
    from classifier.taxonomy import Taxonomy
    from cli_output import Owned
    from training.dataset import TrainingSet
    from training.label_map import LabelMap
    from training.predict import ClassifiedFile

SHIPPED_TAXONOMY = Path(__file__).resolve().parent / "taxonomy.json"
MIN_TRAINING_SONGS = 50

TRAIN_DESCRIPTION = """\
Train a genre model on labelled Spotify CSVs (any of the public layouts: track_name/track_artist/
playlist_genre, artists/track_genre, ...) and write it to a new model directory, which MODEL_DIR
or --model can then point at. Progress bars with the time left go to stderr; the end says which
epoch was kept and why.

example:
  genrebot train --input spotify_songs.csv --input dataset.csv --output my-model
  genrebot train --input my_songs.csv --label-column genre --output my-model --epochs 8 --force"""

EVALUATE_DESCRIPTION = """\
Score a model on labelled data, at family and genre level. Scoring rule: per track, a prediction
counts as right when it is any of the track's labels (a song collected under two genres has two
right answers); the per-row figure beside it scores each (track, label) row against its own label
only. Tracks whose labels the model does not know are counted and left out; when most are,
evaluate refuses (exit 2). --compare instead trains and scores the network and the baselines.

example:
  genrebot evaluate --input spotify_songs.csv
  genrebot evaluate --input spotify_songs.csv --model my-model --json"""

PREDICT_DESCRIPTION = """\
Classify every row of a CSV (an Exportify export or a data-set layout) and write the rows' id,
name and artists with the predicted family (genre column), genre (subgenre column) and their
confidences to a new CSV.

example:
  genrebot predict --input liked_songs.csv --output predictions.csv
  genrebot predict --input liked_songs.csv --output predictions.csv --library --force"""

GENRES_DESCRIPTION = """\
Print the model's taxonomy: its families and the genres in each.

example:
  genrebot genres
  genrebot genres --model my-model --json"""


def register(subparsers: Any) -> None:
    train = subparsers.add_parser("train", help="train a genre model on labelled Spotify CSVs",
                                  description=TRAIN_DESCRIPTION)
    train.add_argument("--input", "--data", dest="data", metavar="CSV", type=Path, required=True, action="append",
                       help="labelled CSV (.csv or .csv.gz); repeat to train on several files together")
    train.add_argument("--label-column", help="the genre column (default: detected by name)")
    train.add_argument("--subgenre-column", help="the subgenre column (default: detected by name)")
    train.add_argument("--taxonomy", default=str(SHIPPED_TAXONOMY),
                       help="taxonomy JSON mapping labels to genres and families (default: the shipped one); "
                            "'data' derives one from the label and subgenre columns")
    train.add_argument("--output", "--out", dest="out", metavar="DIR", type=Path, default=Path("genrebot-model"),
                       help="model directory to write: new or empty (a genrebot model only with --force)")
    train.add_argument("--force", action="store_true",
                       help="replace the genrebot model at --output (never a directory holding anything else)")
    train.add_argument("--seed", type=int, default=1337, help="random seed (same seed, same model)")
    train.add_argument("--epochs", type=positive_int, default=None, help="training epochs (default 10)")
    train.add_argument("--threads", type=positive_int, default=2, help="torch threads (default 2)")
    train.set_defaults(handler=_train)

    evaluate = subparsers.add_parser("evaluate", help="score a model on labelled data, or compare with baselines",
                                     description=EVALUATE_DESCRIPTION)
    evaluate.add_argument("--input", "--data", dest="data", metavar="CSV", type=Path, required=True, action="append",
                          help="labelled CSV; repeat for several (--compare trains on all of them together)")
    evaluate.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    evaluate.add_argument("--label-column", help="the genre column (default: detected by name)")
    evaluate.add_argument("--library", action="store_true", help="score the songs pooled as one library")
    evaluate.add_argument("--without-audio", action="store_true",
                          help="ignore the file's audio features, as for every app Spotify registers today")
    evaluate.add_argument("--label-map", type=Path, metavar="JSON",
                          help="read a data set's own labels as genres: {\"labels\": {label: genre or [genre, ...]}} "
                               "(see training/label_maps/)")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--compare", action="store_true",
                          help="train and score the network and baselines on the published splits; write the tables")
    evaluate.add_argument("--output", "--out", dest="out", metavar="DIR", type=Path, default=Path("classifier/evaluation"),
                          help="where --compare writes comparison.json/.md and confusion matrices")
    evaluate.add_argument("--seed", type=int, default=1337, help="seed for --compare's training")
    evaluate.add_argument("--seeds", type=positive_int, default=1, metavar="N",
                          help="--compare: train and score with N seeds (--seed, --seed + 1, ...); each cell is their "
                               "mean, shown with the lowest and highest (default 1)")
    evaluate.add_argument("--epochs", type=positive_int, default=None, help="--compare: training epochs (default 10)")
    evaluate.add_argument("--threads", type=positive_int, default=2, help="--compare: torch threads (default 2)")
    evaluate.add_argument("--split", choices=("random", "artist"), action="append",
                          help="--compare: only this published split (repeatable; default both); the other's rows "
                               "are kept from an existing comparison.json in --out")
    evaluate.set_defaults(handler=_evaluate)

    predict = subparsers.add_parser("predict", help="classify every row of a CSV (Exportify or data-set layout)",
                                    description=PREDICT_DESCRIPTION)
    predict.add_argument("--input", metavar="CSV", type=Path, required=True, help="CSV to classify")
    predict.add_argument("--output", metavar="CSV", type=Path, required=True,
                         help="CSV to write (an existing file only with --force)")
    predict.add_argument("--force", action="store_true", help="replace the file at --output")
    predict.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    predict.add_argument("--library", action="store_true",
                         help="treat the file as one member's library: pool songs by artist and album")
    predict.set_defaults(handler=_predict)

    genres = subparsers.add_parser("genres", help="print the model's taxonomy: families and their genres",
                                   description=GENRES_DESCRIPTION)
    genres.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    genres.add_argument("--json", action="store_true",
                        help='one JSON object: {"families": {family: [genre, ...]}, "aliases": {label: genre}}')
    genres.set_defaults(handler=_genres)


def model_directory_in(directory: Path) -> Owned | None:
    """What `cli_output.check_replaceable` needs to know of a genrebot model directory."""
    from classifier.inference import model_files_in
    from cli_output import Owned

    files = model_files_in(directory)
    return None if files is None else Owned("a genrebot model", files)


def classifier_or_refuse(path: Path | None) -> Classifier:
    """The model in `path` (default: the shipped one), or a one-line UsageError."""
    from classifier import Classifier, ModelLoadError
    from cli_errors import UsageError

    try:
        return Classifier.load(path, threads=2)
    except ModelLoadError as exc:
        raise UsageError(str(exc)) from None


def classified_file_or_refuse(path: Path, classifier: Classifier, *, library: bool = False) -> ClassifiedFile:
    """Every row of a CSV, classified in chunks (shared by `predict` and `sort`), or a one-line UsageError."""
    from cli_errors import UsageError
    from training.data import DataError
    from training.predict import classify_file

    try:
        return classify_file(path, classifier, library=library)
    except DataError as exc:
        raise UsageError(str(exc)) from None


def _taxonomy(value: str) -> Taxonomy | None:
    from classifier.taxonomy import Taxonomy, TaxonomyError
    from cli_errors import UsageError

    if value == "data":
        return None
    try:
        return Taxonomy.load(Path(value))
    except TaxonomyError as exc:
        raise UsageError(str(exc)) from None


def _train(args: argparse.Namespace) -> int:
    from classifier.inference import ModelWriteRefused, write_model_dir
    from cli_errors import UsageError, readable_file
    from cli_output import check_replaceable
    from training.data import DataError
    from training.dataset import load_training_set
    from training.train import TrainConfig, train

    if args.epochs is not None and not 1 <= args.epochs <= 1000:
        raise UsageError("--epochs must be between 1 and 1000")
    for path in args.data:
        readable_file(path, "--input")
    check_replaceable(args.out, flag="--output", force=args.force, owned=model_directory_in)  # before training
    taxonomy = _taxonomy(args.taxonomy)
    try:
        data, loaded = load_training_set(args.data, taxonomy, label_column=args.label_column,
                                         subgenre_column=args.subgenre_column)
    except DataError as exc:
        raise UsageError(str(exc)) from None
    if len(data) < MIN_TRAINING_SONGS:  # too few to split into training and validation songs
        raise UsageError(f"{len(data):,} usable songs are too few to train on: give at least {MIN_TRAINING_SONGS} "
                         "(a few hundred per genre make a useful model)")
    for path, file in zip(args.data, loaded, strict=True):
        print(f"{path.name}: {file.report.render()}", file=sys.stderr)
    config = TrainConfig(seed=args.seed, threads=args.threads)
    if args.epochs:
        config.epochs = args.epochs
    print(f"training on {len(data):,} tracks: {len(data.taxonomy.families)} families, "
          f"{len(data.taxonomy.genres)} genres", file=sys.stderr)
    # Ctrl-C during training stops here; the model directory is only ever replaced whole.
    model = train(data, config, say=lambda message: print(message, file=sys.stderr, flush=True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        version = write_model_dir(args.out, model.parts, model.metadata(
            training_data={s.name: {"sha256": s.sha256, "rows": s.rows_read, "tracks": len(s.rows)}
                           for s in data.sources},
            training_tracks=len(data),
            seed=args.seed,
            train_config=config.__dict__,
        ))
    except ModelWriteRefused as exc:  # something appeared at --output while training
        raise UsageError(str(exc)) from None
    print(f"wrote {args.out} ({version}) in {model.seconds:.0f}s; kept {model.kept.describe()}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from cli_errors import UsageError
    from training.data import DataError
    from training.dataset import load_training_set
    from training.evaluate import compare, markdown_tables, score_model

    if args.compare and (args.label_map is not None or args.without_audio):
        used = "--label-map" if args.label_map is not None else "--without-audio"
        raise UsageError(f"{used} scores a trained model; --compare trains on the shipped taxonomy's labels "
                         "and scores with and without audio itself")
    if args.compare:
        taxonomy = _taxonomy(str(SHIPPED_TAXONOMY))
        try:
            data, _ = load_training_set(args.data, taxonomy, label_column=args.label_column)
            report = compare(data, args.out, seeds=[args.seed + i for i in range(args.seeds)], epochs=args.epochs,
                             threads=args.threads,
                             kinds=tuple(dict.fromkeys(args.split or ("random", "artist"))),
                             say=lambda message: print(message, file=sys.stderr, flush=True))
        except (DataError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        print(json.dumps(report, indent=1) if args.json else markdown_tables(report))
        return 0
    classifier = classifier_or_refuse(args.model)
    label_map = None
    if args.label_map is not None:
        from training.label_map import LabelMapError, read_label_map

        try:
            label_map = read_label_map(args.label_map, classifier.taxonomy)
        except LabelMapError as exc:
            raise UsageError(str(exc)) from None
    data, unknown, total = known_label_tracks(args.data, classifier, label_column=args.label_column,
                                              label_map=label_map)
    result = score_model(classifier, data, library=args.library, without_audio=args.without_audio)
    result.update(scoring_rule=SCORING_RULE, tracks_read=total, tracks_with_unknown_labels=unknown)
    if label_map is not None:
        result["label_map"] = {"path": str(args.label_map), "about": label_map.about}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    left_out = f"; {unknown:,} of {total:,} had only labels this model does not know" if unknown else ""
    how = ", ".join(x for x in ("as one library" if args.library else "",
                                "audio features ignored" if data.has_audio and args.without_audio else "",
                                "no audio features in the file" if not data.has_audio else "",
                                f"labels read through {args.label_map}" if label_map else "") if x)
    print(f"model {classifier.version} on {result['n']:,} tracks{f' ({how})' if how else ''}{left_out}")
    per_row = result["per_row"]
    print(f"  scoring: {SCORING_RULE}; per row: each of the {per_row['rows']:,} (track, label) rows "
          "against its own label only")
    for level in ("family", "genre"):
        entry, row_entry = result[level], per_row[level]
        print(f"  {level}: macro-F1 {entry['macro_f1']:.3f}, accuracy {entry['accuracy']:.3f}; "
              f"per row: macro-F1 {row_entry['macro_f1']:.3f}, accuracy {row_entry['accuracy']:.3f}")
    for which, words in (("known", "artists it met in training"), ("new", "artists new to it")):
        part = result["artists"].get(which)
        if part:
            print(f"  songs by {words} ({part['n']:,}): family macro-F1 {part['family']['macro_f1']:.3f}, "
                  f"genre macro-F1 {part['genre']['macro_f1']:.3f}")
    return 0


SCORING_RULE = "per track, a prediction counts as right when it is any of the track's labels"


def known_label_tracks(paths: Sequence[Path], classifier: Classifier, *, label_column: str | None,
                       label_map: LabelMap | None = None) -> tuple[TrainingSet, int, int]:
    """The files' tracks whose labels the model knows (read through `label_map` first, when given;
    the rest counted and left out), or a UsageError when most are unknown: a score on the few left
    would mislead."""
    from dataclasses import replace

    from cli_errors import UsageError
    from training.data import DataError, LoadedData, load_labelled
    from training.dataset import build

    taxonomy = classifier.taxonomy
    try:
        loaded = [load_labelled(p, label_column=label_column, min_classes=1, known_artists=classifier.known_artists)
                  for p in paths]
    except DataError as exc:
        raise UsageError(str(exc)) from None
    files: list[tuple[str, LoadedData]] = []
    unknown, total, strangers = 0, 0, set[str]()
    for path, data in zip(paths, loaded, strict=True):
        if label_map is not None:
            data = replace(data, genres=[label_map.apply(g) for g in data.genres],
                           subgenres=[label_map.apply(g) for g in data.subgenres])
        keep = []
        for row, (labels, subs) in enumerate(zip(data.genres, data.subgenres, strict=True)):
            names = subs or labels
            known = [n for n in names if taxonomy.genre_of_label(n) is not None]
            strangers.update(n for n in names if taxonomy.genre_of_label(n) is None)
            if known:
                keep.append(row)
        total += len(data.tracks)
        unknown += len(data.tracks) - len(keep)
        files.append((Path(path).name, replace(
            data, tracks=[data.tracks[i] for i in keep], track_ids=[data.track_ids[i] for i in keep],
            genres=[tuple(g for g in data.genres[i] if taxonomy.genre_of_label(g) is not None)
                    or data.genres[i] for i in keep],
            subgenres=[tuple(g for g in data.subgenres[i] if taxonomy.genre_of_label(g) is not None)
                       for i in keep])))
    if unknown * 2 > total or unknown == total:
        shown = ", ".join(sorted(strangers)[:5]) + (", …" if len(strangers) > 5 else "")
        raise UsageError(f"{unknown:,} of {total:,} tracks have only labels this model does not know ({shown}): "
                         "a score on the rest would mislead; evaluate a model trained on these labels"
                         + ("" if label_map else ", or read them as genres with --label-map"))
    try:
        return build(files, taxonomy), unknown, total
    except DataError as exc:
        raise UsageError(str(exc)) from None


def _predict(args: argparse.Namespace) -> int:
    from cli_errors import UsageError, readable_file
    from cli_output import check_writable_file, staged_file
    from training.predict import PREDICT_COLUMNS, write_csv

    readable_file(args.input, "--input")
    if args.output.exists() and args.output.samefile(args.input):  # --force or not: the export would be lost
        raise UsageError(f"--output {args.output} is the --input file: write the predictions to another file")
    check_writable_file(args.output, flag="--output", force=args.force)  # before the work
    classifier = classifier_or_refuse(args.model)
    classified = classified_file_or_refuse(args.input, classifier, library=args.library)
    keep = [classified.columns[r] for r in ("track_id", "name", "artists") if r in classified.columns]
    with staged_file(args.output, flag="--output", force=args.force) as staged:
        for number, frame in enumerate(classified.chunks()):
            write_csv(staged, classified.annotated(frame[keep], PREDICT_COLUMNS, suffix="_genrebot"), decimals=4,
                      append=number > 0)
    print(f"wrote {len(classified):,} predictions to {args.output} (model {classifier.version}"
          f"{', pooled as one library' if args.library else ''})", file=sys.stderr)
    return 0


def _genres(args: argparse.Namespace) -> int:
    classifier = classifier_or_refuse(args.model)
    taxonomy = classifier.taxonomy
    if args.json:
        print(json.dumps(taxonomy.listing(), ensure_ascii=False))
        return 0
    print(f"{len(taxonomy.families)} families, {len(taxonomy.genres)} genres (model {classifier.version})")
    for family in taxonomy.families:
        labels = ", ".join(taxonomy.label(g, "genre") for g in taxonomy.children[family])
        print(f"  {taxonomy.label(family, 'family')} [{family}]: {labels}")
    return 0
