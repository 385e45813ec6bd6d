"""Subcommands owned by the bot package: `run` (the Discord bot), `demo` and `sort`."""

from __future__ import annotations

import argparse
import logging
import sys
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

    configure_logging(settings.log_level)
    return run_bot(settings, sync_commands=args.sync)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import main
    from bot.settings import default_data_dir

    configure_logging("WARNING")
    data_dir = args.data_dir or default_data_dir() / "demo"
    return main(data_dir.expanduser(), args.json)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("urllib3").setLevel(max(logging.INFO, logging.getLogger().level))


def _sort_csv(args: argparse.Namespace) -> int:
    """Classify an export's rows and write them back out, grouped, in the export's own columns."""
    import csv
    import re

    from bot.services.playlist_plan import SortOptions, genre_label, plan_playlists
    from classifier import Classifier, ModelLoadError
    from cli_errors import UsageError
    from training.data import DataError, load

    try:
        options = SortOptions(level=args.level, min_confidence=args.min_confidence,
                              min_playlist_size=args.min_size, multi=args.multi)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        data = load(args.csv, require_labels=False, merge_duplicates=False, keep_all_rows=True)
        classifier = Classifier.load(args.model, threads=2)
    except (DataError, ModelLoadError) as exc:
        raise UsageError(str(exc)) from None
    predictions = classifier.classify(data.tracks)
    row_ids = [str(i) for i in range(len(predictions))]
    plan = plan_playlists(row_ids, dict(zip(row_ids, predictions, strict=True)), options, classifier.taxonomy)
    header = list(data.frame.columns)
    try:
        args.out.mkdir(parents=True, exist_ok=True)

        def write(name: str, rows: list[str]) -> None:
            with (args.out / name).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
                writer.writerow(header)
                writer.writerows(data.frame.iloc[int(r)].tolist() for r in rows)

        for key, rows in plan.playlists.items():
            write(re.sub(r"[^a-z0-9]+", "-", genre_label(key).lower()).strip("-") + ".csv", rows)
        if plan.unsorted:
            write("unsorted.csv", plan.unsorted)
        with (args.out / "all-with-genres.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
            writer.writerow([*header, "Genre", "Genre Confidence", "Subgenre", "Subgenre Confidence"])
            for index, p in enumerate(predictions):
                writer.writerow([*data.frame.iloc[index].tolist(), p.genre, f"{p.genre_confidence:.3f}",
                                 p.subgenre or "", f"{p.subgenre_confidence or 0:.3f}"])
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out}: {exc.strerror}") from None
    total = len(predictions)
    print(f"{total:,} songs from {args.csv.name}, model {classifier.version}:")
    for key, rows in plan.playlists.items():
        print(f"  {genre_label(key):<22} {len(rows):>6,}  ({len(rows) / max(total, 1):.0%})")
    print(f"  {'unsorted':<22} {len(plan.unsorted):>6,}")
    print(f"wrote {len(plan.playlists)} genre CSVs, unsorted.csv and all-with-genres.csv to {args.out}")
    return 0
