"""`genrebot db migrate|backup|info`: the database from the command line.

Reads only storage's own settings (`storage.settings.StorageSettings`), never the bot's.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    db = subparsers.add_parser(
        "db", help="apply migrations to, back up or inspect the SQLite database",
        description="Apply migrations to, back up or inspect the SQLite database.\n\n"
                    "example:\n  genrebot db migrate\n  genrebot db info --database /var/lib/genrebot/genrebot.sqlite3",
    )
    db.add_argument("--database", type=Path, help=DATABASE_HELP)
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    migrate = actions.add_parser("migrate", help="create the database or upgrade it to the current schema")
    migrate.set_defaults(handler=_migrate)
    backup = actions.add_parser("backup", help="copy the database with SQLite's online backup (safe while running)")
    backup.add_argument("path", type=Path, help="where to write the copy")
    backup.set_defaults(handler=_backup)
    info = actions.add_parser("info", help="print the schema version and row counts")
    info.set_defaults(handler=_info)
    for action in actions.choices.values():
        accept_database_flag(action)


DATABASE_HELP = "the SQLite file (default: DATABASE_PATH, else DATA_DIR/genrebot.sqlite3)"


def accept_database_flag(action: argparse.ArgumentParser) -> None:
    """`--database` after the action too (`db info --database X`), as well as before it."""
    action.add_argument("--database", type=Path, default=argparse.SUPPRESS, help=DATABASE_HELP)


def _open_args(args: argparse.Namespace) -> tuple[Path, list[str]]:
    from cli_errors import UsageError
    from storage.settings import SettingsError, StorageSettings, build_settings

    try:
        settings = build_settings(StorageSettings)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    return (args.database or settings.resolved_database_path), settings.encryption_keys


async def _open(args: argparse.Namespace, *, must_exist: bool = False) -> Any:
    import sqlite3

    from cli_errors import UsageError
    from storage import Database, StorageError

    path, keys = _open_args(args)
    if must_exist and not path.exists():
        raise UsageError(f"no database at {path}")
    try:
        return await Database.open(path, encryption_keys=keys)
    except StorageError as exc:
        raise UsageError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"cannot open {path}: {exc}") from None


def _migrate(args: argparse.Namespace) -> int:
    async def run() -> None:
        db = await _open(args)
        print(f"{db.path}: schema version {await db.schema_version()}")
        await db.close()

    asyncio.run(run())
    return 0


def _backup(args: argparse.Namespace) -> int:
    from cli_errors import UsageError

    target: Path = args.path
    if target.exists():
        raise UsageError(f"{target} already exists; choose a new path")

    async def run() -> None:
        db = await _open(args, must_exist=True)
        try:
            await db.backup(target)
        finally:
            await db.close()
        print(f"backed up {db.path} to {target}")

    asyncio.run(run())
    return 0


def _info(args: argparse.Namespace) -> int:
    async def run() -> None:
        db = await _open(args, must_exist=True)
        try:
            print(f"{db.path}: schema version {await db.schema_version()}")
            for table in ("users", "tracks", "liked_songs", "predictions", "playlists", "schedules", "runs"):
                row = await db.sql.fetchone(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 - fixed names
                print(f"  {table}: {row['n'] if row else 0}")
        finally:
            await db.close()

    asyncio.run(run())
    return 0
