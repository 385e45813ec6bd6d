"""Who a browser is on Discord, through Discord's OAuth2 (`identify`), when the operator set it up.

The /link confirmation page names the Discord member a link is for, but a person who is sent
someone else's link may confirm it anyway. With a Discord OAuth2 client configured
(DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET, and the redirect URI registered in Discord's portal),
the browser signs in to Discord first and genrebot compares the account Discord names with the
member who ran /link, before the browser ever reaches Spotify.

Plain HTTP (aiohttp) against Discord's documented endpoints: `GET /oauth2/authorize` on the
website, `POST /oauth2/token` (form-encoded, client credentials) and `GET /users/@me` with the
bearer token on the API. The access token is used once and forgotten; nothing of it is stored.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import aiohttp

log = logging.getLogger(__name__)

DISCORD_API_BASE = "https://discord.com/api/v10"
_TIMEOUT = aiohttp.ClientTimeout(total=15)


class DiscordIdentityError(Exception):
    """Discord did not tell us who the browser is (refused code, outage, odd answer)."""


@dataclass(frozen=True)
class DiscordAccount:
    id: int
    username: str
    global_name: str | None

    @property
    def display_name(self) -> str:
        return self.global_name or self.username


class DiscordIdentity:
    """Discord's OAuth2 authorisation-code flow with the `identify` scope, for one application."""

    def __init__(self, client_id: str, client_secret: str, redirect_uri: str, api_base: str | None = None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.api_base = (api_base or DISCORD_API_BASE).rstrip("/")
        api = urlsplit(self.api_base)
        # The consent page is on the website (discord.com/oauth2/authorize), beside the API.
        self.web_origin = f"{api.scheme}://{api.netloc}"
        self._session: aiohttp.ClientSession | None = None

    def authorize_url(self, state: str) -> str:
        """Where the browser signs in; `prompt=none` skips Discord's screen for a member who
        already allowed genrebot to know who they are."""
        query = urlencode({
            "response_type": "code",
            "client_id": self.client_id,
            "scope": "identify",
            "state": state,
            "redirect_uri": self.redirect_uri,
            "prompt": "none",
        })
        return f"{self.web_origin}/oauth2/authorize?{query}"

    async def account_for(self, code: str) -> DiscordAccount:
        """The Discord account that approved: trade the code, then ask who the token belongs to."""
        session = self._http()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        credentials = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        auth = {"Authorization": f"Basic {credentials}"}
        try:
            async with session.post(f"{self.api_base}/oauth2/token", data=form, headers=auth) as answer:
                token = await answer.json(content_type=None) if answer.status == 200 else None
                if token is None or "access_token" not in token:
                    log.warning("Discord refused an identify code: HTTP %s", answer.status)
                    raise DiscordIdentityError("Discord did not accept the sign-in")
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            async with session.get(f"{self.api_base}/users/@me", headers=headers) as answer:
                if answer.status != 200:
                    log.warning("Discord refused /users/@me for a fresh identify token: HTTP %s", answer.status)
                    raise DiscordIdentityError("Discord did not say who signed in")
                user = await answer.json(content_type=None)
            return DiscordAccount(int(user["id"]), str(user["username"]), user.get("global_name"))
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            log.warning("Discord sign-in failed: %s", type(exc).__name__)
            raise DiscordIdentityError("Discord could not be reached") from None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
