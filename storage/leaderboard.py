"""Genre leaderboards per server, read from per-member counts that each sort of the member's
library replaces: songs per family and per genre, as that sort decided them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from storage.records import GenreCount, MemberGenreCount
from storage.sql import SqlHandle

CountLevel = Literal["family", "genre"]

# Members a server's leaderboard may show: in the server, linked, and not opted out.
_ELIGIBLE = """
    SELECT g.discord_id FROM guild_members g
    JOIN users u ON u.discord_id = g.discord_id AND u.status = 'linked'
    WHERE g.guild_id = ? AND NOT EXISTS (
        SELECT 1 FROM leaderboard_opt_outs o WHERE o.guild_id = g.guild_id AND o.discord_id = g.discord_id)"""


class LeaderboardRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def replace_member_counts(
        self, discord_id: int, model_version: str, counts: Mapping[CountLevel, Mapping[str, int]]
    ) -> None:
        """The member's songs per family and per genre after a sort (the leaderboards read these)."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                "DELETE FROM member_genre_counts WHERE discord_id = ? AND model_version = ?",
                (discord_id, model_version),
            )
            await tx.executemany(
                """INSERT INTO member_genre_counts (discord_id, model_version, level, genre, count)
                   VALUES (?, ?, ?, ?, ?)""",
                [
                    (discord_id, model_version, level, genre, int(count))
                    for level, by_genre in counts.items()
                    for genre, count in by_genre.items()
                    if count > 0
                ],
            )

    async def member_counts(self, discord_id: int, model_version: str, level: CountLevel = "family") -> dict[str, int]:
        """The member's own songs per family (or genre), most first."""
        rows = await self.sql.fetchall(
            """SELECT genre, count FROM member_genre_counts
               WHERE discord_id = ? AND model_version = ? AND level = ? ORDER BY count DESC, genre""",
            (discord_id, model_version, level),
        )
        return {row["genre"]: int(row["count"]) for row in rows}

    async def genre_mix(self, guild_id: int, model_version: str, level: CountLevel = "family") -> list[GenreCount]:
        """Songs per family (or genre) over the server's eligible members, most first."""
        # CROSS JOIN keeps SQLite's join order: eligible members first, then each one's rows by
        # primary key (3-4x faster than looking each count row's member up, with 124 genres).
        rows = await self.sql.fetchall(
            f"""WITH eligible AS ({_ELIGIBLE})
                SELECT c.genre, SUM(c.count) AS total
                FROM eligible e CROSS JOIN member_genre_counts c ON c.discord_id = e.discord_id
                WHERE c.model_version = ? AND c.level = ?
                GROUP BY c.genre ORDER BY total DESC, c.genre""",  # noqa: S608 - a constant, no input
            (guild_id, model_version, level),
        )
        return [GenreCount(row["genre"], int(row["total"])) for row in rows]

    async def top_members(
        self, guild_id: int, genre: str, model_version: str, limit: int = 10, level: CountLevel = "family"
    ) -> list[MemberGenreCount]:
        """The eligible members with the most songs of `genre` (a family, or a genre at genre
        level), with its share of all their songs."""
        rows = await self.sql.fetchall(
            f"""WITH eligible AS ({_ELIGIBLE}),
               top AS (
                   SELECT c.discord_id, c.count FROM member_genre_counts c
                   WHERE c.model_version = ? AND c.level = ? AND c.genre = ?
                     AND c.discord_id IN (SELECT discord_id FROM eligible)
                   ORDER BY c.count DESC, c.discord_id LIMIT ?)
               SELECT t.discord_id, t.count, CAST(t.count AS REAL) / (
                   SELECT SUM(f.count) FROM member_genre_counts f
                   WHERE f.discord_id = t.discord_id AND f.model_version = ? AND f.level = 'family') AS share
               FROM top t ORDER BY t.count DESC, t.discord_id""",  # noqa: S608 - a constant, no input
            (guild_id, model_version, level, genre, limit, model_version),
        )
        return [MemberGenreCount(int(row["discord_id"]), int(row["count"]), float(row["share"])) for row in rows]

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM member_genre_counts WHERE discord_id = ?", (discord_id,))
