-- Schedules, guild memberships, run history, app facts, leaderboard aggregates.
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
