"""Typed storage failures; messages never contain token material."""

from __future__ import annotations


class StorageError(Exception):
    pass


class TokenUnreadable(StorageError):
    """The stored token cannot be decrypted with the configured keys (wrong or rotated-out key)."""


class InvalidOAuthState(StorageError):
    """An OAuth state that is unknown, expired or already used; `reason` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"OAuth state is {reason}")


class SchemaTooNew(StorageError):
    """The database was migrated by a newer genrebot than this one (code rolled back after an upgrade)."""


class NotADatabase(StorageError):
    """The database path holds a file that is not SQLite (a CSV, a key file...): never opened, never changed."""


class CannotWrite(StorageError):
    """A path storage must create or write cannot be (a folder of another user's, a file in the way)."""


class DatabaseUnwritable(StorageError):
    """SQLite could not write the database file (its disk full, the file or its folder made read-only,
    an I/O error): the write's transaction was rolled back whole, and what was stored before is intact.
    The message is for the operator's log; members are told the bot's storage failed."""


class SpotifyAccountTaken(StorageError):
    """The Spotify account is already linked to another Discord member."""

    def __init__(self, spotify_id: str) -> None:
        self.spotify_id = spotify_id
        super().__init__("this Spotify account is already linked to another Discord member")
