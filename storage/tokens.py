"""Members' Spotify tokens, encrypted at rest (see `storage.crypto`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.crypto import TokenCipher
from storage.errors import TokenUnreadable
from storage.records import LinkStatus, LinkToken
from storage.sql import SqlHandle, now

_BATCH = 500


class TokenRepository:
    def __init__(self, sql: SqlHandle, cipher: TokenCipher) -> None:
        self.sql = sql
        self.cipher = cipher

    @staticmethod
    async def count_stored(sql: SqlHandle) -> int:
        """How many tokens the database holds (asked before a cipher is chosen)."""
        row = await sql.fetchone("SELECT COUNT(*) AS stored FROM tokens")
        return int(row["stored"]) if row else 0

    async def count_unreadable(self) -> int:
        """How many stored tokens the keys cannot decrypt (each is read once)."""
        unreadable, last = 0, -1
        while True:
            rows = await self.sql.fetchall(
                "SELECT discord_id, ciphertext FROM tokens WHERE discord_id > ? ORDER BY discord_id LIMIT ?",
                (last, _BATCH),
            )
            if not rows:
                return unreadable
            unreadable += sum(not self.cipher.can_decrypt(bytes(row["ciphertext"])) for row in rows)
            last = rows[-1]["discord_id"]

    async def reencrypt_all(self) -> tuple[int, int]:
        """Encrypt every readable token with the first key; returns (re-encrypted, unreadable)."""
        rows = await self.sql.fetchall("SELECT discord_id, ciphertext FROM tokens")
        done = unreadable = 0
        async with self.sql.transaction() as tx:
            for row in rows:
                try:
                    fresh = self.cipher.rotate(bytes(row["ciphertext"]))
                except TokenUnreadable:
                    unreadable += 1
                    continue
                done += await tx.execute(
                    "UPDATE tokens SET ciphertext = ? WHERE discord_id = ? AND ciphertext = ?",
                    (fresh, row["discord_id"], row["ciphertext"]),
                )
        return done, unreadable

    async def load(self, discord_id: int) -> dict[str, Any] | None:
        """The member's spotipy token_info, or None; raises TokenUnreadable under a wrong key."""
        stored = await self.load_for_link(discord_id)
        return None if stored is None else stored.token_info

    async def load_for_link(self, discord_id: int) -> LinkToken | None:
        """The token and the link generation it belongs to, read together."""
        row = await self.sql.fetchone(
            """SELECT t.ciphertext, u.link_generation FROM tokens t JOIN users u ON u.discord_id = t.discord_id
               WHERE t.discord_id = ?""",
            (discord_id,),
        )
        if row is None:
            return None
        return LinkToken(self.cipher.decrypt(bytes(row["ciphertext"])), int(row["link_generation"]))

    async def save(self, discord_id: int, token_info: Mapping[str, Any], *, link_generation: int) -> bool:
        """Store the token if the member is still linked under `link_generation`; False if not.

        A compare-and-swap: a token refreshed by a sort that outlived its link (an /unlink, or a
        relink since) is dropped instead of bringing that link back.
        """
        ciphertext = self.cipher.encrypt(dict(token_info))
        async with self.sql.transaction() as tx:
            changed = await tx.execute(
                """INSERT INTO tokens (discord_id, ciphertext, updated_at)
                   SELECT ?, ?, ? WHERE EXISTS (
                       SELECT 1 FROM users WHERE discord_id = ? AND link_generation = ? AND status != ?)
                   ON CONFLICT (discord_id) DO UPDATE SET ciphertext = excluded.ciphertext,
                     updated_at = excluded.updated_at""",
                (discord_id, ciphertext, now(), discord_id, link_generation, LinkStatus.UNLINKED.value),
            )
        return changed > 0

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM tokens WHERE discord_id = ?", (discord_id,))
