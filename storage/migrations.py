"""Numbered schema migrations, applied in order at open and tracked with PRAGMA user_version.

Append a new entry to add a version; never edit a released one. Each migration runs inside one
transaction together with the user_version bump, so a crash leaves the old or the new schema.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # V1: accounts, tokens, OAuth states, tracks, liked songs, predictions, playlists.
    """
    CREATE TABLE users (
        discord_id    INTEGER PRIMARY KEY,
        spotify_id    TEXT NOT NULL,
        display_name  TEXT NOT NULL,
        linked_at     REAL NOT NULL,
        scopes        TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('linked', 'needs_relink', 'unlinked'))
    );
    CREATE TABLE tokens (
        discord_id  INTEGER PRIMARY KEY REFERENCES users(discord_id) ON DELETE CASCADE,
        ciphertext  BLOB NOT NULL,
        updated_at  REAL NOT NULL
    );
    CREATE TABLE oauth_states (
        state_hash  TEXT PRIMARY KEY,
        discord_id  INTEGER NOT NULL,
        expires_at  REAL NOT NULL,
        used_at     REAL
    );
    CREATE TABLE tracks (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        artists         TEXT NOT NULL,
        artist_ids      TEXT NOT NULL,
        album           TEXT NOT NULL,
        release_date    TEXT,
        duration_ms     INTEGER,
        explicit        INTEGER,
        audio_features  TEXT
    );
    CREATE TABLE liked_songs (
        discord_id  INTEGER NOT NULL REFERENCES users(discord_id) ON DELETE CASCADE,
        track_id    TEXT NOT NULL REFERENCES tracks(id),
        added_at    REAL NOT NULL,
        PRIMARY KEY (discord_id, track_id)
    );
    CREATE INDEX liked_songs_by_member_time ON liked_songs (discord_id, added_at DESC);
    CREATE TABLE predictions (
        track_id             TEXT NOT NULL,
        model_version        TEXT NOT NULL,
        genre                TEXT NOT NULL,
        genre_confidence     REAL NOT NULL,
        subgenre             TEXT,
        subgenre_confidence  REAL,
        probabilities        TEXT NOT NULL,
        PRIMARY KEY (track_id, model_version)
    );
    CREATE TABLE playlists (
        discord_id   INTEGER NOT NULL REFERENCES users(discord_id) ON DELETE CASCADE,
        key          TEXT NOT NULL,
        playlist_id  TEXT NOT NULL,
        url          TEXT NOT NULL,
        track_count  INTEGER NOT NULL,
        updated_at   REAL NOT NULL,
        PRIMARY KEY (discord_id, key)
    );
    """,
    # V2: schedules, guild memberships, run history, app facts, leaderboard aggregates.
    """
    CREATE TABLE schedules (
        discord_id  INTEGER PRIMARY KEY REFERENCES users(discord_id) ON DELETE CASCADE,
        enabled     INTEGER NOT NULL,
        weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
        hour        INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
        timezone    TEXT NOT NULL,
        last_run    REAL,
        next_run    REAL
    );
    CREATE INDEX schedules_due ON schedules (enabled, next_run);
    CREATE TABLE guild_members (
        guild_id             INTEGER NOT NULL,
        discord_id           INTEGER NOT NULL,
        leaderboard_opt_out  INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (guild_id, discord_id)
    );
    CREATE TABLE runs (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        discord_id   INTEGER NOT NULL,
        trigger      TEXT NOT NULL,
        started_at   REAL NOT NULL,
        finished_at  REAL,
        status       TEXT NOT NULL,
        counts       TEXT NOT NULL DEFAULT '{}',
        new_songs    INTEGER NOT NULL DEFAULT 0,
        new_counts   TEXT NOT NULL DEFAULT '{}',
        unsorted     INTEGER NOT NULL DEFAULT 0,
        error        TEXT,
        dm_status    TEXT
    );
    CREATE INDEX runs_by_member ON runs (discord_id, started_at DESC);
    CREATE INDEX runs_by_status ON runs (status);
    CREATE TABLE app_state (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    -- Songs per genre per member, refreshed after each sort, so leaderboards read a few
    -- thousand rows instead of joining millions of liked songs.
    CREATE TABLE member_genre_counts (
        discord_id     INTEGER NOT NULL,
        model_version  TEXT NOT NULL,
        genre          TEXT NOT NULL,
        count          INTEGER NOT NULL,
        PRIMARY KEY (discord_id, model_version, genre)
    );
    CREATE INDEX member_genre_counts_by_genre ON member_genre_counts (model_version, genre, count DESC);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
