"""Encryption of Spotify tokens at rest (Fernet; several keys for rotation).

The first key encrypts; all keys decrypt. Which keys to use (configured, or the generated key
file) is decided in `storage.keys`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.errors import StorageError, TokenUnreadable


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

    def can_decrypt(self, blob: bytes) -> bool:
        try:
            self.decrypt(blob)
        except TokenUnreadable:
            return False
        return True

    def rotate(self, blob: bytes) -> bytes:
        """The same token encrypted with the first key; TokenUnreadable if no key reads it."""
        try:
            return self._fernet.rotate(blob)
        except InvalidToken:
            raise TokenUnreadable("stored Spotify token cannot be decrypted with the configured keys") from None
