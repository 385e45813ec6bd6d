"""OAuth `state` values: 256-bit, single use, bound to the member who ran /link, stored hashed."""

from __future__ import annotations

import hashlib
import secrets

from storage.errors import InvalidOAuthState
from storage.sql import SqlHandle, now

OAUTH_STATE_TTL_S = 600
_KEEP_EXPIRED_S = 86_400  # expired states stay a day so a late click says "expired", not "unknown"


def _hash_state(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


class OAuthStateRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def create(self, discord_id: int, ttl_seconds: int = OAUTH_STATE_TTL_S) -> str:
        """A fresh state bound to this member; only its hash is stored."""
        state = secrets.token_urlsafe(32)
        moment = now()
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM oauth_states WHERE expires_at < ?", (moment - _KEEP_EXPIRED_S,))
            await tx.execute(
                "INSERT INTO oauth_states (state_hash, discord_id, expires_at) VALUES (?, ?, ?)",
                (_hash_state(state), discord_id, moment + ttl_seconds),
            )
        return state

    async def consume(self, state: str) -> int:
        """The member a state belongs to; marks it used. Unknown, expired or used: InvalidOAuthState."""
        digest = _hash_state(state)
        moment = now()
        async with self.sql.transaction() as tx:
            row = await tx.fetchone(
                "SELECT discord_id, expires_at, used_at FROM oauth_states WHERE state_hash = ?", (digest,)
            )
            if row is None:
                raise InvalidOAuthState("unknown")
            if row["used_at"] is not None:
                raise InvalidOAuthState("used")
            await tx.execute("UPDATE oauth_states SET used_at = ? WHERE state_hash = ?", (moment, digest))
        if row["expires_at"] < moment:
            raise InvalidOAuthState("expired")
        return int(row["discord_id"])

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM oauth_states WHERE discord_id = ?", (discord_id,))
