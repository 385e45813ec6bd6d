"""Subcommands owned by the bot package: `run` (the Discord bot), `demo` and `sort`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN and a Spotify app)")
    run.add_argument("--sync", action="store_true", help="sync slash commands with Discord at start-up")
    run.add_argument(
        "--list-commands",
        action="store_true",
        help="print the slash-command tree as JSON and exit (no token, no connection)",
    )
    run.set_defaults(handler=_run)

    demo = subparsers.add_parser(
        "demo", help="link a demo member and sort their library against the local Spotify sandbox"
    )
    demo.add_argument("--data-dir", type=Path, help="where the demo's database and charts go")
    demo.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    demo.set_defaults(handler=_demo)

    sort = subparsers.add_parser("sort", help="sort an Exportify CSV export into one CSV per genre, no Spotify needed")
    sort.add_argument("--csv", type=Path, required=True, help="an Exportify export of a playlist or Liked Songs")
    sort.add_argument("--out", type=Path, required=True, help="directory for the per-genre CSVs")
    sort.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    sort.add_argument("--level", choices=("genre", "subgenre"), default="genre", help="one file per genre or subgenre")
    sort.add_argument("--min-confidence", type=float, default=0.0, help="below this, songs stay unsorted (0-1)")
    sort.add_argument("--min-size", type=int, default=5, help="smaller genres go to unsorted.csv (default 5)")
    sort.add_argument("--multi", action="store_true", help="also add a song to its likely second genre")
    sort.set_defaults(handler=_sort_csv)


def _settings() -> Any:
    from bot.settings import SettingsError, load_settings
    from cli_errors import UsageError

    try:
        return load_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def _run(args: argparse.Namespace) -> int:
    from bot.settings import SettingsError
    from cli_errors import UsageError

    settings = _settings()
    if args.list_commands:
        from bot.discord_bot import command_tree_json

        print(command_tree_json())
        return 0
    try:
        settings.require("discord_token", "spotify_client_id", "spotify_client_secret")
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    from bot.discord_bot import run_bot
    from storage import StorageError

    configure_logging(settings.log_level, secrets=settings.secret_values())
    try:
        return run_bot(settings, sync_commands=args.sync)
    except StorageError as exc:  # the database could not be opened: a wrong path, file or key
        raise UsageError(str(exc)) from None


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import main
    from bot.settings import default_data_dir

    configure_logging("WARNING")
    data_dir = args.data_dir or default_data_dir() / "demo"
    return main(data_dir.expanduser(), args.json)


def configure_logging(level: str, secrets: Any = ()) -> None:
    """Log to stderr at `level`, never a secret (bot/log_redaction.py caps and redacts)."""
    from bot.log_redaction import install_log_handler

    install_log_handler(level, secrets=secrets)


def _sort_csv(args: argparse.Namespace) -> int:
    """Classify an export's rows and write them back out, grouped, in the export's own columns."""
    import re

    from bot.services.playlist_plan import SortOptions, genre_label, plan_playlists
    from cli_errors import UsageError
    from training.cli import classified_csv_or_refuse, classifier_or_refuse
    from training.predict import write_csv

    try:
        options = SortOptions(level=args.level, min_confidence=args.min_confidence,
                              min_playlist_size=args.min_size, multi=args.multi)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    classifier = classifier_or_refuse(args.model)
    classified = classified_csv_or_refuse(args.csv, classifier, library=True)  # a library: pooled
    predictions, frame = classified.predictions, classified.frame
    row_ids = [str(i) for i in range(len(predictions))]
    plan = plan_playlists(row_ids, dict(zip(row_ids, predictions, strict=True)), options, classifier.taxonomy)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        for key, rows in plan.playlists.items():
            name = re.sub(r"[^a-z0-9]+", "-", genre_label(key).lower()).strip("-") + ".csv"
            write_csv(args.out / name, frame.iloc[[int(r) for r in rows]], decimals=3, quote_all=True)
        if plan.unsorted:
            write_csv(args.out / "unsorted.csv", frame.iloc[[int(r) for r in plan.unsorted]], decimals=3, quote_all=True)
        annotated = frame.join(classified.prediction_frame(
            ("Genre", "Genre Confidence", "Subgenre", "Subgenre Confidence")), rsuffix=" (genrebot)")
        write_csv(args.out / "all-with-genres.csv", annotated, decimals=3, quote_all=True)
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out}: {exc.strerror}") from None
    total = len(predictions)
    print(f"{total:,} songs from {args.csv.name}, model {classifier.version}:")
    for key, rows in plan.playlists.items():
        print(f"  {genre_label(key):<22} {len(rows):>6,}  ({len(rows) / max(total, 1):.0%})")
    print(f"  {'unsorted':<22} {len(plan.unsorted):>6,}")
    print(f"wrote {len(plan.playlists)} genre CSVs, unsorted.csv and all-with-genres.csv to {args.out}")
    return 0
