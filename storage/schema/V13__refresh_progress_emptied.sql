-- The playlists an unfinished weekly refresh's tries emptied (JSON array of playlist ids): the try
-- that finishes finds them already empty, yet its summary must still say they were emptied.
ALTER TABLE refresh_progress ADD COLUMN emptied TEXT NOT NULL DEFAULT '[]';
