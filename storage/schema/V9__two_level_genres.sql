-- Issue #13: the two-level model (families > genres) and library pooling.
--
-- 1. What is kept per song and model version is the model's answer before any decision: its
-- probability for each genre of the model's taxonomy, float16 little-endian, in the taxonomy's
-- genre order. A sort pools these over the member's whole library (songs by the same artist or
-- on the same album lean together) and only then decides, so a song's family and genre are no
-- longer a property of the song alone. The six-genre model's decided predictions were made by a
-- model this version cannot load: they go.
CREATE TABLE genre_probabilities (
    track_id       TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    probabilities  BLOB NOT NULL,
    PRIMARY KEY (track_id, model_version)
) WITHOUT ROWID;
DROP TABLE predictions;

-- 2. A member's songs per family and per genre, as their last sort decided them (leaderboards
-- and /stats at both levels). Earlier rows counted the six-genre model's genres, its top level.
CREATE TABLE member_genre_counts_by_level (
    discord_id     INTEGER NOT NULL,
    model_version  TEXT NOT NULL,
    level          TEXT NOT NULL CHECK (level IN ('family', 'genre')),
    genre          TEXT NOT NULL,  -- a family's key, or a genre's
    count          INTEGER NOT NULL,
    PRIMARY KEY (discord_id, model_version, level, genre)
) WITHOUT ROWID;  -- a member's rows together, counts included: leaderboards read them by member
INSERT INTO member_genre_counts_by_level (discord_id, model_version, level, genre, count)
    SELECT discord_id, model_version, 'family', genre, count FROM member_genre_counts;
DROP TABLE member_genre_counts;
ALTER TABLE member_genre_counts_by_level RENAME TO member_genre_counts;
CREATE INDEX member_genre_counts_by_genre ON member_genre_counts (model_version, level, genre, count DESC);

-- 3. Which songs each genre playlist was last written with (a digest), so a refresh adds only
-- the new songs just when the playlist holds exactly the others. The count alone no longer
-- says so: pooling decides a library's songs together, so an old song can move to another
-- playlist when new songs by its artist arrive, and a new model decides every song afresh.
-- NULL (every playlist written before): unknown, the next refresh rewrites it.
ALTER TABLE playlists ADD COLUMN tracks_digest TEXT;

-- 4. Saved sort levels: the six-genre model's 'genre' was its top level (now the families) and
-- 'subgenre' its second (now the genres). Saved genre keys ('rap', 'rock/hard rock') are read
-- through the taxonomy's aliases when the weekly refresh uses them.
UPDATE sort_preferences SET level = CASE level WHEN 'genre' THEN 'family' WHEN 'subgenre' THEN 'genre' ELSE level END;
