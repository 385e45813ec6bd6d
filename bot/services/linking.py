"""Linking a member's Discord account to their Spotify account, and handing out a Spotify
client with their tokens.

Tokens live encrypted in storage; spotipy's cache handler is synchronous, so each use seeds a
client with the stored token, runs the blocking calls in threads, and saves the token back if
spotipy refreshed it. A refresh answered `invalid_grant` marks the member "needs relink"; a
token that only failed to decrypt (a key missing from TOKEN_ENCRYPTION_KEY) does not, so it
works again once the key is back.

A link has a generation: the token is saved back only if the member is still linked under the
generation it was loaded with. `/unlink` also cancels the work running under the member's link
(`client()` records its task) and waits for it before deleting, so nothing of a sort lands
after the link ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.services.errors import LinkFailed, NotLinked
from bot.spotify.app import SpotifyApp
from bot.spotify.client import SpotifyUserClient
from bot.spotify.errors import NeedsRelink, SpotifyError, UserNotRegistered
from storage import Database, InvalidOAuthState, SpotifyAccountTaken, TokenUnreadable
from storage.records import LinkStatus, User

log = logging.getLogger(__name__)

_STATE_PROBLEMS = {
    "unknown": "This link isn't valid. Run /link in Discord again to get a fresh one.",
    "expired": "This link has expired (links last 10 minutes). Run /link in Discord again.",
    "used": "This link was already used. If you aren't linked yet, run /link in Discord again.",
}
_ACCOUNT_TAKEN = (
    "This Spotify account is already linked to another Discord member. If it is yours, unlink it "
    "there first (/unlink), or run /link again and approve with a different Spotify account."
)


@dataclass(frozen=True)
class LinkedAccount:
    discord_id: int
    display_name: str
    spotify_id: str


class LinkService:
    """The bridge between a Discord member, their stored tokens and the Spotify client."""

    def __init__(self, db: Database, spotify_app: SpotifyApp) -> None:
        self.db = db
        self.spotify_app = spotify_app
        self._working: dict[int, set[asyncio.Task[object]]] = {}  # member -> tasks inside client()
        self._unlinking: set[int] = set()

    async def start_link(self, discord_id: int) -> str:
        """A consent-page URL whose state is bound to this member for 10 minutes."""
        state = await self.db.oauth_states.create(discord_id)
        return self.spotify_app.authorize_url(state)

    async def complete_link(self, *, state: str | None, code: str | None, error: str | None) -> LinkedAccount:
        """Handle Spotify's redirect back. Stores nothing unless every step succeeds."""
        if not state:
            raise LinkFailed("The link is missing its state. Run /link in Discord again.")
        try:
            discord_id = await self.db.oauth_states.consume(state)
        except InvalidOAuthState as exc:
            raise LinkFailed(_STATE_PROBLEMS.get(exc.reason, _STATE_PROBLEMS["unknown"])) from None
        if error:
            reason = (
                "You declined Spotify's consent page, so nothing was linked. Run /link again if you change your mind."
                if error == "access_denied"
                else "Spotify reported a problem with the sign-in. Run /link in Discord to try again."
            )
            raise LinkFailed(reason, discord_id)
        if not code:
            raise LinkFailed("Spotify sent no authorisation code. Run /link in Discord again.", discord_id)
        try:
            token_info = await asyncio.to_thread(self.spotify_app.exchange_code, code)
            client = self.spotify_app.user_client(token_info)
            profile = await asyncio.to_thread(client.profile)
            token_info = client.token_info or token_info
        except SpotifyError as exc:
            log.warning("link for member %s failed at Spotify: %s", discord_id, type(exc).__name__)
            raise LinkFailed(_link_problem(exc), discord_id) from None
        try:
            await self.db.link_member(
                discord_id,
                profile.account_id,
                profile.display_name,
                tuple(self.spotify_app.scopes),
                token_info,
            )
        except SpotifyAccountTaken:
            raise LinkFailed(_ACCOUNT_TAKEN, discord_id) from None
        return LinkedAccount(discord_id, profile.display_name, profile.account_id)

    async def unlink(self, discord_id: int) -> bool:
        """Stop the member's running work, wait for it, then forget the link."""
        user = await self.db.users.get(discord_id)
        if user is None or user.status == LinkStatus.UNLINKED:
            return False
        self._unlinking.add(discord_id)
        try:
            current = asyncio.current_task()
            running = [task for task in self._working.get(discord_id, ()) if task is not current]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await self.db.unlink_member(discord_id)
        finally:
            self._unlinking.discard(discord_id)
        return True

    async def member(self, discord_id: int) -> User | None:
        """The member's link record, whatever its state; None if they never linked."""
        return await self.db.users.get(discord_id)

    async def linked_user(self, discord_id: int) -> User:
        user = await self.db.users.get(discord_id)
        if user is None or user.status == LinkStatus.UNLINKED:
            raise NotLinked()
        if user.status == LinkStatus.NEEDS_RELINK:
            raise NeedsRelink()
        return user

    @asynccontextmanager
    async def client(self, discord_id: int) -> AsyncIterator[SpotifyUserClient]:
        """A Spotify client with the member's token; saves a refreshed token afterwards.

        The task using it counts as work under the member's link until the block ends.
        """
        if discord_id in self._unlinking:
            raise NotLinked()
        await self.linked_user(discord_id)
        try:
            stored = await self.db.tokens.load_for_link(discord_id)
        except TokenUnreadable:
            log.warning("member %s's token cannot be decrypted with the configured keys", discord_id)
            raise NeedsRelink() from None
        if stored is None:
            raise NotLinked()
        try:
            client = self.spotify_app.user_client(stored.token_info)  # NeedsRelink when a needed scope is missing
        except NeedsRelink:
            await self.db.users.set_status(discord_id, LinkStatus.NEEDS_RELINK)
            raise
        task = asyncio.current_task()
        if task is not None:
            self._working.setdefault(discord_id, set()).add(task)
        try:
            yield client
        except NeedsRelink:
            await self.db.users.set_status(discord_id, LinkStatus.NEEDS_RELINK)
            raise
        finally:
            if task is not None:
                self._working.get(discord_id, set()).discard(task)
                if not self._working.get(discord_id):
                    self._working.pop(discord_id, None)
            refreshed = client.token_info
            if refreshed and refreshed != stored.token_info:
                await self.db.tokens.save(discord_id, refreshed, link_generation=stored.link_generation)


def _link_problem(exc: SpotifyError) -> str:
    if isinstance(exc, UserNotRegistered):
        return str(exc)
    return "Spotify didn't accept the sign-in (the code may have expired). Run /link in Discord to try again."
