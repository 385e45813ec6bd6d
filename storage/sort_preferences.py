"""A member's saved sort choices, which their weekly refresh repeats, and the sources (Liked
Songs, playlists) it sorts."""

from __future__ import annotations

from collections.abc import Sequence

from music import SortSource
from storage.records import SortPreferences
from storage.sql import SqlHandle, now


class SortPreferenceRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def save(self, discord_id: int, preferences: SortPreferences) -> None:
        """Replace the member's saved choices, genres and all, in one transaction."""
        async with self.sql.transaction() as tx:
            await tx.execute(
                """INSERT INTO sort_preferences (discord_id, level, min_confidence, min_playlist_size, multi,
                                                 all_genres, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (discord_id) DO UPDATE SET level = excluded.level,
                     min_confidence = excluded.min_confidence, min_playlist_size = excluded.min_playlist_size,
                     multi = excluded.multi, all_genres = excluded.all_genres, updated_at = excluded.updated_at""",
                (
                    discord_id,
                    preferences.level,
                    preferences.min_confidence,
                    preferences.min_playlist_size,
                    int(preferences.multi),
                    int(preferences.genres is None),
                    now(),
                ),
            )
            await tx.execute("DELETE FROM sort_preference_genres WHERE discord_id = ?", (discord_id,))
            await tx.executemany(
                "INSERT INTO sort_preference_genres (discord_id, position, genre) VALUES (?, ?, ?)",
                [(discord_id, position, genre) for position, genre in enumerate(preferences.genres or ())],
            )

    async def get(self, discord_id: int) -> SortPreferences | None:
        """The member's saved choices, or None if they never sorted for real."""
        rows = await self.sql.fetchall(
            """SELECT p.level, p.min_confidence, p.min_playlist_size, p.multi, p.all_genres, g.genre
               FROM sort_preferences p
               LEFT JOIN sort_preference_genres g ON g.discord_id = p.discord_id
               WHERE p.discord_id = ? ORDER BY g.position""",
            (discord_id,),
        )
        if not rows:
            return None
        first = rows[0]
        return SortPreferences(
            genres=None if first["all_genres"] else tuple(row["genre"] for row in rows if row["genre"] is not None),
            level=first["level"],
            min_confidence=first["min_confidence"],
            min_playlist_size=first["min_playlist_size"],
            multi=bool(first["multi"]),
        )

    async def save_refresh_sources(self, discord_id: int, sources: Sequence[SortSource]) -> None:
        """Replace what the member's weekly refresh sorts, in this order (empty: Liked Songs alone)."""
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM refresh_sources WHERE discord_id = ?", (discord_id,))
            await tx.executemany(
                "INSERT INTO refresh_sources (discord_id, position, source, name) VALUES (?, ?, ?, ?)",
                [(discord_id, position, source.key, source.name) for position, source in enumerate(sources)],
            )

    async def refresh_sources(self, discord_id: int) -> list[SortSource]:
        """What the member chose for their weekly refresh, in order; [] if they never chose."""
        rows = await self.sql.fetchall(
            "SELECT source, name FROM refresh_sources WHERE discord_id = ? ORDER BY position", (discord_id,)
        )
        sources = []
        for row in rows:
            try:
                sources.append(SortSource.from_key(row["source"], row["name"]))
            except ValueError:
                continue  # a key this version does not know: skipped rather than failing the refresh
        return sources

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM sort_preferences WHERE discord_id = ?", (discord_id,))
            await tx.execute("DELETE FROM refresh_sources WHERE discord_id = ?", (discord_id,))
