-- A member's saved sort choices as columns (they were JSON under app_state 'sort_options:<id>').
-- Keyed by the Discord member and not tied to `users`, so the table can outlive a link. `level`
-- has no CHECK: new levels need no table rebuild. Chosen genres are rows of a child table, in
-- the member's order; the sources a sort reads (Liked Songs, playlists) can follow the same way.
CREATE TABLE sort_preferences (
    discord_id         INTEGER PRIMARY KEY,
    level              TEXT NOT NULL,
    min_confidence     REAL NOT NULL CHECK (min_confidence BETWEEN 0 AND 1),
    min_playlist_size  INTEGER NOT NULL CHECK (min_playlist_size >= 1),
    multi              INTEGER NOT NULL CHECK (multi IN (0, 1)),
    all_genres         INTEGER NOT NULL CHECK (all_genres IN (0, 1)),
    updated_at         REAL NOT NULL
);
CREATE TABLE sort_preference_genres (
    discord_id  INTEGER NOT NULL REFERENCES sort_preferences(discord_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    genre       TEXT NOT NULL,  -- a playlist key: 'rock' or 'rock/hard rock'
    PRIMARY KEY (discord_id, position)
);

-- Move the JSON rows. A row the old code could not read (it fell back to the defaults) is
-- dropped, which gives the same defaults.
CREATE TEMP TABLE old_sort_options AS
    SELECT CAST(substr(key, 14) AS INTEGER) AS discord_id, value
    FROM main.app_state
    WHERE substr(key, 1, 13) = 'sort_options:'
      AND length(key) > 13 AND substr(key, 14) NOT GLOB '*[^0-9]*'
      AND json_valid(value) AND json_type(value) = 'object';
INSERT INTO sort_preferences (discord_id, level, min_confidence, min_playlist_size, multi, all_genres, updated_at)
    SELECT discord_id, level, min_confidence, min_playlist_size, multi, all_genres,
           (julianday('now') - 2440587.5) * 86400.0
    FROM (
        SELECT discord_id,
               COALESCE(json_extract(value, '$.level'), 'genre') AS level,
               COALESCE(json_extract(value, '$.min_confidence'), 0.0) AS min_confidence,
               COALESCE(json_extract(value, '$.min_playlist_size'), 5) AS min_playlist_size,
               COALESCE(json_extract(value, '$.multi'), 0) AS multi,
               COALESCE(json_type(value, '$.genres'), 'null') = 'null' AS all_genres,
               COALESCE(json_type(value, '$.genres'), 'null') IN ('null', 'array') AS genres_readable
        FROM old_sort_options
    )
    WHERE typeof(level) = 'text'
      AND typeof(min_confidence) IN ('real', 'integer') AND min_confidence BETWEEN 0 AND 1
      AND typeof(min_playlist_size) = 'integer' AND min_playlist_size >= 1
      AND typeof(multi) = 'integer' AND multi IN (0, 1)
      AND genres_readable;
INSERT INTO sort_preference_genres (discord_id, position, genre)
    SELECT old.discord_id, genre.key, genre.value
    FROM old_sort_options AS old
    JOIN sort_preferences AS saved ON saved.discord_id = old.discord_id AND saved.all_genres = 0,
         json_each(old.value, '$.genres') AS genre
    WHERE genre.type = 'text';
DROP TABLE temp.old_sort_options;
DELETE FROM app_state WHERE substr(key, 1, 13) = 'sort_options:';
