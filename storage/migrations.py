"""Numbered schema migrations: `storage/schema/V<n>__<what>.sql`, applied in order at open.

The version reached is kept in `PRAGMA user_version`. Add a version by adding the next file;
never edit a released one. Each version runs in one transaction together with its
user_version bump, so a crash leaves the old schema or the new one, never half of it.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

from storage.errors import SchemaTooNew
from storage.sql import SqlHandle

_FILE_NAME = re.compile(r"V(?P<version>[1-9][0-9]*)__(?P<name>[a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def statements(self) -> list[str]:
        """The file's statements, split where SQLite itself sees a statement end."""
        statements, pending = [], ""
        for line in self.sql.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                statements.append(pending.strip())
                pending = ""
        unfinished = [line for line in pending.splitlines() if line.strip() and not line.strip().startswith("--")]
        if unfinished:
            raise ValueError(f"V{self.version}__{self.name}.sql ends inside a statement")
        return statements


def load_migrations() -> tuple[Migration, ...]:
    """Every shipped migration, checked to be numbered 1, 2, 3… without gaps."""
    found: dict[int, Migration] = {}
    for entry in resources.files("storage").joinpath("schema").iterdir():
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            continue
        version = int(match["version"])
        if version in found:
            raise ValueError(f"two migrations numbered V{version}")
        found[version] = Migration(version, match["name"], entry.read_text(encoding="utf-8"))
    if sorted(found) != list(range(1, len(found) + 1)):
        raise ValueError(f"migrations must be numbered 1..n without gaps, found {sorted(found)}")
    return tuple(found[v] for v in sorted(found))


MIGRATIONS = load_migrations()
SCHEMA_VERSION = len(MIGRATIONS)


async def apply_migrations(sql: SqlHandle, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema to `target`, one transaction per version; returns the version reached."""
    version = await sql.user_version()
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema version {version} is newer than this genrebot ({SCHEMA_VERSION}); upgrade genrebot"
        )
    for migration in MIGRATIONS[version:target]:
        async with sql.transaction() as tx:
            row = await tx.fetchone("PRAGMA user_version")
            if row is not None and int(row[0]) >= migration.version:
                continue  # another process applied it since we looked
            for statement in migration.statements:
                await tx.execute(statement)
            await tx.execute(f"PRAGMA user_version = {int(migration.version)}")
    return await sql.user_version()
