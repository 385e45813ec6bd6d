"""Subcommands owned by the bot package: `run` (the Discord bot), `demo` and `sort`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.services.playlist_plan import SECOND_GENRE_FLOOR  # light: pure logic, no torch or pandas
from cli_errors import positive_int

if TYPE_CHECKING:
    import numpy as np

    from bot.services.known_artists import KnownArtists
    from bot.services.playlist_plan import SongGenres, SortOptions
    from classifier.taxonomy import Taxonomy
    from training.predict import Decided


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN and a Spotify app)",
                                description=RUN_DESCRIPTION)
    run.add_argument("--sync", action="store_true", help="sync slash commands with Discord at start-up")
    run.add_argument(
        "--list-commands",
        action="store_true",
        help="print the slash-command tree as JSON and exit (no token, no connection)",
    )
    run.set_defaults(handler=_run)

    demo = subparsers.add_parser(
        "demo", help="link a demo member and sort their library against the local Spotify sandbox",
        description=DEMO_DESCRIPTION,
    )
    demo.add_argument("--data-dir", type=Path, metavar="DIR",
                      help="where the demo's database, stand-in state and charts go "
                           "(default: a folder of this checkout's own in the user data directory)")
    demo.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    demo.set_defaults(handler=_demo)

    sort = subparsers.add_parser(
        "sort", help="sort an Exportify CSV export into one CSV per genre playlist, no Spotify needed",
        description=SORT_DESCRIPTION)
    sort.add_argument("--input", "--csv", dest="input", metavar="CSV", type=Path, required=True,
                      help="an Exportify export of a playlist or of Liked Songs")
    sort.add_argument("--output", "--out", dest="output", metavar="DIR", type=Path, required=True,
                      help="a new or empty directory for the CSVs (an earlier sort's only with --force)")
    sort.add_argument("--force", action="store_true",
                      help="replace the files of an earlier `genrebot sort` in --output (never anything else)")
    sort.add_argument("--model", type=Path, help="model directory made by `genrebot train` (default: the shipped model)")
    sort.add_argument("--level", type=str.lower, choices=("family", "genre", "subgenre"), default="family",
                      help="one file per family or per genre (subgenre: genre's older name)")
    sort.add_argument("--genres", metavar="NAMES",
                      help="only these families or genres, comma-separated, e.g. 'jazz, k-pop' (default: all; "
                           "`genrebot genres` lists them)")
    sort.add_argument("--min-confidence", type=probability, default=0.0, metavar="P",
                      help="songs the model is less sure of than P (0-1) go to Unsorted")
    sort.add_argument("--min-size", type=positive_int, default=5, metavar="N",
                      help="playlists with fewer than N songs go to Unsorted")
    sort.add_argument("--multi", action="store_true",
                      help="also put a song in its second most likely family (or genre, with --level genre) when "
                           f"that is at least {SECOND_GENRE_FLOOR * 100:.0f}%% likely (and above --min-confidence)")
    sort.set_defaults(handler=_sort_csv)


RUN_DESCRIPTION = """\
Run the Discord bot: the slash commands, the OAuth callback web app (WEB_HOST:WEB_PORT) and the
weekly refresh. Configuration comes from the environment and ./.env (see .env.example); a missing
or malformed variable stops start-up with one line naming it, as does a line of .env that would
leave a setting at its default (a misspelt name, an unclosed quote) and a SPOTIFY_CLIENT_ID or
SPOTIFY_CLIENT_SECRET that Spotify refuses (asked once at start-up; a Spotify that cannot be reached
only gets a warning). Stop it with Ctrl-C or SIGTERM: both close it cleanly first.

example:
  genrebot run
  genrebot run --sync              # push the slash commands to Discord now
  genrebot run --list-commands     # print them as JSON; needs no token or network"""

DEMO_DESCRIPTION = """\
The whole flow on this machine with no credentials: starts the local Spotify stand-in, links a
demo member through the real OAuth flow, sorts their library with the same service /sort uses,
and prints what the member would see in Discord. Playlists and links exist only in the stand-in.
Run it again to see the same playlists updated.

example:
  genrebot demo
  genrebot demo --json --data-dir /tmp/genrebot-demo"""

SORT_DESCRIPTION = """\
Sort an Exportify export (https://exportify.net) of a playlist or of your Liked Songs into one CSV
per genre playlist, named after the playlist /sort would make ("Rock · genrebot.csv"), plus
"Unsorted · genrebot.csv" and all-with-genres.csv (every row with its predicted genre). Each file
keeps Exportify's own columns. No Spotify or Discord credentials are needed.

example:
  genrebot sort --input liked_songs.csv --output sorted/
  genrebot sort --input liked_songs.csv --output sorted/ --level genre --min-size 10 --force"""


def probability(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


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
    from classifier import ModelLoadError
    from storage import StorageError

    configure_logging(settings.log_level, secrets=settings.secret_values())
    mismatch = settings.redirect_port_mismatch()
    if mismatch:
        logging.getLogger(__name__).warning(mismatch)
    _check_spotify_app(settings)
    try:
        return run_bot(settings, sync_commands=args.sync)
    except StorageError as exc:  # the database could not be opened: a wrong path, file or key
        raise UsageError(str(exc)) from None
    except ModelLoadError as exc:  # missing, cut short, or from another genrebot: the operator's to fix
        setting = "MODEL_DIR" if settings.model_dir is not None else "the shipped model (reinstall genrebot)"
        raise UsageError(f"{setting}: {exc}") from None


def _check_spotify_app(settings: Any) -> None:
    """Before anything opens: a wrong SPOTIFY_CLIENT_ID or SPOTIFY_CLIENT_SECRET stops `run` with one
    line (otherwise every member's /link would fail at its very end); a Spotify that cannot say only
    gets a warning."""
    from bot.spotify.app import app_credentials_problem
    from cli_errors import UsageError

    secret = settings.spotify_client_secret.get_secret_value() if settings.spotify_client_secret else ""
    problem = app_credentials_problem(settings.spotify_client_id or "", secret, settings.spotify_accounts_base)
    if problem is None:
        return
    line, stop = problem
    if stop:
        raise UsageError(line)
    logging.getLogger(__name__).warning(line)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import default_demo_dir, main
    from cli_errors import directory_or_absent, writable_directory

    data_dir = directory_or_absent(args.data_dir.expanduser(), "--data-dir") if args.data_dir else default_demo_dir()
    writable_directory(data_dir, "--data-dir")
    configure_logging("WARNING")
    return main(data_dir, args.json)


def configure_logging(level: str, secrets: Any = ()) -> None:
    """Log to stderr at `level`, never a secret (bot/log_redaction.py caps and redacts)."""
    from bot.log_redaction import install_log_handler

    install_log_handler(level, secrets=secrets)


def _sort_csv(args: argparse.Namespace) -> int:
    """Classify an export's rows and write them back out, one file per playlist, in the export's own columns."""
    import numpy as np

    from bot.services.genre_names import playlist_name
    from bot.services.known_artists import KnownArtists
    from bot.services.playlist_plan import plan_playlists
    from cli_errors import UsageError, readable_file
    from cli_output import check_replaceable, sort_run_in, staged_directory
    from training.cli import classified_file_or_refuse, classifier_or_refuse
    from training.predict import write_csv

    readable_file(args.input, "--input")
    check_replaceable(args.output, flag="--output", force=args.force, owned=sort_run_in)  # before the work
    if args.output.is_dir() and any(p.samefile(args.input) for p in args.output.iterdir()):
        raise UsageError(f"--input {args.input} is a file of the earlier sort in --output {args.output}, "
                         "which --force replaces: write this sort to another directory")
    classifier = classifier_or_refuse(args.model)
    options = sort_options(args, classifier.taxonomy)
    classified = classified_file_or_refuse(args.input, classifier, library=True)  # a library: pooled
    songs = song_genres(classified.decided, classifier.taxonomy, leave_out=classified.episodes)
    episodes = [str(row) for row in classified.episodes]  # not songs: unsorted, as /sort skips them
    plan = plan_playlists(songs, options, classifier.taxonomy, episodes)
    files = playlist_files({playlist_name(plan.labels[key]): rows for key, rows in plan.playlists.items()},
                           unsorted=plan.unsorted, unsorted_name=playlist_name("Unsorted"))
    rows_of = {name: np.sort(np.array([int(r) for r in rows], dtype=np.int64)) for name, rows in files.items()}
    with staged_directory(args.output, flag="--output", force=args.force) as staged:
        targets = {name: staged.file(name) for name in [*files, ALL_WITH_GENRES]}
        for number, frame in enumerate(classified.chunks()):  # the file again, chunk by chunk
            start, stop = int(frame.index[0]), int(frame.index[-1]) + 1
            for name, numbers in rows_of.items():
                mine = numbers[np.searchsorted(numbers, start):np.searchsorted(numbers, stop)]
                if len(mine) or number == 0:  # every file gets its header from the first chunk
                    write_csv(targets[name], frame.loc[mine], decimals=3, quote_all=True, append=number > 0)
            annotated = classified.annotated(frame, ("Genre", "Genre Confidence", "Subgenre", "Subgenre Confidence"),
                                             suffix=" (genrebot)")
            write_csv(targets[ALL_WITH_GENRES], annotated, decimals=3, quote_all=True, append=number > 0)
    total = len(songs)
    also = f" and {len(episodes):,} podcast episode{'s' if len(episodes) != 1 else ''}" if episodes else ""
    print(f"{total:,} songs{also} from {args.input.name}, model {classifier.version}:")
    for key, rows in plan.playlists.items():
        print(f"  {plan.labels[key]:<22} {len(rows):>6,}  ({len(rows) / max(total, 1):.0%})")
    print(f"  {'unsorted':<22} {len(plan.unsorted):>6,}" + (f"  (incl. the {len(episodes):,} podcast episodes, "
                                                             "which are not songs)" if episodes else ""))
    note = known_artists_line(KnownArtists(total, classified.known_artists))
    if note:
        print(note)
    print(f"wrote {len(staged.written)} files to {args.output}: " + ", ".join(staged.written))
    return 0



def known_artists_line(known: KnownArtists) -> str | None:
    """The summary's line about songs by artists the model never met (placed less surely), when
    `/sort` would say it too (`KnownArtists.worth_telling`)."""
    if not known.worth_telling:
        return None
    how = "from their titles and albums and their artists' other songs in this file"
    if known.known == 0:
        return (f"The model knows none of these songs' artists: all {known.songs:,} were placed {how}, "
                "so some may be in the wrong playlist.")
    others = "the other one was" if known.unknown == 1 else f"the other {known.unknown:,} were"
    return (f"The model knows the artists of {known.known:,} of these {known.songs:,} songs; {others} placed {how}, "
            "so they are the likeliest to be in the wrong playlist.")


def sort_options(args: argparse.Namespace, taxonomy: Taxonomy) -> SortOptions:
    """The playlists `sort` makes, as `/sort` takes them: --genres resolved against the model's
    taxonomy (an unknown name is one line with the closest names)."""
    from bot.services.genre_names import (
        NoGenresNamed,
        UnknownGenre,
        parse_level,
        resolve_genres,
        split_genres,
    )
    from bot.services.playlist_plan import SortOptions
    from cli_errors import UsageError

    level = parse_level(args.level)
    names = split_genres(args.genres, taxonomy, level) if args.genres is not None else None
    try:  # `--genres ","` or `--genres ""` names nothing: refused, as /sort refuses it
        picked = resolve_genres(names, taxonomy, level) if names is not None else None
    except UnknownGenre as exc:
        close = f" (did you mean {', '.join(exc.suggestions)}?)" if exc.suggestions else ""
        raise UsageError(f"--genres: unknown {', '.join(exc.unknown)}{close}; `genrebot genres` lists them") from None
    except NoGenresNamed:
        raise UsageError("--genres names no family or genre: leave it out to sort into all of them, "
                         "or name some, e.g. 'jazz, k-pop'") from None
    return SortOptions(genres=picked, level=level, min_confidence=args.min_confidence,
                       min_playlist_size=args.min_size, multi=args.multi)


def song_genres(decided: Decided, taxonomy: Taxonomy, *, leave_out: np.ndarray | None = None) -> SongGenres:
    """A classified file's decisions as playlist planning reads them, keyed by row number; the rows
    `leave_out` names (podcast episodes: not songs) are not among them."""
    import numpy as np

    from bot.services.playlist_plan import SongGenres

    rows = np.arange(len(decided.family))
    if leave_out is not None and len(leave_out):
        rows = rows[~np.isin(rows, leave_out)]
    return SongGenres.from_decisions(
        [str(row) for row in rows], *(getattr(decided, name)[rows] for name in (
            "family", "family_confidence", "genre", "genre_confidence", "second_family", "second_family_confidence",
            "second_genre", "second_genre_confidence")))

ALL_WITH_GENRES = "all-with-genres.csv"


def playlist_files(playlists: dict[str, list[str]], *, unsorted: list[str], unsorted_name: str) -> dict[str, list[str]]:
    """File name -> rows: one per playlist, named after it, and one for the unsorted songs if any.

    Names are made safe for every file system (no path separators or reserved characters) and
    unique without regard to case: two playlists never share a file.
    """
    import re

    files: dict[str, list[str]] = {}
    taken: set[str] = {ALL_WITH_GENRES.lower()}
    for name, rows in [*playlists.items(), *([(unsorted_name, unsorted)] if unsorted else [])]:
        stem = re.sub(r'[\x00-\x1f<>:"/\\|?*]+', "-", name).strip(" .") or "playlist"
        candidate, number = f"{stem}.csv", 2
        while candidate.lower() in taken:
            candidate, number = f"{stem} ({number}).csv", number + 1
        taken.add(candidate.lower())
        files[candidate] = rows
    return files
