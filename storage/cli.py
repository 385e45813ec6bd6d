"""`genrebot db migrate|backup|restore|info|rotate-keys`: the database from the command line.

Reads only storage's own settings (`storage.settings.StorageSettings`), never the bot's.
`info` and `backup` open the file read-only: no migration, no key file.
"""

from __future__ import annotations

import argparse
import asyncio
import textwrap
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    db = subparsers.add_parser(
        "db", help="migrate, back up, restore, inspect or re-encrypt the SQLite database",
        description="Migrate, back up, restore, inspect or re-encrypt the SQLite database.\n\n"
                    "example:\n  genrebot db migrate\n  genrebot db info --database /var/lib/genrebot/genrebot.sqlite3\n"
                    "  genrebot db backup /var/lib/genrebot/before-update.sqlite3\n"
                    "  genrebot db restore /var/lib/genrebot/before-update.sqlite3   # with the bot stopped",
    )
    db.add_argument("--database", type=Path, help=DATABASE_HELP)
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    migrate = actions.add_parser("migrate", help="create the database or upgrade it to the current schema",
                                 description="Create the database or upgrade it to the current schema.")
    migrate.set_defaults(handler=_migrate)
    backup = actions.add_parser(
        "backup", help="copy the database as it is with SQLite's online backup (safe while running; no migration)",
        description=_paragraph(
            "Copy the database as it is with SQLite's online backup, safe while the bot runs (no migration). The "
            "copy appears at PATH only once complete and passing SQLite's quick_check; an existing file is never "
            "replaced."),
    )
    backup.add_argument("path", type=Path, help="where to write the copy (must not exist)")
    backup.set_defaults(handler=_backup)
    restore = actions.add_parser(
        "restore", help="replace the database with a backup made by `db backup` (stop the bot first; "
                        "the database replaced is kept beside it as <name>.before-restore-<time>)",
        description=_paragraph(
            "Put a backup made by `db backup` back, with the bot stopped (refused while a genrebot has the database "
            "open). A file that is not a whole genrebot database, or comes from a newer genrebot, is refused and "
            "nothing changes. The database replaced is kept beside it as <name>.before-restore-<time> (byte for "
            "byte if it is too damaged for SQLite to copy); the backup then goes in all or nothing. Never cp a "
            "backup over the database: a -wal file left beside it would lay its writes over the copy."),
    )
    restore.add_argument("path", type=Path, help="the backup to restore")
    restore.set_defaults(handler=_restore)
    info = actions.add_parser("info", help="print the schema version and row counts (read-only)",
                              description="Print the schema version and row counts (read-only: no migration).")
    info.set_defaults(handler=_info)
    rotate = actions.add_parser(
        "rotate-keys",
        help="re-encrypt every stored token with the first TOKEN_ENCRYPTION_KEY key (set it to NEW,OLD)",
        description="Re-encrypt every stored Spotify token with the first TOKEN_ENCRYPTION_KEY key: set it to\n"
                    "NEW,OLD and run this; it says when the old key can be dropped.",
    )
    rotate.set_defaults(handler=_rotate_keys)
    for action in actions.choices.values():
        accept_database_flag(action)


def _paragraph(text: str) -> str:
    """A description wrapped as the other commands' are (genrebot's help keeps descriptions as written)."""
    return textwrap.fill(text, width=100)


DATABASE_HELP = "the SQLite file (default: DATABASE_PATH, else DATA_DIR/genrebot.sqlite3)"


def accept_database_flag(action: argparse.ArgumentParser) -> None:
    """`--database` after the action too (`db info --database X`), as well as before it."""
    action.add_argument("--database", type=Path, default=argparse.SUPPRESS, help=DATABASE_HELP)


def _settings(args: argparse.Namespace) -> tuple[Path, list[str]]:
    from cli_errors import UsageError
    from storage.settings import SettingsError, StorageSettings, build_settings

    try:
        settings = build_settings(StorageSettings)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    return (args.database or settings.resolved_database_path), settings.encryption_keys


def _run(work: Any) -> Any:
    """Run a coroutine; storage's refusals and SQLite errors become one-line usage errors."""
    import sqlite3

    from cli_errors import UsageError
    from storage import StorageError

    try:
        return asyncio.run(work)
    except StorageError as exc:
        raise UsageError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"cannot open the database: {exc}") from None


def _migrate(args: argparse.Namespace) -> int:
    from storage import Database

    path, keys = _settings(args)

    async def run() -> int:
        db = await Database.open(path, encryption_keys=keys)
        try:
            return await db.schema_version()
        finally:
            await db.close()

    print(f"{path}: schema version {_run(run())}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from cli_errors import UsageError
    from cli_output import sigterm_cleans_up
    from storage.maintenance import backup

    path, _ = _settings(args)
    target: Path = args.path
    if target.exists():
        raise UsageError(f"{target} already exists; choose a new path")
    try:
        with sigterm_cleans_up():  # a `kill` mid-copy removes the copy begun beside the target
            _run(backup(path, target))
    except FileExistsError:
        raise UsageError(f"{target} already exists; choose a new path") from None
    print(f"backed up {path} to {target}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from cli_output import sigterm_cleans_up
    from storage.maintenance import restore
    from storage.migrations import SCHEMA_VERSION

    path, _ = _settings(args)
    with sigterm_cleans_up():  # a `kill` while the replaced database is copied aside leaves no half copy
        restored = _run(restore(args.path, path))
    print(f"restored {args.path} into {path} (schema version {restored.schema_version})")
    if restored.replaced is not None:
        print(f"the database it replaced is kept at {restored.replaced}")
    if restored.schema_version < SCHEMA_VERSION:
        print(f"this genrebot uses schema version {SCHEMA_VERSION}: `genrebot db migrate` (or the next start) upgrades it")
    return 0


def _info(args: argparse.Namespace) -> int:
    from storage.maintenance import describe

    path, _ = _settings(args)
    summary = _run(describe(path))
    line = f"{summary.path}: schema version {summary.schema_version}"
    if summary.schema_version < summary.current_version:
        line += f" (this genrebot uses {summary.current_version}: run `genrebot db migrate`)"
    print(line)
    for table, rows in summary.rows.items():
        print(f"  {table}: {rows}")
    return 0


def _rotate_keys(args: argparse.Namespace) -> int:
    from storage.maintenance import rotate_keys

    path, keys = _settings(args)
    rotation = _run(rotate_keys(path, keys))
    print(f"re-encrypted {rotation.reencrypted} token(s) with the first TOKEN_ENCRYPTION_KEY key")
    if rotation.unreadable:
        print(f"{rotation.unreadable} token(s) no given key decrypts were left as they were; "
              "their members must /link again")
    elif rotation.key_file is not None:
        print(f"no token needs {rotation.key_file} any more; keep TOKEN_ENCRYPTION_KEY set and remove it")
    else:
        print("you can now drop the old key(s) from TOKEN_ENCRYPTION_KEY")
    return 0
