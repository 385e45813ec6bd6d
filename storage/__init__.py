"""Everything genrebot remembers, in SQLite, behind a small typed async repository API.

The only package that writes SQL. Owns the connection (WAL, foreign keys, busy timeout),
numbered migrations tracked with `PRAGMA user_version`, token encryption at rest, and one
repository per concern (users, tokens, OAuth states, tracks and predictions, playlists,
schedules, guilds, runs, leaderboards). Must not import `bot`, `classifier`, torch or discord.
"""
