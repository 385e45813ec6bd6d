"""Which members are in which Discord server, and who opted out of its leaderboards.

Memberships are bookkeeping that /unlink clears; opt-outs are the member's choice and stay.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.sql import SqlHandle, chunked, placeholders


class GuildRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def add_member(self, guild_id: int, discord_id: int) -> None:
        """Remember a membership; the common case (already known) takes no write lock."""
        row = await self.sql.fetchone(
            "SELECT 1 FROM guild_members WHERE guild_id = ? AND discord_id = ?", (guild_id, discord_id)
        )
        if row is not None:
            return
        async with self.sql.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO guild_members (guild_id, discord_id) VALUES (?, ?)", (guild_id, discord_id)
            )

    async def members(self, guild_id: int) -> list[int]:
        """The members genrebot has seen in the server, by id."""
        rows = await self.sql.fetchall(
            "SELECT discord_id FROM guild_members WHERE guild_id = ? ORDER BY discord_id", (guild_id,)
        )
        return [int(row["discord_id"]) for row in rows]

    async def remove_members(self, guild_id: int, discord_ids: Sequence[int]) -> None:
        """Forget memberships of members the server no longer has."""
        if not discord_ids:
            return
        async with self.sql.transaction() as tx:
            for chunk in chunked(list(discord_ids)):
                await tx.execute(
                    f"DELETE FROM guild_members WHERE guild_id = ? AND discord_id IN ({placeholders(len(chunk))})",  # noqa: S608
                    [guild_id, *chunk],
                )

    async def forget_guild(self, guild_id: int) -> None:
        """The bot left the server: none of its memberships count any more."""
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM guild_members WHERE guild_id = ?", (guild_id,))

    async def set_leaderboard_opt_out(self, guild_id: int, discord_id: int, opted_out: bool) -> None:
        async with self.sql.transaction() as tx:
            if opted_out:
                await tx.execute(
                    "INSERT OR IGNORE INTO leaderboard_opt_outs (guild_id, discord_id) VALUES (?, ?)",
                    (guild_id, discord_id),
                )
            else:
                await tx.execute(
                    "DELETE FROM leaderboard_opt_outs WHERE guild_id = ? AND discord_id = ?", (guild_id, discord_id)
                )

    async def opted_out(self, guild_id: int, discord_id: int) -> bool:
        row = await self.sql.fetchone(
            "SELECT 1 FROM leaderboard_opt_outs WHERE guild_id = ? AND discord_id = ?", (guild_id, discord_id)
        )
        return row is not None

    async def forget(self, discord_id: int) -> None:
        """Drop the member's memberships (not their opt-outs)."""
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM guild_members WHERE discord_id = ?", (discord_id,))

    async def of_member(self, discord_id: int) -> list[int]:
        """The servers genrebot has seen the member in."""
        rows = await self.sql.fetchall("SELECT guild_id FROM guild_members WHERE discord_id = ?", (discord_id,))
        return [int(row["guild_id"]) for row in rows]
