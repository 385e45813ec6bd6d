"""genrebot's confirmation page and the browser binding (issue #14 item 3): a /link URL names the
Discord member it is for, is confirmed by a CSRF-protected POST that binds the state to that
browser, and Spotify's answer links only in that browser. Two "browsers" are two aiohttp sessions
with their own cookie jars; Spotify is the sandbox, through spotipy."""

from __future__ import annotations

import re

from bot.member_browser import browser_session, confirm, on_spotify, open_page
from storage.records import LinkStatus
from tests.bot.conftest import World
from tests.bot.web.conftest import confirmed, query_of

MEMBER = 222


async def linked_spotify_account(world: World, discord_id: int = MEMBER) -> str | None:
    user = await world.services.linking.member(discord_id)
    return user.spotify_id if user is not None and user.status == LinkStatus.LINKED else None


async def test_the_link_page_names_the_discord_member_and_links_nothing_yet(world: World) -> None:
    """Opening the /link URL shows genrebot's page naming the member (display name and @username);
    nothing is linked and the state is not used up."""
    url = await world.link_url(MEMBER)
    assert url.startswith(f"{world.web_base}/link?state=")
    async with browser_session() as browser:
        page = await open_page(browser, url)
    assert page.status == 200
    assert "<strong>Member 222</strong>" in page.text and "@member222" in page.text
    assert await linked_spotify_account(world) is None
    assert await world.services.db.oauth_states.pending(query_of(url)["state"])


async def test_confirming_binds_the_browser_with_a_strict_cookie(world: World) -> None:
    """The page's cookie is HttpOnly and SameSite=Lax (Secure only over https: see test_browser_binding)."""
    async with browser_session() as browser, browser.get(await world.link_url(MEMBER)) as page:
        cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("genrebot-browser=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie


async def test_confirming_leads_to_spotifys_consent_page_always_shown(world: World) -> None:
    """The POST answers 303 to Spotify's authorize URL with show_dialog=true; the sandbox then
    shows its consent page even to a Spotify user who approved genrebot before."""
    await world.link(MEMBER, "alice")  # alice approved genrebot once already
    async with browser_session() as browser:
        consent_url = await confirmed(world, browser, MEMBER)
        assert query_of(consent_url)["show_dialog"] == "true"
        async with browser.get(consent_url + "&sandbox_user=alice", allow_redirects=False) as consent:
            assert consent.status == 200 and "Agree" in await consent.text()


async def test_a_confirmation_without_its_csrf_token_is_refused(world: World) -> None:
    """A POST whose token does not match this browser and state is refused; nothing is bound."""
    url = await world.link_url(MEMBER)
    state = query_of(url)["state"]
    async with browser_session() as browser:
        await open_page(browser, url)  # the browser has its cookie
        async with browser.post(f"{world.web_base}/link", data={"state": state, "csrf": "0" * 64},
                                allow_redirects=False) as forged:
            assert forged.status == 403 and "expired or came from somewhere else" in await forged.text()
    async with browser_session() as owner:
        assert isinstance(await confirm(owner, url), str)  # still unbound: the owner can confirm


async def test_a_confirmation_from_a_browser_without_the_cookie_is_refused(world: World) -> None:
    """A cross-site form (no cookie: SameSite) cannot confirm a link for someone else's browser."""
    url = await world.link_url(MEMBER)
    async with browser_session() as owner:
        page = await open_page(owner, url)
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None
    async with browser_session() as attacker, attacker.post(
        f"{world.web_base}/link", data={"state": query_of(url)["state"], "csrf": token.group(1)}, allow_redirects=False
    ) as answer:
        assert answer.status == 403 and "cookie" in await answer.text()


async def test_a_consent_url_finished_in_another_browser_links_nothing(world: World) -> None:
    """The forwarding attack: the member confirms, then sends Spotify's consent URL to a stranger,
    who approves with their own Spotify account. The callback in the stranger's browser is refused
    with a clear page and stores nothing; the member's own browser still links afterwards."""
    async with browser_session() as members_browser, browser_session() as strangers_browser:
        consent_url = await confirmed(world, members_browser, MEMBER)
        strangers_page = await on_spotify(strangers_browser, consent_url, spotify_user="bob")
        assert strangers_page.status == 400 and "confirmed in a different browser" in strangers_page.text
        assert await linked_spotify_account(world) is None
        owners_page = await on_spotify(members_browser, consent_url, spotify_user="alice")
    assert owners_page.status == 200 and "is now linked" in owners_page.text
    assert await linked_spotify_account(world) == world.sandbox.users["alice"].account_id


async def test_a_link_confirmed_in_one_browser_cannot_be_confirmed_in_another(world: World) -> None:
    """A /link URL forwarded after the member confirmed it is refused at the stranger's confirmation."""
    url = await world.link_url(MEMBER)
    async with browser_session() as members_browser, browser_session() as strangers_browser:
        assert isinstance(await confirm(members_browser, url), str)
        answer = await confirm(strangers_browser, url)
    assert not isinstance(answer, str) and answer.status == 400 and "confirmed in a different browser" in answer.text


async def test_a_consent_url_made_without_the_confirmation_page_links_nothing(world: World) -> None:
    """Someone who builds Spotify's consent URL from the state in a /link URL, skipping genrebot's
    page, gets nothing: the callback needs a state a browser confirmed."""
    state = query_of(await world.link_url(MEMBER))["state"]
    crafted = world.services.spotify_app.authorize_url(state)
    async with browser_session() as strangers_browser:
        page = await on_spotify(strangers_browser, crafted, spotify_user="bob")
    assert page.status == 400 and "skipped genrebot" in page.text
    assert await linked_spotify_account(world) is None


async def test_the_result_page_names_both_accounts(world: World) -> None:
    """After linking, the page names the Spotify account (display name and id) and the Discord member."""
    page = await world.link(MEMBER, "alice")
    alice = world.sandbox.users["alice"]
    assert page.status == 200
    assert f"<strong>{alice.display_name}</strong>" in page.text and alice.account_id in page.text
    assert "<strong>Member 222</strong>" in page.text and "/unlink" in page.text
