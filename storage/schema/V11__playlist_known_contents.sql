-- What genrebot last wrote to each playlist, so the next sort can edit it in place (remove the
-- songs that left, insert the ones that came) instead of rewriting it, which resets every song's
-- "date added" in Spotify. The songs (track ids in order, one per line) count only while
-- Spotify still gives the playlist the snapshot id it answered to that write: any change to a
-- playlist, its details included, gives it a new one. The details digest is of the name and
-- description that write set (its date aside): a playlist whose songs and details would not
-- change is left alone. NULL (every playlist written before, or a write that has not ended):
-- unknown, the next sort reads the playlist back or rewrites it.
ALTER TABLE playlists ADD COLUMN snapshot_id TEXT;
ALTER TABLE playlists ADD COLUMN track_ids TEXT;
ALTER TABLE playlists ADD COLUMN details_digest TEXT;
