"""Members who linked Spotify: which account, which scopes, and whether the link still works."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from storage.errors import SpotifyAccountTaken
from storage.records import LinkStatus, User
from storage.sql import SqlHandle, now, to_datetime

_COLUMNS = "discord_id, spotify_id, display_name, linked_at, scopes, status, link_generation"


class UserRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def get(self, discord_id: int) -> User | None:
        row = await self.sql.fetchone(f"SELECT {_COLUMNS} FROM users WHERE discord_id = ?", (discord_id,))  # noqa: S608
        return _user(row) if row else None

    async def link(self, discord_id: int, spotify_id: str, display_name: str, scopes: Sequence[str]) -> int:
        """Record the member as linked to this account under a new link generation, which it returns.

        SpotifyAccountTaken if another member is linked to the account (the token is stored apart).
        """
        async with self.sql.transaction() as tx:
            try:
                await tx.execute(
                    """INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status)
                       VALUES (?, ?, ?, ?, ?, ?)
                       ON CONFLICT (discord_id) DO UPDATE SET spotify_id = excluded.spotify_id,
                         display_name = excluded.display_name, linked_at = excluded.linked_at,
                         scopes = excluded.scopes, status = excluded.status,
                         link_generation = users.link_generation + 1""",
                    (discord_id, spotify_id, display_name, now(), " ".join(scopes), LinkStatus.LINKED.value),
                )
            except sqlite3.IntegrityError:
                raise SpotifyAccountTaken(spotify_id) from None
            row = await tx.fetchone("SELECT link_generation FROM users WHERE discord_id = ?", (discord_id,))
        assert row is not None  # written just above
        return int(row["link_generation"])

    async def linked_member_of(self, spotify_id: str) -> int | None:
        """The member linked to this Spotify account now, if any."""
        row = await self.sql.fetchone(
            "SELECT discord_id FROM users WHERE spotify_id = ? AND status = ?", (spotify_id, LinkStatus.LINKED.value)
        )
        return int(row["discord_id"]) if row else None

    async def set_status(self, discord_id: int, status: LinkStatus) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("UPDATE users SET status = ? WHERE discord_id = ?", (status.value, discord_id))

    async def mark_unlinked(self, discord_id: int) -> None:
        """Drop the link, its scopes and the account's display name. The row stays: its link generation
        keeps a sort of an ended link from saving a token, and the account id tells a relink to the
        same account (which keeps the member's saved choices) from one to another."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                "UPDATE users SET status = ?, scopes = '', display_name = '' WHERE discord_id = ?",
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
        link_generation=int(row["link_generation"]),
    )
