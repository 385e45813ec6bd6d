"""Members' Spotify tokens, encrypted at rest (see `storage.crypto`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.crypto import TokenCipher
from storage.sql import SqlHandle, now


class TokenRepository:
    def __init__(self, sql: SqlHandle, cipher: TokenCipher) -> None:
        self.sql = sql
        self.cipher = cipher

    async def load(self, discord_id: int) -> dict[str, Any] | None:
        """The member's spotipy token_info, or None; raises TokenUnreadable under a wrong key."""
        row = await self.sql.fetchone("SELECT ciphertext FROM tokens WHERE discord_id = ?", (discord_id,))
        if row is None:
            return None
        return self.cipher.decrypt(bytes(row["ciphertext"]))

    async def save(self, discord_id: int, token_info: Mapping[str, Any]) -> None:
        ciphertext = self.cipher.encrypt(dict(token_info))
        async with self.sql.transaction() as tx:
            await tx.execute(
                """INSERT INTO tokens (discord_id, ciphertext, updated_at) VALUES (?, ?, ?)
                   ON CONFLICT (discord_id) DO UPDATE SET ciphertext = excluded.ciphertext,
                     updated_at = excluded.updated_at""",
                (discord_id, ciphertext, now()),
            )

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM tokens WHERE discord_id = ?", (discord_id,))
