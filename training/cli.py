"""`genrebot train`, `genrebot evaluate` and `genrebot predict`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classifier import Classifier
    from training.predict import ClassifiedRows


def register(subparsers: Any) -> None:
    train = subparsers.add_parser("train", help="train a genre model on a labelled Spotify CSV")
    train.add_argument("--data", type=Path, required=True, help="labelled CSV (.csv or .csv.gz)")
    train.add_argument("--label-column", help="the genre column (default: detected by name)")
    train.add_argument("--subgenre-column", help="the subgenre column (default: detected by name)")
    train.add_argument("--out", type=Path, default=Path("genrebot-model"), help="model directory to write")
    train.add_argument("--seed", type=int, default=1337, help="random seed (same seed, same model)")
    train.add_argument("--epochs", type=int, default=None, help="training epochs (default 16)")
    train.set_defaults(handler=_train)

    evaluate = subparsers.add_parser("evaluate", help="score a model on labelled data, or compare with baselines")
    evaluate.add_argument("--data", type=Path, required=True, help="labelled CSV")
    evaluate.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    evaluate.add_argument("--label-column", help="the genre column (default: detected by name)")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--compare", action="store_true",
                          help="train and score the network and baselines in four settings; write the table")
    evaluate.add_argument("--out", type=Path, default=Path("classifier/evaluation"),
                          help="where --compare writes its table and confusion matrices")
    evaluate.add_argument("--seed", type=int, default=1337, help="seed for --compare's splits and training")
    evaluate.set_defaults(handler=_evaluate)

    predict = subparsers.add_parser("predict", help="classify every row of a CSV (Exportify or data-set layout)")
    predict.add_argument("--input", type=Path, required=True, help="CSV to classify")
    predict.add_argument("--output", type=Path, required=True, help="CSV to write")
    predict.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    predict.set_defaults(handler=_predict)


def _load_labelled(path: Path, **kwargs: Any) -> Any:
    from cli_errors import UsageError
    from training.data import DataError, load_labelled

    try:
        return load_labelled(path, **kwargs)
    except DataError as exc:
        raise UsageError(str(exc)) from None


def classifier_or_refuse(path: Path | None) -> Classifier:
    """The model in `path` (default: the shipped one), or a one-line UsageError."""
    from classifier import Classifier, ModelLoadError
    from cli_errors import UsageError

    try:
        return Classifier.load(path, threads=2)
    except ModelLoadError as exc:
        raise UsageError(str(exc)) from None


def classified_csv_or_refuse(path: Path, classifier: Classifier) -> ClassifiedRows:
    """Every row of a CSV, classified (shared by `predict` and `sort --csv`), or a one-line UsageError."""
    from cli_errors import UsageError
    from training.data import DataError
    from training.predict import classify_csv

    try:
        return classify_csv(path, classifier)
    except DataError as exc:
        raise UsageError(str(exc)) from None


def _train(args: argparse.Namespace) -> int:
    from classifier.inference import write_model_dir
    from cli_errors import UsageError
    from training.train import TrainConfig, build_labels, stderr_progress, train

    if args.epochs is not None and not 1 <= args.epochs <= 1000:
        raise UsageError("--epochs must be between 1 and 1000")
    data = _load_labelled(args.data, label_column=args.label_column, subgenre_column=args.subgenre_column)
    print(data.report.render(), file=sys.stderr)
    labels = build_labels(data.genres, data.subgenres)
    config = TrainConfig(seed=args.seed)
    if args.epochs:
        config.epochs = args.epochs
    print(f"training on {len(data.tracks):,} tracks: {len(labels.genres)} genres, {len(labels.subgenres)} subgenres",
          file=sys.stderr)
    # Ctrl-C during training stops here; the model directory is only ever replaced whole.
    model = train(data.tracks, labels, config, progress=stderr_progress)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    version = write_model_dir(
        args.out,
        model.net,
        model.metadata(
            training_data_sha256=data.sha256,
            training_rows=data.report.rows_read,
            training_tracks=len(data.tracks),
            seed=args.seed,
            train_config=config.__dict__,
            training_seconds=round(model.seconds, 1),
            metrics={"validation": model.history[-1]},
        ),
        names=model.name_model,
    )
    print(f"wrote {args.out} ({version}) in {model.seconds:.0f}s")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from classifier.features import AUDIO_FEATURES  # noqa: F401  (keeps torch import explicit)
    from cli_errors import UsageError
    from training.evaluate import compare, markdown_table, scores
    from training.train import stderr_progress

    data = _load_labelled(args.data, label_column=args.label_column)
    print(data.report.render(), file=sys.stderr)
    if args.compare:
        try:
            report = compare(data, args.out, seed=args.seed, progress=stderr_progress)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(json.dumps(report, indent=1) if args.json else markdown_table(report))
        return 0
    classifier = classifier_or_refuse(args.model)
    known = set(classifier.genres)
    pairs = [(t, g) for t, g in zip(data.tracks, data.genres, strict=True) if g and g[0] in known]
    if not pairs:
        raise UsageError(f"none of the data's labels are genres this model knows ({', '.join(classifier.genres)})")
    predictions = classifier.classify([t for t, _ in pairs])
    result = scores([p.genre for p in predictions], [g for _, g in pairs], classifier.genres)
    result["model_version"] = classifier.version
    result["skipped_unknown_labels"] = len(data.tracks) - len(pairs)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"model {classifier.version} on {len(pairs):,} tracks: macro-F1 {result['macro_f1']:.3f}, "
              f"accuracy {result['accuracy']:.3f}")
        for genre, entry in result["per_class"].items():
            print(f"  {genre:>10}: precision {entry['precision']:.3f} recall {entry['recall']:.3f} "
                  f"F1 {entry['f1']:.3f} ({entry['support']})")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from cli_errors import UsageError
    from training.predict import write_csv

    classifier = classifier_or_refuse(args.model)
    classified = classified_csv_or_refuse(args.input, classifier)
    keep = [classified.rows.columns[r] for r in ("track_id", "name", "artists") if r in classified.rows.columns]
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        write_csv(args.output, classified.frame[keep].join(classified.prediction_frame(), rsuffix="_genrebot"),
                  decimals=4)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"wrote {len(classified.predictions):,} predictions to {args.output} (model {classifier.version})",
          file=sys.stderr)
    return 0
