"""`genrebot train`, `evaluate`, `predict` and `genres`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classifier import Classifier
    from classifier.taxonomy import Taxonomy
    from training.predict import ClassifiedRows

SHIPPED_TAXONOMY = Path(__file__).resolve().parent / "taxonomy.json"


def register(subparsers: Any) -> None:
    train = subparsers.add_parser("train", help="train a genre model on labelled Spotify CSVs")
    train.add_argument("--data", type=Path, required=True, action="append",
                       help="labelled CSV (.csv or .csv.gz); repeat to train on several files together")
    train.add_argument("--label-column", help="the genre column (default: detected by name)")
    train.add_argument("--subgenre-column", help="the subgenre column (default: detected by name)")
    train.add_argument("--taxonomy", default=str(SHIPPED_TAXONOMY),
                       help="taxonomy JSON mapping labels to genres and families (default: the shipped one); "
                            "'data' derives one from the label and subgenre columns")
    train.add_argument("--out", type=Path, default=Path("genrebot-model"), help="model directory to write")
    train.add_argument("--seed", type=int, default=1337, help="random seed (same seed, same model)")
    train.add_argument("--epochs", type=int, default=None, help="training epochs (default 10)")
    train.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    train.set_defaults(handler=_train)

    evaluate = subparsers.add_parser("evaluate", help="score a model on labelled data, or compare with baselines")
    evaluate.add_argument("--data", type=Path, required=True, action="append",
                          help="labelled CSV; repeat for several (--compare trains on all of them together)")
    evaluate.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    evaluate.add_argument("--label-column", help="the genre column (default: detected by name)")
    evaluate.add_argument("--library", action="store_true", help="score the songs pooled as one library")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--compare", action="store_true",
                          help="train and score the network and baselines on the published splits; write the tables")
    evaluate.add_argument("--out", type=Path, default=Path("classifier/evaluation"),
                          help="where --compare writes comparison.json/.md and confusion matrices")
    evaluate.add_argument("--seed", type=int, default=1337, help="seed for --compare's training")
    evaluate.add_argument("--epochs", type=int, default=None, help="--compare: training epochs (default 10)")
    evaluate.add_argument("--threads", type=int, default=2, help="--compare: torch threads (default 2)")
    evaluate.set_defaults(handler=_evaluate)

    predict = subparsers.add_parser("predict", help="classify every row of a CSV (Exportify or data-set layout)")
    predict.add_argument("--input", type=Path, required=True, help="CSV to classify")
    predict.add_argument("--output", type=Path, required=True, help="CSV to write")
    predict.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    predict.add_argument("--library", action="store_true",
                         help="treat the file as one member's library: pool songs by artist and album")
    predict.set_defaults(handler=_predict)

    genres = subparsers.add_parser("genres", help="print the model's taxonomy: families and their genres")
    genres.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    genres.add_argument("--json", action="store_true",
                        help='one JSON object: {"families": {family: [genre, ...]}, "aliases": {label: genre}}')
    genres.set_defaults(handler=_genres)


def classifier_or_refuse(path: Path | None) -> Classifier:
    """The model in `path` (default: the shipped one), or a one-line UsageError."""
    from classifier import Classifier, ModelLoadError
    from cli_errors import UsageError

    try:
        return Classifier.load(path, threads=2)
    except ModelLoadError as exc:
        raise UsageError(str(exc)) from None


def classified_csv_or_refuse(path: Path, classifier: Classifier, *, library: bool = False) -> ClassifiedRows:
    """Every row of a CSV, classified (shared by `predict` and `sort --csv`), or a one-line UsageError."""
    from cli_errors import UsageError
    from training.data import DataError
    from training.predict import classify_csv

    try:
        return classify_csv(path, classifier, library=library)
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
    from classifier.inference import write_model_dir
    from cli_errors import UsageError
    from training.data import DataError
    from training.dataset import load_training_set
    from training.train import TrainConfig, train

    if args.epochs is not None and not 1 <= args.epochs <= 1000:
        raise UsageError("--epochs must be between 1 and 1000")
    taxonomy = _taxonomy(args.taxonomy)
    try:
        data, loaded = load_training_set(args.data, taxonomy, label_column=args.label_column,
                                         subgenre_column=args.subgenre_column)
    except DataError as exc:
        raise UsageError(str(exc)) from None
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
    version = write_model_dir(args.out, model.parts, model.metadata(
        training_data={s.name: {"sha256": s.sha256, "rows": s.rows_read, "tracks": len(s.rows)} for s in data.sources},
        training_tracks=len(data),
        seed=args.seed,
        train_config=config.__dict__,
    ))
    print(f"wrote {args.out} ({version}) in {model.seconds:.0f}s; kept epoch {model.kept_epoch}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from cli_errors import UsageError
    from training.data import DataError
    from training.dataset import load_training_set
    from training.evaluate import compare, markdown_tables, score_model

    if args.compare:
        taxonomy = _taxonomy(str(SHIPPED_TAXONOMY))
        try:
            data, _ = load_training_set(args.data, taxonomy, label_column=args.label_column)
            report = compare(data, args.out, seed=args.seed, epochs=args.epochs, threads=args.threads,
                             say=lambda message: print(message, file=sys.stderr, flush=True))
        except (DataError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        print(json.dumps(report, indent=1) if args.json else markdown_tables(report))
        return 0
    classifier = classifier_or_refuse(args.model)
    try:
        data, _ = load_training_set(args.data, classifier.taxonomy, label_column=args.label_column)
    except DataError as exc:
        raise UsageError(str(exc)) from None
    result = score_model(classifier, data, library=args.library)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"model {classifier.version} on {result['n']:,} tracks{' as one library' if args.library else ''}:")
        for level in ("family", "genre"):
            entry = result[level]
            print(f"  {level}: macro-F1 {entry['macro_f1']:.3f}, accuracy {entry['accuracy']:.3f}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from cli_errors import UsageError
    from training.predict import write_csv

    classifier = classifier_or_refuse(args.model)
    classified = classified_csv_or_refuse(args.input, classifier, library=args.library)
    keep = [classified.rows.columns[r] for r in ("track_id", "name", "artists") if r in classified.rows.columns]
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        write_csv(args.output, classified.frame[keep].join(classified.prediction_frame(), rsuffix="_genrebot"),
                  decimals=4)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"wrote {len(classified.frame):,} predictions to {args.output} (model {classifier.version}"
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
