"""The SQLite implementation of genrebot's storage: connection, migrations and repositories.

One aiosqlite connection per process (WAL, foreign keys, busy timeout). Writes take an asyncio
lock and run in explicit `BEGIN IMMEDIATE` transactions, so writes that belong together commit
together and concurrent coroutines never interleave inside one transaction. Every query is
parameterised. A PostgreSQL implementation would provide the same repository attributes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from music import LikedSong, PredictionLike, Track
from storage.crypto import TokenCipher
from storage.errors import InvalidOAuthState, TokenUnreadable
from storage.migrations import MIGRATIONS, SCHEMA_VERSION
from storage.records import (
    GenreCount,
    LinkStatus,
    MemberGenreCount,
    PlaylistRecord,
    Run,
    RunStatus,
    RunTrigger,
    Schedule,
    StoredPrediction,
    User,
)

BUSY_TIMEOUT_MS = 10_000
OAUTH_STATE_TTL_S = 600
_CHUNK = 500  # SQLite's default limit on host parameters is 32766; stay far below it


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _now() -> float:
    return time.time()


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def apply_migrations(conn: aiosqlite.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema to `target`, one transaction per version; returns the version reached."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"database schema version {version} is newer than this genrebot ({SCHEMA_VERSION}); upgrade genrebot"
        )
    for number in range(version + 1, target + 1):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1].split(";\n"):
                if statement.strip():
                    await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {int(number)}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        version = number
    return version


class Database:
    """Owns the connection and exposes one repository per concern."""

    def __init__(self, conn: aiosqlite.Connection, cipher: TokenCipher, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        self.users = UserRepository(self)
        self.tokens = TokenRepository(self, cipher)
        self.oauth_states = OAuthStateRepository(self)
        self.tracks = TrackRepository(self)
        self.liked = LikedSongRepository(self)
        self.predictions = PredictionRepository(self)
        self.playlists = PlaylistRepository(self)
        self.schedules = ScheduleRepository(self)
        self.guilds = GuildRepository(self)
        self.runs = RunRepository(self)
        self.leaderboard = LeaderboardRepository(self)
        self.app_state = AppStateRepository(self)

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        encryption_keys: Sequence[str] = (),
        key_file: Path | None = None,
        migrate: bool = True,
    ) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        cipher = TokenCipher.from_config(encryption_keys, key_file or path.with_name(path.name + ".key"))
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            if migrate:
                await apply_migrations(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, cipher, path)

    async def close(self) -> None:
        await self.conn.close()

    async def schema_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self.conn.execute(sql, params) as cursor:
            return await cursor.fetchone()  # type: ignore[return-value]

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self.conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def backup(self, target: Path) -> None:
        """SQLite's online backup: a consistent copy while the bot keeps writing."""
        target.parent.mkdir(parents=True, exist_ok=True)
        dest = await aiosqlite.connect(target)
        try:
            await self.conn.backup(dest)
        finally:
            await dest.close()


class _Repository:
    def __init__(self, db: Database) -> None:
        self.db = db


class UserRepository(_Repository):
    async def get(self, discord_id: int) -> User | None:
        row = await self.db.fetchone(
            "SELECT discord_id, spotify_id, display_name, linked_at, scopes, status FROM users WHERE discord_id = ?",
            (discord_id,),
        )
        return _user(row) if row else None

    async def all_linked(self) -> list[User]:
        rows = await self.db.fetchall(
            "SELECT discord_id, spotify_id, display_name, linked_at, scopes, status FROM users WHERE status = ?",
            (LinkStatus.LINKED.value,),
        )
        return [_user(r) for r in rows]

    async def link(
        self,
        discord_id: int,
        spotify_id: str,
        display_name: str,
        scopes: Sequence[str],
        token_info: Mapping[str, Any],
    ) -> User:
        """Store the member and their token in one transaction."""
        ciphertext = self.db.tokens.cipher.encrypt(dict(token_info))
        now = _now()
        async with self.db.transaction() as conn:
            await conn.execute(
                """INSERT INTO users (discord_id, spotify_id, display_name, linked_at, scopes, status)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (discord_id) DO UPDATE SET spotify_id = excluded.spotify_id,
                     display_name = excluded.display_name, linked_at = excluded.linked_at,
                     scopes = excluded.scopes, status = excluded.status""",
                (discord_id, spotify_id, display_name, now, " ".join(scopes), LinkStatus.LINKED.value),
            )
            await conn.execute(
                """INSERT INTO tokens (discord_id, ciphertext, updated_at) VALUES (?, ?, ?)
                   ON CONFLICT (discord_id) DO UPDATE SET ciphertext = excluded.ciphertext,
                     updated_at = excluded.updated_at""",
                (discord_id, ciphertext, now),
            )
        user = await self.get(discord_id)
        assert user is not None
        return user

    async def set_status(self, discord_id: int, status: LinkStatus) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE users SET status = ? WHERE discord_id = ?", (status.value, discord_id))

    async def unlink(self, discord_id: int) -> None:
        """Forget the member's tokens, library, playlists, schedule and memberships at once."""
        async with self.db.transaction() as conn:
            for sql in (
                "DELETE FROM tokens WHERE discord_id = ?",
                "DELETE FROM liked_songs WHERE discord_id = ?",
                "DELETE FROM playlists WHERE discord_id = ?",
                "DELETE FROM schedules WHERE discord_id = ?",
                "DELETE FROM guild_members WHERE discord_id = ?",
                "DELETE FROM member_genre_counts WHERE discord_id = ?",
                "DELETE FROM oauth_states WHERE discord_id = ?",
            ):
                await conn.execute(sql, (discord_id,))
            await conn.execute(
                "DELETE FROM app_state WHERE key = ?", (f"sort_options:{discord_id}",)
            )
            await conn.execute(
                "UPDATE users SET status = ?, scopes = '' WHERE discord_id = ?",
                (LinkStatus.UNLINKED.value, discord_id),
            )


def _user(row: Any) -> User:
    return User(
        discord_id=int(row[0]),
        spotify_id=row[1],
        display_name=row[2],
        linked_at=_dt(row[3]) or datetime.now(UTC),
        scopes=tuple(row[4].split()),
        status=LinkStatus(row[5]),
    )


class TokenRepository(_Repository):
    def __init__(self, db: Database, cipher: TokenCipher) -> None:
        super().__init__(db)
        self.cipher = cipher

    async def load(self, discord_id: int) -> dict[str, Any] | None:
        """The member's token, or None. Undecryptable: the member needs a relink."""
        row = await self.db.fetchone("SELECT ciphertext FROM tokens WHERE discord_id = ?", (discord_id,))
        if row is None:
            return None
        try:
            return self.cipher.decrypt(bytes(row[0]))
        except TokenUnreadable:
            await self.db.users.set_status(discord_id, LinkStatus.NEEDS_RELINK)
            raise

    async def save(self, discord_id: int, token_info: Mapping[str, Any]) -> None:
        ciphertext = self.cipher.encrypt(dict(token_info))
        async with self.db.transaction() as conn:
            await conn.execute(
                """INSERT INTO tokens (discord_id, ciphertext, updated_at) VALUES (?, ?, ?)
                   ON CONFLICT (discord_id) DO UPDATE SET ciphertext = excluded.ciphertext,
                     updated_at = excluded.updated_at""",
                (discord_id, ciphertext, _now()),
            )


def _hash_state(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


class OAuthStateRepository(_Repository):
    async def create(self, discord_id: int, ttl_seconds: int = OAUTH_STATE_TTL_S) -> str:
        """A fresh 256-bit state bound to this member; only its hash is stored."""
        state = secrets.token_urlsafe(32)
        now = _now()
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM oauth_states WHERE expires_at < ?", (now - 86_400,))
            await conn.execute(
                "INSERT INTO oauth_states (state_hash, discord_id, expires_at) VALUES (?, ?, ?)",
                (_hash_state(state), discord_id, now + ttl_seconds),
            )
        return state

    async def consume(self, state: str) -> int:
        """The member a state belongs to; marks it used. Unknown, expired or used: InvalidOAuthState."""
        digest = _hash_state(state)
        now = _now()
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT discord_id, expires_at, used_at FROM oauth_states WHERE state_hash = ?", (digest,)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                raise InvalidOAuthState("unknown")
            if row[2] is not None:
                raise InvalidOAuthState("used")
            await conn.execute("UPDATE oauth_states SET used_at = ? WHERE state_hash = ?", (now, digest))
        if row[1] < now:
            raise InvalidOAuthState("expired")
        return int(row[0])


class TrackRepository(_Repository):
    async def upsert_many(self, tracks: Sequence[Track]) -> None:
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
        async with self.db.transaction() as conn:
            await conn.executemany(
                """INSERT INTO tracks (id, name, artists, artist_ids, album, release_date, duration_ms,
                                       explicit, audio_features)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET name = excluded.name, artists = excluded.artists,
                     artist_ids = excluded.artist_ids, album = excluded.album,
                     release_date = excluded.release_date, duration_ms = excluded.duration_ms,
                     explicit = excluded.explicit,
                     audio_features = COALESCE(excluded.audio_features, tracks.audio_features)""",
                rows,
            )

    async def get_many(self, ids: Sequence[str]) -> dict[str, Track]:
        found: dict[str, Track] = {}
        unique = list(dict.fromkeys(ids))
        for chunk in _chunks(unique):
            marks = ",".join("?" * len(chunk))
            columns = "id, name, artists, artist_ids, album, release_date, duration_ms, explicit, audio_features"
            sql = f"SELECT {columns} FROM tracks WHERE id IN ({marks})"  # noqa: S608 - placeholders only
            rows = await self.db.fetchall(sql, chunk)
            for r in rows:
                found[r[0]] = Track(
                    id=r[0],
                    name=r[1],
                    artists=tuple(json.loads(r[2])),
                    artist_ids=tuple(json.loads(r[3])),
                    album=r[4],
                    release_date=r[5],
                    duration_ms=r[6],
                    explicit=None if r[7] is None else bool(r[7]),
                    audio_features=json.loads(r[8]) if r[8] else None,
                )
        return found


class LikedSongRepository(_Repository):
    async def add_many(self, discord_id: int, liked: Sequence[LikedSong]) -> None:
        if not liked:
            return
        async with self.db.transaction() as conn:
            await conn.executemany(
                """INSERT INTO liked_songs (discord_id, track_id, added_at) VALUES (?, ?, ?)
                   ON CONFLICT (discord_id, track_id) DO UPDATE SET added_at = excluded.added_at""",
                [(discord_id, s.track_id, s.added_at.timestamp()) for s in liked],
            )

    async def replace_all(self, discord_id: int, liked: Sequence[LikedSong]) -> None:
        """The member's whole library after a full read: unliked songs disappear."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM liked_songs WHERE discord_id = ?", (discord_id,))
            await conn.executemany(
                "INSERT OR REPLACE INTO liked_songs (discord_id, track_id, added_at) VALUES (?, ?, ?)",
                [(discord_id, s.track_id, s.added_at.timestamp()) for s in liked],
            )

    async def known_ids(self, discord_id: int) -> set[str]:
        rows = await self.db.fetchall("SELECT track_id FROM liked_songs WHERE discord_id = ?", (discord_id,))
        return {r[0] for r in rows}

    async def list(self, discord_id: int) -> list[LikedSong]:
        rows = await self.db.fetchall(
            "SELECT track_id, added_at FROM liked_songs WHERE discord_id = ? ORDER BY added_at DESC, rowid ASC",
            (discord_id,),
        )
        return [LikedSong(r[0], datetime.fromtimestamp(r[1], UTC)) for r in rows]

    async def count(self, discord_id: int) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) FROM liked_songs WHERE discord_id = ?", (discord_id,))
        return int(row[0]) if row else 0


class PredictionRepository(_Repository):
    async def get_many(self, track_ids: Sequence[str], model_version: str) -> dict[str, StoredPrediction]:
        found: dict[str, StoredPrediction] = {}
        for chunk in _chunks(list(dict.fromkeys(track_ids))):
            marks = ",".join("?" * len(chunk))
            columns = "track_id, genre, genre_confidence, subgenre, subgenre_confidence, probabilities"
            sql = f"SELECT {columns} FROM predictions WHERE model_version = ? AND track_id IN ({marks})"  # noqa: S608
            rows = await self.db.fetchall(sql, [model_version, *chunk])
            for r in rows:
                found[r[0]] = StoredPrediction(r[0], model_version, r[1], r[2], r[3], r[4], json.loads(r[5]))
        return found

    async def save_many(self, model_version: str, predictions: Mapping[str, PredictionLike]) -> None:
        if not predictions:
            return
        rows = [
            (
                track_id,
                model_version,
                p.genre,
                float(p.genre_confidence),
                p.subgenre,
                None if p.subgenre_confidence is None else float(p.subgenre_confidence),
                json.dumps({k: round(float(v), 5) for k, v in p.genre_probabilities.items()}),
            )
            for track_id, p in predictions.items()
        ]
        async with self.db.transaction() as conn:
            await conn.executemany(
                """INSERT OR REPLACE INTO predictions (track_id, model_version, genre, genre_confidence,
                     subgenre, subgenre_confidence, probabilities) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )


class PlaylistRepository(_Repository):
    async def get_all(self, discord_id: int) -> dict[str, PlaylistRecord]:
        rows = await self.db.fetchall(
            "SELECT key, playlist_id, url, track_count, updated_at FROM playlists WHERE discord_id = ?",
            (discord_id,),
        )
        return {
            r[0]: PlaylistRecord(discord_id, r[0], r[1], r[2], r[3], datetime.fromtimestamp(r[4], UTC))
            for r in rows
        }

    async def upsert(self, record: PlaylistRecord) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                """INSERT INTO playlists (discord_id, key, playlist_id, url, track_count, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (discord_id, key) DO UPDATE SET playlist_id = excluded.playlist_id,
                     url = excluded.url, track_count = excluded.track_count, updated_at = excluded.updated_at""",
                (
                    record.discord_id,
                    record.key,
                    record.playlist_id,
                    record.url,
                    record.track_count,
                    record.updated_at.timestamp(),
                ),
            )

    async def delete(self, discord_id: int, key: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM playlists WHERE discord_id = ? AND key = ?", (discord_id, key))


_SCHEDULE_COLUMNS = "discord_id, enabled, weekday, hour, timezone, last_run, next_run"


def _schedule(row: Any) -> Schedule:
    return Schedule(int(row[0]), bool(row[1]), row[2], row[3], row[4], _dt(row[5]), _dt(row[6]))


class ScheduleRepository(_Repository):
    async def set(self, discord_id: int, weekday: int, hour: int, timezone: str, next_run: datetime) -> Schedule:
        async with self.db.transaction() as conn:
            await conn.execute(
                f"""INSERT INTO schedules ({_SCHEDULE_COLUMNS}) VALUES (?, 1, ?, ?, ?, NULL, ?)
                    ON CONFLICT (discord_id) DO UPDATE SET enabled = 1, weekday = excluded.weekday,
                      hour = excluded.hour, timezone = excluded.timezone, next_run = excluded.next_run""",  # noqa: S608
                (discord_id, weekday, hour, timezone, next_run.timestamp()),
            )
        schedule = await self.get(discord_id)
        assert schedule is not None
        return schedule

    async def disable(self, discord_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE schedules SET enabled = 0 WHERE discord_id = ?", (discord_id,))

    async def get(self, discord_id: int) -> Schedule | None:
        row = await self.db.fetchone(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE discord_id = ?", (discord_id,)  # noqa: S608
        )
        return _schedule(row) if row else None

    async def enabled(self) -> list[Schedule]:
        rows = await self.db.fetchall(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE enabled = 1")  # noqa: S608
        return [_schedule(r) for r in rows]

    async def due(self, now: datetime) -> list[Schedule]:
        rows = await self.db.fetchall(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE enabled = 1 AND next_run <= ? "  # noqa: S608
            "ORDER BY next_run",
            (now.timestamp(),),
        )
        return [_schedule(r) for r in rows]

    async def mark_ran(self, discord_id: int, last_run: datetime, next_run: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE schedules SET last_run = ?, next_run = ? WHERE discord_id = ?",
                (last_run.timestamp(), next_run.timestamp(), discord_id),
            )


class GuildRepository(_Repository):
    async def add_member(self, guild_id: int, discord_id: int) -> None:
        row = await self.db.fetchone(
            "SELECT 1 FROM guild_members WHERE guild_id = ? AND discord_id = ?", (guild_id, discord_id)
        )
        if row is not None:
            return
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO guild_members (guild_id, discord_id) VALUES (?, ?)", (guild_id, discord_id)
            )

    async def set_leaderboard_opt_out(self, guild_id: int, discord_id: int, opted_out: bool) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                """INSERT INTO guild_members (guild_id, discord_id, leaderboard_opt_out) VALUES (?, ?, ?)
                   ON CONFLICT (guild_id, discord_id) DO UPDATE SET leaderboard_opt_out = excluded.leaderboard_opt_out""",
                (guild_id, discord_id, int(opted_out)),
            )

    async def is_opted_out(self, guild_id: int, discord_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT leaderboard_opt_out FROM guild_members WHERE guild_id = ? AND discord_id = ?",
            (guild_id, discord_id),
        )
        return bool(row[0]) if row else False


_RUN_COLUMNS = (
    "id, discord_id, trigger, started_at, finished_at, status, counts, new_songs, new_counts, unsorted, error, dm_status"
)


def _run(row: Any) -> Run:
    return Run(
        id=row[0],
        discord_id=row[1],
        trigger=RunTrigger(row[2]),
        started_at=datetime.fromtimestamp(row[3], UTC),
        finished_at=_dt(row[4]),
        status=RunStatus(row[5]),
        counts=json.loads(row[6]),
        new_songs=row[7],
        new_counts=json.loads(row[8]),
        unsorted=row[9],
        error=row[10],
        dm_status=row[11],
    )


class RunRepository(_Repository):
    async def start(self, discord_id: int, trigger: RunTrigger) -> int:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO runs (discord_id, trigger, started_at, status) VALUES (?, ?, ?, ?)",
                (discord_id, trigger.value, _now(), RunStatus.RUNNING.value),
            )
            run_id = cursor.lastrowid
        assert run_id is not None
        return int(run_id)

    async def finish(
        self,
        run_id: int,
        status: RunStatus,
        counts: Mapping[str, int],
        new_songs: int,
        new_counts: Mapping[str, int],
        unsorted: int,
        error: str | None = None,
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                """UPDATE runs SET finished_at = ?, status = ?, counts = ?, new_songs = ?, new_counts = ?,
                     unsorted = ?, error = ? WHERE id = ?""",
                (
                    _now(),
                    status.value,
                    json.dumps(dict(counts)),
                    new_songs,
                    json.dumps(dict(new_counts)),
                    unsorted,
                    error,
                    run_id,
                ),
            )

    async def set_dm_status(self, run_id: int, status: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE runs SET dm_status = ? WHERE id = ?", (status, run_id))

    async def get(self, run_id: int) -> Run | None:
        row = await self.db.fetchone(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))  # noqa: S608
        return _run(row) if row else None

    async def recent(self, discord_id: int, limit: int = 5) -> list[Run]:
        rows = await self.db.fetchall(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE discord_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",  # noqa: S608
            (discord_id, limit),
        )
        return [_run(r) for r in rows]

    async def running(self, discord_id: int) -> Run | None:
        row = await self.db.fetchone(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE discord_id = ? AND status = ? ORDER BY id DESC LIMIT 1",  # noqa: S608
            (discord_id, RunStatus.RUNNING.value),
        )
        return _run(row) if row else None

    async def fail_interrupted(self, error: str = "interrupted by a restart") -> int:
        """At start-up no run can be in progress: mark leftovers failed, never 'running' forever."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE status = ?",
                (RunStatus.FAILED.value, _now(), error, RunStatus.RUNNING.value),
            )
            return cursor.rowcount or 0


class LeaderboardRepository(_Repository):
    async def refresh_member(self, discord_id: int, model_version: str) -> None:
        """Recount a member's songs per genre after a sort (the leaderboards read these counts)."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM member_genre_counts WHERE discord_id = ? AND model_version = ?",
                (discord_id, model_version),
            )
            await conn.execute(
                """INSERT INTO member_genre_counts (discord_id, model_version, genre, count)
                   SELECT l.discord_id, p.model_version, p.genre, COUNT(*)
                   FROM liked_songs l JOIN predictions p ON p.track_id = l.track_id AND p.model_version = ?
                   WHERE l.discord_id = ? GROUP BY p.genre""",
                (model_version, discord_id),
            )

    async def genre_mix(self, guild_id: int, model_version: str) -> list[GenreCount]:
        rows = await self.db.fetchall(
            """SELECT c.genre, SUM(c.count) AS total
               FROM guild_members g
               JOIN users u ON u.discord_id = g.discord_id AND u.status = 'linked'
               JOIN member_genre_counts c ON c.discord_id = g.discord_id AND c.model_version = ?
               WHERE g.guild_id = ? AND g.leaderboard_opt_out = 0
               GROUP BY c.genre ORDER BY total DESC, c.genre""",
            (model_version, guild_id),
        )
        return [GenreCount(r[0], int(r[1])) for r in rows]

    async def top_members(
        self, guild_id: int, genre: str, model_version: str, limit: int = 10
    ) -> list[MemberGenreCount]:
        rows = await self.db.fetchall(
            """WITH eligible AS (
                   SELECT g.discord_id FROM guild_members g
                   JOIN users u ON u.discord_id = g.discord_id AND u.status = 'linked'
                   WHERE g.guild_id = ? AND g.leaderboard_opt_out = 0),
               totals AS (
                   SELECT c.discord_id, SUM(c.count) AS total FROM member_genre_counts c
                   JOIN eligible e ON e.discord_id = c.discord_id
                   WHERE c.model_version = ? GROUP BY c.discord_id)
               SELECT c.discord_id, c.count, CAST(c.count AS REAL) / t.total
               FROM member_genre_counts c
               JOIN eligible e ON e.discord_id = c.discord_id
               JOIN totals t ON t.discord_id = c.discord_id
               WHERE c.model_version = ? AND c.genre = ?
               ORDER BY c.count DESC, c.discord_id LIMIT ?""",
            (guild_id, model_version, model_version, genre, limit),
        )
        return [MemberGenreCount(int(r[0]), int(r[1]), float(r[2])) for r in rows]


class AppStateRepository(_Repository):
    async def get(self, key: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM app_state WHERE key = ?", (key,))
        return row[0] if row else None

    async def set(self, key: str, value: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO app_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
