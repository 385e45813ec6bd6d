"""Members who linked Spotify: which account, which scopes, and whether the link still works."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from storage.records import LinkStatus, User
from storage.sql import SqlHandle, now, to_datetime


class UserRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def get(self, discord_id: int) -> User | None:
        row = await self.sql.fetchone(
            "SELECT discord_id, spotify_id, display_name, linked_at, scopes, status FROM users WHERE discord_id = ?",
            (discord_id,),
        )
        return _user(row) if row else None

    async def link(self, discord_id: int, spotify_id: str, display_name: str, scopes: Sequence[str]) -> None:
        """Record the member as linked to this Spotify account (their token is stored apart)."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                """INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (discord_id) DO UPDATE SET spotify_id = excluded.spotify_id,
                     display_name = excluded.display_name, linked_at = excluded.linked_at,
                     scopes = excluded.scopes, status = excluded.status""",
                (discord_id, spotify_id, display_name, now(), " ".join(scopes), LinkStatus.LINKED.value),
            )

    async def set_status(self, discord_id: int, status: LinkStatus) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("UPDATE users SET status = ? WHERE discord_id = ?", (status.value, discord_id))

    async def mark_unlinked(self, discord_id: int) -> None:
        """Keep the row (run history refers to the member) but drop the link and its scopes."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                "UPDATE users SET status = ?, scopes = '' WHERE discord_id = ?",
                (LinkStatus.UNLINKED.value, discord_id),
            )


def _user(row: sqlite3.Row) -> User:
    return User(
        discord_id=int(row["discord_id"]),
        spotify_id=row["spotify_id"],
        display_name=row["display_name"],
        linked_at=to_datetime(row["linked_at"]),
        scopes=tuple(row["scopes"].split()),
        status=LinkStatus(row["status"]),
    )
