"""Linking a member's Discord account to their Spotify account, and handing out a Spotify
client with their tokens.

The link flow: `/link` gets the URL of genrebot's own confirmation page (`start_link`), which
names the Discord member the link is for (as /link saw them, kept with the state). Confirming
binds the state to that browser (`confirm_link`) and sends it to Spotify's consent page, always
shown (`show_dialog`), or first to Discord's sign-in when the operator configured Discord OAuth2
(`verify_discord_account`: the browser must be the member's). Spotify's callback links only in
the bound browser (`complete_link`).

Tokens live encrypted in storage; spotipy's cache handler is synchronous, so each use seeds a
client with the stored token, runs the blocking calls in threads, and saves the token back if
spotipy refreshed it. A refresh answered `invalid_grant` marks the member "needs relink"; a
token that only failed to decrypt (a key missing from TOKEN_ENCRYPTION_KEY) does not (the member
is told it is the bot's setup, `LinkUnreadable`), so it works again once the key is back; nor
does one Spotify refuses for the app's own credentials (`AppCredentialsRejected`), which is
logged as the operator's configuration error, at /link and at every refused refresh.

A link has a generation: the token is saved back only if the member is still linked under the
generation it was loaded with. `/unlink`, and linking a different Spotify account, also cancel
the work running under the member's link (`client()` records its task) and wait for it before
the old account's data is dropped, so nothing of a sort of the old account lands after its link
ended.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

from bot.services.discord_identity import DiscordIdentity, DiscordIdentityError
from bot.services.errors import LinkFailed, LinkUnreadable, NotLinked, WrongDiscordAccount
from bot.spotify.app import SpotifyApp
from bot.spotify.client import SpotifyUserClient
from bot.spotify.errors import (
    AppCredentialsRejected,
    NeedsRelink,
    OwnerPremiumRequired,
    ScopesMissing,
    SpotifyError,
    SpotifyQuotaExceeded,
    SpotifyRateLimited,
    SpotifyUnavailable,
    UserNotRegistered,
)
from storage import Database, InvalidOAuthState, SpotifyAccountTaken, TokenUnreadable
from storage.records import LinkStatus, PendingLink, User

log = logging.getLogger(__name__)

_STATE_PROBLEMS = {
    "unknown": "This link isn't valid. Run /link in Discord again to get a fresh one.",
    "expired": "This link has expired (links last 10 minutes). Run /link in Discord again.",
    "used": "This link was already used. If you aren't linked yet, run /link in Discord again.",
    "other_browser": (
        "This link was confirmed in a different browser, so nothing was linked. If it's your link, "
        "run /link in Discord again and finish every step in one browser. If someone sent it to you, "
        "don't use it."
    ),
    "unconfirmed": (
        "This sign-in skipped genrebot's confirmation page, so nothing was linked. Run /link in "
        "Discord and open its button."
    ),
    "unverified": (
        "This sign-in skipped the Discord check, so nothing was linked. Run /link in Discord and "
        "open its button."
    ),
}
_ACCOUNT_TAKEN = (
    "This Spotify account is already linked to another Discord member. If it is yours, unlink it "
    "there first (/unlink), or run /link again and approve with a different Spotify account."
)


@dataclass(frozen=True)
class DiscordMember:
    """The member who ran /link, as Discord showed them then."""

    id: int
    display_name: str
    username: str


@dataclass(frozen=True)
class LinkRequest:
    """What the confirmation page shows: whose link this is."""

    discord_id: int
    display_name: str
    username: str


@dataclass(frozen=True)
class LinkedAccount:
    discord_id: int
    display_name: str  # the Spotify account's
    spotify_id: str
    member_display_name: str = ""
    member_username: str = ""
    again: bool = False  # the browser that linked reloaded the page: nothing new happened


@dataclass(frozen=True)
class LinkAddresses:
    """Where the web app's link pages are, all derived from the Spotify redirect URI (it must
    reach the app's /callback, so the app's other pages sit beside it)."""

    confirmation_url: str  # GET: the page /link points to
    discord_callback_url: str  # register it in Discord's portal to turn the Discord check on
    public_path: str  # "/" or "/prefix/" behind a reverse proxy
    secure: bool  # served over https: cookies are Secure
    form_targets: tuple[str, ...]  # origins the confirmation form leads to (Spotify, Discord)

    @classmethod
    def beside(cls, redirect_uri: str, spotify_accounts_base: str, discord_web_origin: str | None = None) -> LinkAddresses:
        parts = urlsplit(redirect_uri)
        path = parts.path[: parts.path.rfind("/") + 1] or "/"
        targets = [_origin(spotify_accounts_base)] + ([discord_web_origin] if discord_web_origin else [])
        return cls(
            confirmation_url=urljoin(redirect_uri, "link"),
            discord_callback_url=urljoin(redirect_uri, "discord-callback"),
            public_path=path,
            secure=parts.scheme == "https",
            form_targets=tuple(dict.fromkeys(targets)),
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class LinkService:
    """The bridge between a Discord member, their stored tokens and the Spotify client."""

    def __init__(
        self, db: Database, spotify_app: SpotifyApp, *, discord_identity: DiscordIdentity | None = None
    ) -> None:
        self.db = db
        self.spotify_app = spotify_app
        self._working: dict[int, set[asyncio.Task[object]]] = {}  # member -> tasks inside client()
        self._ending: set[int] = set()  # members whose link is being ended (unlink, another account)
        self.discord_identity = discord_identity
        self.addresses = LinkAddresses.beside(
            spotify_app.redirect_uri, spotify_app.accounts_base,
            discord_identity.web_origin if discord_identity else None,
        )

    @property
    def checks_discord_identity(self) -> bool:
        return self.discord_identity is not None

    async def start_link(self, member: DiscordMember) -> str:
        """The confirmation page's URL for a fresh state bound to this member for 10 minutes."""
        state = await self.db.oauth_states.create(
            member.id, member_display_name=member.display_name, member_username=member.username
        )
        return f"{self.addresses.confirmation_url}?{urlencode({'state': state})}"

    async def link_request(self, state: str | None) -> LinkRequest:
        """Whose link a state is, for the confirmation page; uses nothing up."""
        if not state:
            raise LinkFailed("The link is missing its state. Run /link in Discord again.")
        try:
            return _request(await self.db.oauth_states.pending(state))
        except InvalidOAuthState as exc:
            raise LinkFailed(_state_problem(exc)) from None

    async def confirm_link(self, state: str, browser: str) -> str:
        """The member confirmed in the browser holding `browser`: bind the state to it; returns
        where the browser goes next (Discord's sign-in when configured, else Spotify's consent page)."""
        try:
            await self.db.oauth_states.bind_browser(state, browser)
        except InvalidOAuthState as exc:
            raise LinkFailed(_state_problem(exc)) from None
        if self.discord_identity is not None:
            return self.discord_identity.authorize_url(state)
        return self.spotify_app.authorize_url(state)

    async def verify_discord_account(
        self, *, state: str | None, code: str | None, error: str | None, browser: str | None
    ) -> str:
        """Discord's redirect back: the signed-in Discord account must be the member who ran
        /link, in the browser that confirmed. Returns Spotify's consent page URL."""
        if self.discord_identity is None or not state:
            raise LinkFailed("This link isn't valid. Run /link in Discord again to get a fresh one.")
        browser = browser or ""  # a browser without genrebot's cookie is never the one that confirmed
        try:
            pending = _request(await self.db.oauth_states.pending(state, browser=browser))
        except InvalidOAuthState as exc:
            raise LinkFailed(_state_problem(exc)) from None
        if error or not code:
            raise LinkFailed(
                "You didn't sign in to Discord, so nothing was linked. Run /link again if you change your mind."
            )
        try:
            account = await self.discord_identity.account_for(code)
        except DiscordIdentityError:
            raise LinkFailed("Discord didn't confirm the sign-in. Run /link in Discord to try again.") from None
        if account.id != pending.discord_id:
            await self._forget_state(state, browser)
            log.warning("link for member %s was opened by another Discord account", pending.discord_id)
            raise WrongDiscordAccount(
                name=account.display_name, username=account.username,
                member_name=pending.display_name, member_username=pending.username, discord_id=pending.discord_id,
            )
        try:
            await self.db.oauth_states.mark_identity_verified(state, browser)
        except InvalidOAuthState as exc:
            raise LinkFailed(_state_problem(exc)) from None
        return self.spotify_app.authorize_url(state)

    async def _forget_state(self, state: str, browser: str) -> None:
        """Use a state up so the wrong person cannot retry it."""
        try:
            await self.db.oauth_states.consume(state, browser=browser)
        except InvalidOAuthState:
            pass

    async def complete_link(
        self, *, state: str | None, code: str | None, error: str | None, browser: str | None
    ) -> LinkedAccount:
        """Handle Spotify's redirect back in the browser holding `browser`. Stores nothing unless
        every step succeeds."""
        if not state:
            raise LinkFailed("The link is missing its state. Run /link in Discord again.")
        browser = browser or ""  # a browser without genrebot's cookie is never the one that confirmed
        try:
            member = _request(await self.db.oauth_states.pending(state, browser=browser))
            discord_id = await self.db.oauth_states.consume(
                state, browser=browser, identity_verified=self.discord_identity is not None
            )
        except InvalidOAuthState as exc:
            if exc.reason == "used" and (account := await self.finished_link(state, browser)) is not None:
                return account
            raise LinkFailed(_state_problem(exc)) from None
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
        except AppCredentialsRejected as exc:  # the operator's to fix, and every /link fails until then
            log.error("configuration error: link for member %s failed: %s", discord_id, exc.operator_line)
            raise LinkFailed(link_problem(exc), discord_id) from None
        except SpotifyError as exc:
            log.warning("link for member %s failed at Spotify: %s", discord_id, type(exc).__name__)
            raise LinkFailed(link_problem(exc), discord_id) from None
        holder = await self.db.users.linked_member_of(profile.account_id)
        if holder is not None and holder != discord_id:  # refused before anything of this member's stops
            raise LinkFailed(_ACCOUNT_TAKEN, discord_id)
        previous = await self.db.users.get(discord_id)
        another_account = (
            previous is not None and previous.status != LinkStatus.UNLINKED and previous.spotify_id != profile.account_id
        )
        try:
            # Work running under a link to another account (a sort) is stopped first: what it would
            # still write belongs to the account this link replaces.
            async with self._link_ending(discord_id) if another_account else nullcontext():
                await self.db.link_member(
                    discord_id,
                    profile.account_id,
                    profile.display_name,
                    tuple(sorted(client.granted_scopes)),  # what Spotify granted, not what was asked
                    token_info,
                )
        except SpotifyAccountTaken:
            raise LinkFailed(_ACCOUNT_TAKEN, discord_id) from None
        return LinkedAccount(
            discord_id, profile.display_name, profile.account_id,
            member.display_name, member.username,
        )

    async def finished_link(self, state: str, browser: str | None) -> LinkedAccount | None:
        """The account a used state linked, when `browser` finished it and the member is linked
        since (a reload or Back after linking, or the /link button opened again; the code is never
        exchanged twice): its page can say so instead of "already used". None otherwise."""
        if not state or not browser:
            return None
        used = await self.db.oauth_states.used_in(state, browser)
        if used is None:
            return None
        pending, used_at = used
        user = await self.db.users.get(pending.discord_id)
        if user is None or user.status == LinkStatus.UNLINKED or user.linked_at.timestamp() < used_at:
            return None
        member = _request(pending)
        return LinkedAccount(pending.discord_id, user.display_name, user.spotify_id, member.display_name,
                             member.username, again=True)

    async def unlink(self, discord_id: int) -> bool:
        """Stop the member's running work, wait for it, then forget the link."""
        user = await self.db.users.get(discord_id)
        if user is None or user.status == LinkStatus.UNLINKED:
            return False
        async with self._link_ending(discord_id):
            await self.db.unlink_member(discord_id)
        return True

    @asynccontextmanager
    async def _link_ending(self, discord_id: int) -> AsyncIterator[None]:
        """Cancel the work running under the member's link and wait for it; no new work starts
        until the block (which ends the link) is over."""
        self._ending.add(discord_id)
        try:
            current = asyncio.current_task()
            running = [task for task in self._working.get(discord_id, ()) if task is not current]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            yield
        finally:
            self._ending.discard(discord_id)

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
        if discord_id in self._ending:
            raise NotLinked()
        # Counted as work from the start, before the token is read: an /unlink that begins while
        # it is being read stops this too, instead of missing it and leaving it a live token.
        task = asyncio.current_task()
        if task is not None:
            self._working.setdefault(discord_id, set()).add(task)
        try:
            async with self._client(discord_id) as client:
                yield client
        finally:
            if task is not None:
                self._working.get(discord_id, set()).discard(task)
                if not self._working.get(discord_id):
                    self._working.pop(discord_id, None)

    @asynccontextmanager
    async def _client(self, discord_id: int) -> AsyncIterator[SpotifyUserClient]:
        await self.linked_user(discord_id)
        try:
            stored = await self.db.tokens.load_for_link(discord_id)
        except TokenUnreadable:
            log.warning(
                "member %s's Spotify token cannot be decrypted with the configured keys: add the key it was stored "
                "with to TOKEN_ENCRYPTION_KEY (after the first), or the member must /link again", discord_id,
            )
            raise LinkUnreadable() from None
        if stored is None:
            raise NotLinked()
        try:
            client = self.spotify_app.user_client(stored.token_info)  # NeedsRelink when a needed scope is missing
        except NeedsRelink:
            await self.db.users.set_status(discord_id, LinkStatus.NEEDS_RELINK)
            raise
        try:
            yield client
        except NeedsRelink:
            await self.db.users.set_status(discord_id, LinkStatus.NEEDS_RELINK)
            raise
        except AppCredentialsRejected as exc:  # the member is told to tell the owner: the log says what to fix
            log.error("configuration error: Spotify refused to refresh member %s's token: %s",
                      discord_id, exc.operator_line)
            raise
        finally:
            refreshed = client.token_info
            if refreshed and refreshed != stored.token_info:
                await self.db.tokens.save(discord_id, refreshed, link_generation=stored.link_generation)


def _request(pending: PendingLink) -> LinkRequest:
    """The names /link saw; a state made without them (before this version) shows the id."""
    return LinkRequest(
        pending.discord_id,
        pending.member_display_name or f"Discord member {pending.discord_id}",
        pending.member_username or str(pending.discord_id),
    )


def _state_problem(exc: InvalidOAuthState) -> str:
    return _STATE_PROBLEMS.get(exc.reason, _STATE_PROBLEMS["unknown"])


def link_problem(exc: SpotifyError) -> str:
    """Why Spotify's part of a link failed, and when trying again can help: a refusal of the app
    itself (its owner's Premium, its quota) is not the member's code having expired."""
    if isinstance(exc, UserNotRegistered):
        return str(exc)
    if isinstance(exc, AppCredentialsRejected):
        return (
            "The bot's setup is wrong: Spotify doesn't accept the bot's app credentials, so nothing was linked. "
            "This isn't something you did; tell the server owner, then run /link again once they've fixed it."
        )
    if isinstance(exc, ScopesMissing):
        return (
            f"Spotify didn't give genrebot {exc.permissions()}, so nothing was linked. Run /link in Discord again "
            "and approve every permission on Spotify's page; if Spotify keeps leaving one out, tell the bot owner."
        )
    if isinstance(exc, OwnerPremiumRequired):
        return (
            "Spotify is refusing this bot right now: the Spotify account that owns the bot's app needs an active "
            "Premium subscription (Spotify's rule for apps in development mode), so nothing was linked. The bot "
            "owner has been told; run /link again once it's sorted out."
        )
    if isinstance(exc, SpotifyQuotaExceeded):
        return (
            "Spotify's request quota for this bot is used up, so nothing was linked. Run /link in Discord again "
            f"in {_about(exc.retry_after_s)}."
        )
    if isinstance(exc, SpotifyRateLimited):
        return (
            "Spotify asked this bot to slow down, so nothing was linked. Run /link in Discord again "
            f"in {_about(exc.retry_after_s)}."
        )
    if isinstance(exc, SpotifyUnavailable):
        return "Spotify isn't answering right now, so nothing was linked. Run /link in Discord again in a few minutes."
    return "Spotify didn't accept the sign-in (the code may have expired). Run /link in Discord to try again."


def _about(seconds: float) -> str:
    """A wait in words, rounded up: 'about 2 minutes', 'about 5 hours'."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"about {hours} hours"
