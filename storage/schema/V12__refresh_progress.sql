-- What a weekly refresh that Spotify cut off (deferred, postponed or paused, or stopped with the
-- bot) already did, per source it tried: the songs its reads found new (JSON array of track ids)
-- and the playlists it made (JSON array of playlist ids). The next try reads those songs as known,
-- so without this its summary said "nothing new" for what the week did bring. Kept until a try
-- finishes every source; a member's own, like their schedule.
CREATE TABLE refresh_progress (
    discord_id  INTEGER NOT NULL,
    source      TEXT NOT NULL,  -- 'liked' or 'playlist:<id>'
    new_ids     TEXT NOT NULL,
    created     TEXT NOT NULL,
    PRIMARY KEY (discord_id, source)
);
