"""Which members are in which Discord server, and who opted out of its leaderboards."""

from __future__ import annotations

from storage.sql import SqlHandle


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

    async def set_leaderboard_opt_out(self, guild_id: int, discord_id: int, opted_out: bool) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute(
                """INSERT INTO guild_members (guild_id, discord_id, leaderboard_opt_out) VALUES (?, ?, ?)
                   ON CONFLICT (guild_id, discord_id) DO UPDATE SET leaderboard_opt_out = excluded.leaderboard_opt_out""",
                (guild_id, discord_id, int(opted_out)),
            )

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM guild_members WHERE discord_id = ?", (discord_id,))

    async def of_member(self, discord_id: int) -> list[int]:
        """The servers genrebot has seen the member in."""
        rows = await self.sql.fetchall("SELECT guild_id FROM guild_members WHERE discord_id = ?", (discord_id,))
        return [int(row["guild_id"]) for row in rows]
