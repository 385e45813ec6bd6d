-- Leaderboard opt-outs are the member's choice and outlive the link: they leave guild_members
-- (which /unlink clears) for their own table, which nothing but the member's choice changes.
CREATE TABLE leaderboard_opt_outs (
    guild_id    INTEGER NOT NULL,
    discord_id  INTEGER NOT NULL,
    PRIMARY KEY (guild_id, discord_id)
);
INSERT INTO leaderboard_opt_outs (guild_id, discord_id)
    SELECT guild_id, discord_id FROM guild_members WHERE leaderboard_opt_out = 1;
ALTER TABLE guild_members DROP COLUMN leaderboard_opt_out;
