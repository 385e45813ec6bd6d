"""The Spotify playlists genrebot made for each member: one per source and genre (or
genre/subgenre) key, so each sort of a source re-uses the playlists its last sort made."""

from __future__ import annotations

from collections.abc import Mapping

from music import LIKED_SONGS_KEY
from storage.records import PlaylistRecord
from storage.sql import SqlHandle, to_datetime


class PlaylistRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def get_all(self, discord_id: int, source: str = LIKED_SONGS_KEY) -> dict[str, PlaylistRecord]:
        """The member's playlists made from `source` (a SortSource key), by genre key."""
        rows = await self.sql.fetchall(
            """SELECT key, playlist_id, url, track_count, updated_at, tracks_digest, snapshot_id, track_ids,
                      details_digest FROM playlists
               WHERE discord_id = ? AND source = ?""",
            (discord_id, source),
        )
        return {
            row["key"]: PlaylistRecord(
                discord_id=discord_id,
                key=row["key"],
                playlist_id=row["playlist_id"],
                url=row["url"],
                track_count=row["track_count"],
                updated_at=to_datetime(row["updated_at"]),
                source=source,
                tracks_digest=row["tracks_digest"],
                snapshot_id=row["snapshot_id"],
                track_ids=None if row["track_ids"] is None else tuple(filter(None, row["track_ids"].split("\n"))),
                details_digest=row["details_digest"],
            )
            for row in rows
        }

    async def playlist_ids(self, discord_id: int) -> set[str]:
        """The Spotify ids of every playlist genrebot made for the member, from any source."""
        rows = await self.sql.fetchall("SELECT playlist_id FROM playlists WHERE discord_id = ?", (discord_id,))
        return {row["playlist_id"] for row in rows}

    async def upsert(self, record: PlaylistRecord) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute(
                """INSERT INTO playlists (discord_id, source, key, playlist_id, url, track_count, updated_at,
                                         tracks_digest, snapshot_id, track_ids, details_digest)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (discord_id, source, key) DO UPDATE SET playlist_id = excluded.playlist_id,
                     url = excluded.url, track_count = excluded.track_count, updated_at = excluded.updated_at,
                     tracks_digest = excluded.tracks_digest, snapshot_id = excluded.snapshot_id,
                     track_ids = excluded.track_ids, details_digest = excluded.details_digest""",
                (
                    record.discord_id,
                    record.source,
                    record.key,
                    record.playlist_id,
                    record.url,
                    record.track_count,
                    record.updated_at.timestamp(),
                    record.tracks_digest,
                    record.snapshot_id,
                    None if record.track_ids is None else "\n".join(record.track_ids),
                    record.details_digest,
                ),
            )

    async def move_keys(self, discord_id: int, source: str, moves: Mapping[str, str]) -> dict[str, str]:
        """Re-key the member's playlists of `source` (old key -> new key: an older model's key taken
        over by the key it reads as now), all in one transaction. A move whose old key has no record
        any more (a re-run after one that committed) or whose new key already has one is skipped, so
        no record is ever overwritten or lost. Returns the moves made."""
        made: dict[str, str] = {}
        async with self.sql.transaction() as tx:
            for old, new in moves.items():
                changed = await tx.execute(
                    """UPDATE playlists SET key = ? WHERE discord_id = ? AND source = ? AND key = ?
                         AND NOT EXISTS (SELECT 1 FROM playlists WHERE discord_id = ? AND source = ? AND key = ?)""",
                    (new, discord_id, source, old, discord_id, source, new),
                )
                if changed:
                    made[old] = new
        return made

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM playlists WHERE discord_id = ?", (discord_id,))
