"""Encryption of Spotify tokens at rest (Fernet; several keys for rotation).

The first key encrypts; all keys decrypt. With no key configured, a key file is created next to
the database with mode 0600 and a warning is logged, so a copied database file alone is useless.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.errors import StorageError, TokenUnreadable

log = logging.getLogger(__name__)


class TokenCipher:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise StorageError("at least one encryption key is needed")
        try:
            self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
        except (ValueError, TypeError):
            raise StorageError(
                "TOKEN_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), comma-separated"
            ) from None

    @classmethod
    def from_config(cls, keys: Sequence[str], key_file: Path) -> TokenCipher:
        if keys:
            return cls(keys)
        if key_file.exists():
            return cls([key_file.read_text().strip()])
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key().decode()
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        log.warning(
            "TOKEN_ENCRYPTION_KEY is not set: created a key file at %s (mode 0600). "
            "Back it up with the database, or set TOKEN_ENCRYPTION_KEY.",
            key_file,
        )
        return cls([key])

    def encrypt(self, token_info: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(token_info).encode())

    def decrypt(self, blob: bytes) -> dict[str, Any]:
        try:
            data = json.loads(self._fernet.decrypt(blob))
        except (InvalidToken, ValueError):
            raise TokenUnreadable("stored Spotify token cannot be decrypted with the configured keys") from None
        if not isinstance(data, dict):
            raise TokenUnreadable("stored Spotify token is not a token record")
        return data
