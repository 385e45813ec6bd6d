"""Songs and members' libraries: track metadata (shared by all members), who liked what when, and
which songs each playlist a member sorts held when it was last read."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from music import LikedSong, Track
from storage.sql import SqlHandle, chunked, placeholders, to_datetime

_TRACK_COLUMNS = "id, name, artists, artist_ids, album, release_date, duration_ms, explicit, audio_features"


class TrackRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def upsert_many(self, tracks: Sequence[Track]) -> None:
        """Store or update songs; audio features already known survive a row without them."""
        if not tracks:
            return
        rows = [
            (
                t.id,
                t.name,
                json.dumps(list(t.artists)),
                json.dumps(list(t.artist_ids)),
                t.album,
                t.release_date,
                t.duration_ms,
                None if t.explicit is None else int(t.explicit),
                json.dumps(dict(t.audio_features)) if t.audio_features else None,
            )
            for t in tracks
        ]
        async with self.sql.transaction() as tx:
            await tx.executemany(
                f"""INSERT INTO tracks ({_TRACK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET name = excluded.name, artists = excluded.artists,
                     artist_ids = excluded.artist_ids, album = excluded.album,
                     release_date = excluded.release_date, duration_ms = excluded.duration_ms,
                     explicit = excluded.explicit,
                     audio_features = COALESCE(excluded.audio_features, tracks.audio_features)""",  # noqa: S608
                rows,
            )

    async def stored_audio_features(self, ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """The audio features stored for those of `ids` that have any (an upsert keeps them)."""
        found: dict[str, dict[str, float]] = {}
        for chunk in chunked(list(dict.fromkeys(ids))):
            rows = await self.sql.fetchall(
                f"SELECT id, audio_features FROM tracks WHERE id IN ({placeholders(len(chunk))})"  # noqa: S608
                " AND audio_features IS NOT NULL",
                chunk,
            )
            found.update((row["id"], json.loads(row["audio_features"])) for row in rows)
        return found

    async def get_many(self, ids: Sequence[str]) -> dict[str, Track]:
        """The stored songs among `ids`, by id; unknown ids are absent."""
        found: dict[str, Track] = {}
        for chunk in chunked(list(dict.fromkeys(ids))):
            rows = await self.sql.fetchall(
                f"SELECT {_TRACK_COLUMNS} FROM tracks WHERE id IN ({placeholders(len(chunk))})",  # noqa: S608
                chunk,
            )
            for row in rows:
                found[row["id"]] = _track(row)
        return found


def _track(row: sqlite3.Row) -> Track:
    return Track(
        id=row["id"],
        name=row["name"],
        artists=tuple(json.loads(row["artists"])),
        artist_ids=tuple(json.loads(row["artist_ids"])),
        album=row["album"],
        release_date=row["release_date"],
        duration_ms=row["duration_ms"],
        explicit=None if row["explicit"] is None else bool(row["explicit"]),
        audio_features=json.loads(row["audio_features"]) if row["audio_features"] else None,
    )


def _full_read_key(discord_id: int) -> str:
    """The app_state key of the note on the member's last full read of Liked Songs."""
    return f"liked_songs.full_read.{discord_id}"


class LikedSongRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def full_read_note(self, discord_id: int) -> str | None:
        """What the reader noted of the member's last full read (its own text), if anything."""
        row = await self.sql.fetchone("SELECT value FROM app_state WHERE key = ?", (_full_read_key(discord_id),))
        return row["value"] if row else None

    async def note_full_read(self, discord_id: int, note: str) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute(
                "INSERT INTO app_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_full_read_key(discord_id), note),
            )

    async def add_many(self, discord_id: int, liked: Sequence[LikedSong]) -> None:
        """Add songs read incrementally; a song liked again keeps its newest time."""
        if not liked:
            return
        async with self.sql.transaction() as tx:
            await tx.executemany(
                """INSERT INTO liked_songs (discord_id, track_id, added_at) VALUES (?, ?, ?)
                   ON CONFLICT (discord_id, track_id) DO UPDATE SET added_at = excluded.added_at""",
                [(discord_id, s.track_id, s.added_at.timestamp()) for s in liked],
            )

    async def replace_all(self, discord_id: int, liked: Sequence[LikedSong]) -> None:
        """The member's whole library after a full read: unliked songs disappear."""
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM liked_songs WHERE discord_id = ?", (discord_id,))
            await tx.executemany(
                "INSERT OR REPLACE INTO liked_songs (discord_id, track_id, added_at) VALUES (?, ?, ?)",
                [(discord_id, s.track_id, s.added_at.timestamp()) for s in liked],
            )

    async def known_ids(self, discord_id: int) -> set[str]:
        rows = await self.sql.fetchall("SELECT track_id FROM liked_songs WHERE discord_id = ?", (discord_id,))
        return {row["track_id"] for row in rows}

    async def list(self, discord_id: int) -> list[LikedSong]:
        """Newest first, as in Spotify's Liked Songs."""
        rows = await self.sql.fetchall(
            "SELECT track_id, added_at FROM liked_songs WHERE discord_id = ? ORDER BY added_at DESC, rowid ASC",
            (discord_id,),
        )
        return [LikedSong(row["track_id"], to_datetime(row["added_at"])) for row in rows]

    async def count(self, discord_id: int) -> int:
        row = await self.sql.fetchone("SELECT COUNT(*) AS songs FROM liked_songs WHERE discord_id = ?", (discord_id,))
        return int(row["songs"]) if row else 0

    async def forget(self, discord_id: int) -> None:
        """The member's Liked Songs and the note on their last full read go together."""
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM liked_songs WHERE discord_id = ?", (discord_id,))
            await tx.execute("DELETE FROM app_state WHERE key = ?", (_full_read_key(discord_id),))


class SourceTrackRepository:
    """The songs of a member's playlist source as its last read found them (Liked Songs have
    `LikedSongRepository`); the next read compares against them to tell what is new."""

    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def known_ids(self, discord_id: int, source: str) -> set[str]:
        rows = await self.sql.fetchall(
            "SELECT track_id FROM source_tracks WHERE discord_id = ? AND source = ?", (discord_id, source)
        )
        return {row["track_id"] for row in rows}

    async def replace_all(self, discord_id: int, source: str, track_ids: Sequence[str]) -> None:
        """What the source holds after a read; the songs must be stored (`TrackRepository`) first."""
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM source_tracks WHERE discord_id = ? AND source = ?", (discord_id, source))
            await tx.executemany(
                "INSERT OR IGNORE INTO source_tracks (discord_id, source, track_id) VALUES (?, ?, ?)",
                [(discord_id, source, track_id) for track_id in track_ids],
            )

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM source_tracks WHERE discord_id = ?", (discord_id,))
