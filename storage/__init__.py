"""Everything genrebot remembers, in SQLite, behind a small typed async repository API.

The only package that writes SQL. `sql.py` owns the connection (WAL, foreign keys, busy
timeout, one write lock, transactions); `migrations.py` applies the numbered files in `schema/`
(tracked with `PRAGMA user_version`); `crypto.py` encrypts tokens at rest; one module per
concern holds its repository (users, tokens, oauth_states, library, genre_probabilities, playlists,
schedules, sort_preferences, guilds, runs, leaderboard, app_state); `database.py` owns them all.
`settings.py` declares the configuration storage reads. No module here imports `bot`,
`classifier`, torch or discord.
"""

from storage.database import Database
from storage.errors import InvalidOAuthState, SpotifyAccountTaken, StorageError, TokenUnreadable

__all__ = ["Database", "InvalidOAuthState", "SpotifyAccountTaken", "StorageError", "TokenUnreadable"]
