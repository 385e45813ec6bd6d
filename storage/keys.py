"""Which keys encrypt the tokens, and when to refuse rather than guess.

TOKEN_ENCRYPTION_KEY (comma-separated; the first encrypts) wins. Without it, the key file
beside the database is used, and created only for a database that holds no tokens yet: a new
key beside stored tokens would make every link unreadable. Whoever opens the database then
checks that the chosen keys read at least one stored token (`Database.open`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet

from storage.crypto import TokenCipher
from storage.errors import StorageError
from storage.files import new_file_beside, readable_by_others

log = logging.getLogger(__name__)


class NoKeyForStoredTokens(StorageError):
    """The database holds tokens, but no key is configured and its key file is missing."""


def key_file_for(database: Path) -> Path:
    """Where the generated key lives when TOKEN_ENCRYPTION_KEY is not set."""
    return database.with_name(database.name + ".key")


def read_key_file(path: Path) -> str:
    """The key in `path`; warns when other users can read it."""
    key = path.read_text(encoding="ascii").strip()
    if readable_by_others(path):
        log.warning("the token key file %s is readable by other users; run: chmod 600 %s", path, path)
    return key


def load_or_create_key_file(path: Path) -> tuple[str, bool]:
    """The key in `path`, creating the file if missing; returns (key, created).

    Race-free: the key is written to a private file beside `path` and appears there whole
    (`new_file_beside`), or not at all if another process got there first; then that process's
    key is used. Readers never see a half-written file.
    """
    try:
        return read_key_file(path), False
    except FileNotFoundError:
        pass
    key = Fernet.generate_key().decode()
    try:
        with new_file_beside(path) as temporary:
            temporary.write_text(key + "\n", encoding="ascii")
    except FileExistsError:
        return read_key_file(path), False
    return key, True


def choose_cipher(configured: Sequence[str], key_file: Path, stored_tokens: int) -> TokenCipher:
    """The cipher for a database holding `stored_tokens` tokens (see the module docstring)."""
    if configured:
        return TokenCipher(configured)
    if key_file.exists():
        return TokenCipher([read_key_file(key_file)])
    if stored_tokens:
        raise NoKeyForStoredTokens(
            f"the database holds {stored_tokens} Spotify token(s) but no key is configured: set "
            f"TOKEN_ENCRYPTION_KEY to the key they were stored with, or restore the key file {key_file}"
        )
    key, created = load_or_create_key_file(key_file)
    if created:
        log.warning(
            "TOKEN_ENCRYPTION_KEY is not set: created a key file at %s (mode 0600). "
            "Back it up with the database, or set TOKEN_ENCRYPTION_KEY.",
            key_file,
        )
    return TokenCipher([key])
