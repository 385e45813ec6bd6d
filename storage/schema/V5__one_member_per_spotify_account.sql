-- At most one linked Discord member per Spotify account (leaderboards counted an account twice
-- and its playlists were written twice). Where an account was linked by several members, the
-- newest link keeps it and the others must link again.
UPDATE users SET status = 'needs_relink'
WHERE status = 'linked' AND EXISTS (
    SELECT 1 FROM users AS newer
    WHERE newer.spotify_id = users.spotify_id AND newer.status = 'linked'
      AND (newer.linked_at > users.linked_at
           OR (newer.linked_at = users.linked_at AND newer.discord_id > users.discord_id))
);
CREATE UNIQUE INDEX users_one_linked_member_per_spotify_account ON users (spotify_id) WHERE status = 'linked';
