"""Discord's OAuth2 authorisation-code grant in the stand-in: a signed-in browser authorises,
the application trades the code once for a bearer token, and /users/@me names the user."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest

from tests.discord_standin import DiscordStandIn
from tests.discord_standin.oauth2 import sign_in_with_discord

REDIRECT = "http://127.0.0.1:9/discord-callback"
USER = 4242


@pytest.fixture
async def server() -> AsyncIterator[DiscordStandIn]:
    standin = DiscordStandIn(oauth_redirect_uris=(REDIRECT,))
    await standin.start()
    yield standin
    await standin.stop()


def basic_auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def authorize_url(server: DiscordStandIn, **overrides: str) -> str:
    query = {"response_type": "code", "client_id": server.oauth_client_id, "scope": "identify",
             "state": "s1", "redirect_uri": REDIRECT, **overrides}
    return f"{server.web_base}/oauth2/authorize?{urlencode(query)}"


async def signed_in_browser(server: DiscordStandIn, user: int = USER) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(server.login_url(user)) as response:
        assert response.status == 200
    return session


async def decide(session: aiohttp.ClientSession, url: str, decision: str) -> dict[str, list[str]]:
    """Open the consent screen, press a button; the query Discord redirects back with."""
    location = await sign_in_with_discord(session, url, decision=decision)
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


async def trade(server: DiscordStandIn, code: str, *, redirect_uri: str = REDIRECT,
                secret: str | None = None) -> tuple[int, dict]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    async with aiohttp.ClientSession() as session, session.post(
        f"{server.api_base}/oauth2/token", data=form,
        headers=basic_auth(server.oauth_client_id, secret or server.oauth_client_secret),
    ) as answer:
        return answer.status, await answer.json()


async def me(server: DiscordStandIn, token: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(
        f"{server.api_base}/users/@me", headers={"Authorization": f"Bearer {token}"}
    ) as answer:
        return answer.status, await answer.json()


async def test_the_signed_in_user_authorises_and_users_me_names_them(server: DiscordStandIn) -> None:
    """Authorize -> code and state back -> token (Bearer, identify) -> /users/@me is that user."""
    async with await signed_in_browser(server) as browser:
        answer = await decide(browser, authorize_url(server), "authorize")
    assert answer["state"] == ["s1"]
    status, token = await trade(server, answer["code"][0])
    assert status == 200 and token["token_type"] == "Bearer" and token["scope"] == "identify"
    status, user = await me(server, token["access_token"])
    assert status == 200 and user["id"] == str(USER) and user["username"]


async def test_cancel_sends_access_denied_back(server: DiscordStandIn) -> None:
    """Cancel redirects with error=access_denied and the state, and no code."""
    async with await signed_in_browser(server) as browser:
        answer = await decide(browser, authorize_url(server), "cancel")
    assert answer["error"] == ["access_denied"] and answer["state"] == ["s1"] and "code" not in answer


async def test_an_unregistered_redirect_uri_is_refused_without_redirecting(server: DiscordStandIn) -> None:
    """Discord shows its own error page; nothing goes to a redirect URI it does not know."""
    async with await signed_in_browser(server) as browser, browser.get(
        authorize_url(server, redirect_uri="http://127.0.0.1:9/elsewhere"), allow_redirects=False
    ) as page:
        assert page.status == 400 and "Invalid OAuth2 redirect_uri" in await page.text()


async def test_a_browser_not_signed_in_is_asked_to_log_in(server: DiscordStandIn) -> None:
    """Without the session cookie there is no one to authorise as."""
    async with aiohttp.ClientSession() as browser, browser.get(authorize_url(server), allow_redirects=False) as page:
        assert page.status == 401


async def test_a_code_works_once_and_only_with_its_redirect_uri(server: DiscordStandIn) -> None:
    """invalid_grant for a reused code and for a different redirect URI."""
    async with await signed_in_browser(server) as browser:
        code = (await decide(browser, authorize_url(server), "authorize"))["code"][0]
        other = (await decide(browser, authorize_url(server), "authorize"))["code"][0]
    assert (await trade(server, code))[0] == 200
    status, body = await trade(server, code)
    assert status == 400 and body == {"error": "invalid_grant", "error_description": 'Invalid "code" in request.'}
    status, body = await trade(server, other, redirect_uri="http://127.0.0.1:9/elsewhere")
    assert status == 400 and body["error"] == "invalid_grant"


async def test_a_wrong_client_secret_is_invalid_client(server: DiscordStandIn) -> None:
    """401 invalid_client, and the code is not used up."""
    async with await signed_in_browser(server) as browser:
        code = (await decide(browser, authorize_url(server), "authorize"))["code"][0]
    assert await trade(server, code, secret="wrong") == (401, {"error": "invalid_client"})
    assert (await trade(server, code))[0] == 200


async def test_a_json_token_request_is_refused(server: DiscordStandIn) -> None:
    """The token URL only accepts application/x-www-form-urlencoded."""
    async with aiohttp.ClientSession() as session, session.post(
        f"{server.api_base}/oauth2/token", json={"grant_type": "authorization_code", "code": "x"},
        headers=basic_auth(server.oauth_client_id, server.oauth_client_secret),
    ) as answer:
        assert answer.status == 400


async def test_users_me_refuses_an_unknown_or_scope_less_token(server: DiscordStandIn) -> None:
    """401 for a token Discord never issued, and for one without `identify`."""
    assert (await me(server, "forged"))[0] == 401
    async with await signed_in_browser(server) as browser:
        code = (await decide(browser, authorize_url(server, scope="guilds"), "authorize"))["code"][0]
    token = (await trade(server, code))[1]["access_token"]
    assert (await me(server, token))[0] == 401


async def test_prompt_none_skips_the_screen_once_authorised(server: DiscordStandIn) -> None:
    """A user who authorised these scopes goes straight back with a code; a new user sees the screen."""
    async with await signed_in_browser(server) as browser:
        await decide(browser, authorize_url(server), "authorize")
        async with browser.get(authorize_url(server, prompt="none"), allow_redirects=False) as again:
            assert again.status == 302 and "code=" in again.headers["Location"]
    async with await signed_in_browser(server, USER + 1) as other, other.get(
        authorize_url(server, prompt="none"), allow_redirects=False
    ) as first_time:
        assert first_time.status == 200


async def test_an_unknown_scope_comes_back_as_invalid_scope(server: DiscordStandIn) -> None:
    """error=invalid_scope at the redirect URI."""
    async with await signed_in_browser(server) as browser, browser.get(
        authorize_url(server, scope="identify nonsense"), allow_redirects=False
    ) as answer:
        assert answer.status == 302 and "error=invalid_scope" in answer.headers["Location"]
