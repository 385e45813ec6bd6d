"""Everything genrebot remembers, in SQLite, behind a small typed async repository API.

The only package that writes SQL. Owns the connection (WAL, foreign keys, busy timeout),
numbered migrations tracked with `PRAGMA user_version`, token encryption at rest, and one
repository per concern (users, tokens, OAuth states, tracks and predictions, playlists,
schedules, guilds, runs, leaderboards). Its library modules must not import `bot`,
`classifier`, torch or discord (`storage/cli.py`, the command-line edge, reads the settings).
"""

from storage.database import Database
from storage.errors import InvalidOAuthState, StorageError, TokenUnreadable

__all__ = ["Database", "InvalidOAuthState", "StorageError", "TokenUnreadable"]
