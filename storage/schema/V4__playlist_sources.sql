-- Issue #16: a sort reads Liked Songs or one of the member's playlists (its "source").
-- The playlists genrebot makes are kept per source: "Rock · genrebot" from Liked Songs and
-- "Rock · Road Trip · genrebot" from a playlist are different playlists, each re-used by the next
-- sort of the same source. `source` is 'liked' or 'playlist:<Spotify id>'; every playlist made
-- before this version was made from Liked Songs. SQLite cannot change a primary key in place,
-- so the table is rebuilt.
CREATE TABLE playlists_by_source (
    discord_id   INTEGER NOT NULL REFERENCES users(discord_id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    key          TEXT NOT NULL,
    playlist_id  TEXT NOT NULL,
    url          TEXT NOT NULL,
    track_count  INTEGER NOT NULL,
    updated_at   REAL NOT NULL,
    PRIMARY KEY (discord_id, source, key)
);
INSERT INTO playlists_by_source (discord_id, source, key, playlist_id, url, track_count, updated_at)
    SELECT discord_id, 'liked', key, playlist_id, url, track_count, updated_at FROM playlists;
DROP TABLE playlists;
ALTER TABLE playlists_by_source RENAME TO playlists;

-- The songs a playlist source held when it was last read, so the next sort of it (the weekly
-- refresh) can say which are new. Liked Songs keep their own table (liked_songs).
CREATE TABLE source_tracks (
    discord_id  INTEGER NOT NULL REFERENCES users(discord_id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    track_id    TEXT NOT NULL REFERENCES tracks(id),
    PRIMARY KEY (discord_id, source, track_id)
);

-- What the member's weekly refresh sorts, in their order; no rows means Liked Songs alone.
-- A preference, so like sort_preferences it is keyed by the member and not tied to `users`.
-- `name` is the source's name when it was chosen, for showing the list without asking Spotify.
CREATE TABLE refresh_sources (
    discord_id  INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    source      TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (discord_id, position),
    UNIQUE (discord_id, source)
);
