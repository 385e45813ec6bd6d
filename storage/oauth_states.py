"""OAuth `state` values: 256-bit, single use, bound to the member who ran /link, stored hashed.

Checking a state takes no write lock: unknown, used and expired states (all a forger can
send) are refused by a read. Only a live state reaches the write, a conditional UPDATE that
makes it single use however many requests carry it at once. A state can also be bound to the
browser that confirmed the link (a hash of a secret that browser holds); a bound state then
works only with that secret.

The state also keeps the names /link saw (so the confirmation page can say whose link it is
without asking Discord) and, when the operator turned the Discord check on, when the bound
browser proved it is the member's Discord account. A state given to `consume` or `pending`
with a browser must have been bound to it (confirmed) first.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3

from storage.errors import InvalidOAuthState
from storage.records import PendingLink
from storage.sql import SqlHandle, now

OAUTH_STATE_TTL_S = 600
_KEEP_EXPIRED_S = 86_400  # expired states stay a day so a late click says "expired", not "unknown"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class OAuthStateRepository:
    def __init__(self, sql: SqlHandle) -> None:
        self.sql = sql

    async def create(
        self, discord_id: int, ttl_seconds: int = OAUTH_STATE_TTL_S, *,
        member_display_name: str | None = None, member_username: str | None = None,
    ) -> str:
        """A fresh state bound to this member (and the names /link saw); only its hash is stored."""
        state = secrets.token_urlsafe(32)
        moment = now()
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM oauth_states WHERE expires_at < ?", (moment - _KEEP_EXPIRED_S,))
            await tx.execute(
                "INSERT INTO oauth_states (state_hash, discord_id, expires_at, member_display_name, member_username)"
                " VALUES (?, ?, ?, ?, ?)",
                (_digest(state), discord_id, moment + ttl_seconds, member_display_name, member_username),
            )
        return state

    async def pending(self, state: str, *, browser: str | None = None) -> PendingLink:
        """Whose link a live state is, without using it. With `browser`, the state must have been
        bound to that browser: InvalidOAuthState('unconfirmed') if it was never bound,
        'other_browser' if bound to another."""
        row = await self._live(_digest(state), now())
        if browser is not None:
            _check_browser(row["browser_hash"], browser)
        return PendingLink(int(row["discord_id"]), row["member_display_name"], row["member_username"])

    async def mark_identity_verified(self, state: str, browser: str) -> None:
        """The browser bound to this live state proved it is the member's Discord account."""
        digest, moment = _digest(state), now()
        row = await self._live(digest, moment)
        _check_browser(row["browser_hash"], browser)
        async with self.sql.transaction() as tx:
            marked = await tx.execute(
                "UPDATE oauth_states SET identity_verified_at = ? WHERE state_hash = ? AND used_at IS NULL"
                " AND browser_hash = ?",
                (moment, digest, _digest(browser)),
            )
        if not marked:
            raise InvalidOAuthState("used")

    async def member_for(self, state: str) -> int:
        """The member a live state belongs to, without using it; InvalidOAuthState otherwise."""
        row = await self._live(_digest(state), now())
        return int(row["discord_id"])

    async def bind_browser(self, state: str, browser: str) -> int:
        """Bind a live, unbound state to the browser holding `browser`; returns its member.

        InvalidOAuthState('other_browser') if the state is already bound to a different browser.
        """
        digest, browser_hash = _digest(state), _digest(browser)
        row = await self._live(digest, now())
        bound = row["browser_hash"]
        if bound is None:
            async with self.sql.transaction() as tx:
                await tx.execute(
                    "UPDATE oauth_states SET browser_hash = ? WHERE state_hash = ? AND browser_hash IS NULL",
                    (browser_hash, digest),
                )
                after = await tx.fetchone("SELECT browser_hash FROM oauth_states WHERE state_hash = ?", (digest,))
            bound = after["browser_hash"] if after else None
        if bound != browser_hash:
            raise InvalidOAuthState("other_browser")
        return int(row["discord_id"])

    async def consume(self, state: str, *, browser: str | None = None, identity_verified: bool = False) -> int:
        """The member a state belongs to; marks it used. Unknown, used, expired, or bound to
        another browser than `browser`: InvalidOAuthState naming which. With `browser`, a state
        never bound is 'unconfirmed'; with `identity_verified`, one whose browser never proved
        the member's Discord account is 'unverified'."""
        digest, moment = _digest(state), now()
        row = await self._live(digest, moment)
        if row["browser_hash"] is not None and (browser is None or _digest(browser) != row["browser_hash"]):
            raise InvalidOAuthState("other_browser")
        if browser is not None:
            _check_browser(row["browser_hash"], browser)
        if identity_verified and row["identity_verified_at"] is None:
            raise InvalidOAuthState("unverified")
        async with self.sql.transaction() as tx:
            claimed = await tx.execute(
                "UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL", (moment, digest)
            )
        if not claimed:
            raise InvalidOAuthState("used")
        return int(row["discord_id"])

    async def used_in(self, state: str, browser: str) -> tuple[PendingLink, float] | None:
        """Whose link a used state was and when it was used, if `browser` is the one that confirmed
        it (a reload of the page that finished it); None for any other state or browser."""
        row = await self.sql.fetchone(
            "SELECT discord_id, used_at, browser_hash, member_display_name, member_username"
            " FROM oauth_states WHERE state_hash = ?",
            (_digest(state),),
        )
        if row is None or row["used_at"] is None or row["browser_hash"] != _digest(browser):
            return None
        pending = PendingLink(int(row["discord_id"]), row["member_display_name"], row["member_username"])
        return pending, float(row["used_at"])

    async def _live(self, digest: str, moment: float) -> sqlite3.Row:
        """The state's row if it can still be used; raises InvalidOAuthState (no write) if not."""
        row = await self.sql.fetchone(
            "SELECT discord_id, expires_at, used_at, browser_hash, member_display_name, member_username,"
            " identity_verified_at FROM oauth_states WHERE state_hash = ?",
            (digest,),
        )
        if row is None:
            raise InvalidOAuthState("unknown")
        if row["used_at"] is not None:
            raise InvalidOAuthState("used")
        if row["expires_at"] < moment:
            raise InvalidOAuthState("expired")
        return row

    async def forget(self, discord_id: int) -> None:
        async with self.sql.transaction() as tx:
            await tx.execute("DELETE FROM oauth_states WHERE discord_id = ?", (discord_id,))


def _check_browser(bound: str | None, browser: str) -> None:
    if bound is None:
        raise InvalidOAuthState("unconfirmed")
    if bound != _digest(browser):
        raise InvalidOAuthState("other_browser")
