"""Genre leaderboards per server, read from per-member genre counts kept up to date after sorts."""

from __future__ import annotations

from storage.records import GenreCount, MemberGenreCount
from storage.sql import SqlHandle

# Members a server's leaderboard may show: in the server, linked, and not opted out.
_ELIGIBLE = """
    SELECT g.discord_id FROM guild_members g
    JOIN users u ON u.discord_id = g.discord_id AND u.status = 'linked'
    WHERE g.guild_id = ? AND NOT EXISTS (
        SELECT 1 FROM leaderboard_opt_outs o WHERE o.guild_id = g.guild_id AND o.discord_id = g.discord_id)"""


class LeaderboardRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def refresh_member(self, discord_id: int, model_version: str) -> None:
        """Recount a member's songs per genre after a sort (the leaderboards read these counts)."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                "DELETE FROM member_genre_counts WHERE discord_id = ? AND model_version = ?",
                (discord_id, model_version),
            )
            await tx.execute(
                """INSERT INTO member_genre_counts (discord_id, model_version, genre, count)
                   SELECT l.discord_id, p.model_version, p.genre, COUNT(*)
                   FROM liked_songs l JOIN predictions p ON p.track_id = l.track_id AND p.model_version = ?
                   WHERE l.discord_id = ? GROUP BY p.genre""",
                (model_version, discord_id),
            )

    async def genre_mix(self, guild_id: int, model_version: str) -> list[GenreCount]:
        """Songs per genre over the server's eligible members, most first."""
        rows = await self.sql.fetchall(
            f"""WITH eligible AS ({_ELIGIBLE})
                SELECT c.genre, SUM(c.count) AS total
                FROM member_genre_counts c JOIN eligible e ON e.discord_id = c.discord_id
                WHERE c.model_version = ?
                GROUP BY c.genre ORDER BY total DESC, c.genre""",  # noqa: S608 - a constant, no input
            (guild_id, model_version),
        )
        return [GenreCount(row["genre"], int(row["total"])) for row in rows]

    async def top_members(
        self, guild_id: int, genre: str, model_version: str, limit: int = 10
    ) -> list[MemberGenreCount]:
        """The eligible members with the most songs of `genre`, with that genre's share of their songs."""
        rows = await self.sql.fetchall(
            f"""WITH eligible AS ({_ELIGIBLE}),
               totals AS (
                   SELECT c.discord_id, SUM(c.count) AS total FROM member_genre_counts c
                   JOIN eligible e ON e.discord_id = c.discord_id
                   WHERE c.model_version = ? GROUP BY c.discord_id)
               SELECT c.discord_id, c.count, CAST(c.count AS REAL) / t.total AS share
               FROM member_genre_counts c
               JOIN totals t ON t.discord_id = c.discord_id
               WHERE c.model_version = ? AND c.genre = ?
               ORDER BY c.count DESC, c.discord_id LIMIT ?""",  # noqa: S608 - a constant, no input
            (guild_id, model_version, model_version, genre, limit),
        )
        return [MemberGenreCount(int(row["discord_id"]), int(row["count"]), float(row["share"])) for row in rows]

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM member_genre_counts WHERE discord_id = ?", (discord_id,))
