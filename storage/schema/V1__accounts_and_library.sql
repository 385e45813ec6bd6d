-- Accounts, tokens, OAuth states, tracks, liked songs, predictions, playlists.
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
