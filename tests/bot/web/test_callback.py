"""Spotify's redirect back to /callback: every hostile or broken redirect shows an error and
stores nothing; a good one links the member who ran /link."""

from __future__ import annotations

import asyncio
import re

import aiohttp

from bot.member_browser import browser_session, on_spotify, open_page, walk_link_flow
from bot.web import WebServer, build_web_app
from bot.web.app import LinkOutcome
from sandbox import browser as spotify_consent
from storage.records import LinkStatus
from tests.bot.conftest import World
from tests.bot.web.conftest import confirmed, get, query_of

MEMBER = 222
OTHER = 333


async def nothing_stored(world: World) -> bool:
    return await world.services.db.users.get(MEMBER) is None and await world.services.db.tokens.load(MEMBER) is None


async def test_forged_state_is_refused(world: World) -> None:
    """A state genrebot never issued shows an error and stores nothing."""
    async with browser_session() as browser:
        status, page = await get(browser, f"{world.web_base}/callback?code=abc&state=forged")
    assert status == 400 and "link isn&#39;t valid" in page and await nothing_stored(world)


async def test_replayed_callback_is_refused(world: World) -> None:
    """A callback URL used once is refused in another browser, and in its own when the link failed."""
    async with browser_session() as browser, browser_session() as stranger:
        consent = await confirmed(world, browser, MEMBER)
        redirect = await spotify_consent.approve(browser, consent + "&sandbox_user=alice", follow=False)
        callback = redirect.headers["Location"]
        assert (await get(browser, callback))[0] == 200
        status, page = await get(stranger, callback)
        assert status == 400 and "already used" in page
        state = query_of(await confirmed(world, browser, OTHER))["state"]
        assert (await get(browser, f"{world.web_base}/callback?code=not-a-real-code&state={state}"))[0] == 400
        status, page = await get(browser, f"{world.web_base}/callback?code=not-a-real-code&state={state}")
    assert status == 400 and "already used" in page and await world.services.db.users.get(OTHER) is None


async def test_a_finished_link_reloaded_in_its_browser_shows_it_linked_and_does_nothing_more(world: World) -> None:
    """Reload (or Back to Spotify, which redirects again) after linking, in the browser that linked:
    the page says the account is linked, as it is, not "Not linked"; no code is exchanged again
    (the link stays as made) and Discord is not told a second time."""
    outcomes: list[LinkOutcome] = []
    listening = WebServer("127.0.0.1", 0)
    port = listening.bind()
    await listening.start(build_web_app(world.services.linking, outcomes.append))
    try:
        async with browser_session() as browser:
            consent = await confirmed(world, browser, MEMBER)
            redirect = await spotify_consent.approve(browser, consent + "&sandbox_user=alice", follow=False)
            callback = redirect.headers["Location"]
            assert (await get(browser, callback))[0] == 200
            linked = await world.services.db.users.get(MEMBER)
            status, page = await get(browser, callback.replace(f":{world.web_port}/", f":{port}/"))
    finally:
        await listening.stop()
    assert status == 200 and "already linked" in page and "<strong>Alice</strong>" in page
    assert outcomes == [] and await world.services.db.users.get(MEMBER) == linked


async def test_the_link_button_opened_again_after_linking_says_the_account_is_linked(world: World) -> None:
    """The /link button's page opened again (or reached with Back, and its Continue pressed) in the
    browser that linked says linked, naming the accounts; in another browser the used link is refused."""
    url = await world.link_url(MEMBER)
    async with browser_session() as browser, browser_session() as stranger:
        form = (await open_page(browser, url)).text  # what Back may show again as it was
        assert (await walk_link_flow(browser, url, spotify_user="alice")).status == 200
        status, page = await get(browser, url)
        assert status == 200 and "already linked" in page and "<strong>Alice</strong>" in page
        fields = dict(re.findall(r'name="(state|csrf)" value="([^"]+)"', form))
        async with browser.post(f"{world.web_base}/link", data=fields, allow_redirects=False) as again:
            assert again.status == 200 and "already linked" in await again.text()  # its Continue pressed
        status, page = await get(stranger, url)
    assert status == 400 and "already used" in page


async def test_expired_state_is_refused(world: World) -> None:
    """A state older than its ten minutes is refused and stores nothing."""
    state = await world.services.db.oauth_states.create(MEMBER, ttl_seconds=-1)
    async with browser_session() as browser:
        status, page = await get(browser, f"{world.web_base}/callback?code=abc&state={state}")
    assert status == 400 and "expired" in page and await nothing_stored(world)


async def test_refused_consent_stores_nothing(world: World) -> None:
    """A member who presses Cancel on Spotify's page is told so and nothing is stored."""
    async with browser_session() as browser:
        page = await on_spotify(browser, await confirmed(world, browser, MEMBER), spotify_user="alice", agree=False)
    assert page.status == 400 and "declined" in page.text and await nothing_stored(world)


async def test_callback_without_code_or_state(world: World) -> None:
    """A callback missing its state or its code is refused and stores nothing."""
    async with browser_session() as browser:
        assert (await get(browser, f"{world.web_base}/callback"))[0] == 400
        state = query_of(await confirmed(world, browser, MEMBER))["state"]
        status, page = await get(browser, f"{world.web_base}/callback?state={state}")
    assert status == 400 and "no authorisation code" in page and await nothing_stored(world)


async def test_one_callback_opened_in_two_tabs_at_once_links_once(world: World) -> None:
    """The same callback URL loaded in two tabs of one browser at once: one tab links, the other says the
    link was already used, and Spotify is asked for tokens once."""
    async with browser_session() as browser:
        consent = await confirmed(world, browser, MEMBER)
        redirect = await spotify_consent.approve(browser, consent + "&sandbox_user=alice", follow=False)
        callback = redirect.headers["Location"]
        answers = await asyncio.gather(get(browser, callback), get(browser, callback))
    assert sorted(status for status, _ in answers) == [200, 400]
    assert any("already used" in page for status, page in answers if status == 400)
    assert world.sandbox.count("POST", path_prefix="/api/token") == 1
    user = await world.services.linking.member(MEMBER)
    assert user is not None and user.status == LinkStatus.LINKED


async def test_a_callback_arriving_after_the_member_unlinked_links_nothing(world: World) -> None:
    """A linked member runs /link again, approves, then runs /unlink before the callback arrives: the
    callback is refused as no longer valid, and the member stays unlinked."""
    await world.link(MEMBER, "alice")
    async with browser_session() as browser:
        consent = await confirmed(world, browser, MEMBER)
        redirect = await spotify_consent.approve(browser, consent + "&sandbox_user=alice", follow=False)
        assert await world.services.linking.unlink(MEMBER)
        status, page = await get(browser, redirect.headers["Location"])
    assert status == 400 and "link isn&#39;t valid" in page
    user = await world.services.linking.member(MEMBER)
    assert user is not None and user.status == LinkStatus.UNLINKED
    assert await world.services.db.tokens.load(MEMBER) is None


async def test_bad_code_is_a_token_exchange_failure(world: World) -> None:
    """A code Spotify rejects shows a sign-in failure and stores nothing."""
    async with browser_session() as browser:
        state = query_of(await confirmed(world, browser, MEMBER))["state"]
        status, page = await get(browser, f"{world.web_base}/callback?code=not-a-real-code&state={state}")
    assert status == 400 and "accept the sign-in" in page and await nothing_stored(world)


async def test_oversized_and_markup_queries_are_refused_safely(world: World) -> None:
    """Oversized or hostile query values are refused, never echoed as markup, never stored."""
    async with browser_session() as browser:
        status, _ = await get(browser, f"{world.web_base}/callback?state={'x' * 5000}&code=y")
        assert status == 400
        status, page = await get(
            browser, f"{world.web_base}/callback?state=%3Cscript%3Ealert(1)%3C/script%3E&code=%27%3B%20DROP%20TABLE%20users"
        )
    assert status == 400 and "<script>" not in page
    assert (await world.services.db.sql.fetchall("SELECT COUNT(*) AS n FROM users"))[0]["n"] == 0


async def test_a_link_url_links_the_member_who_asked_for_it(world: World) -> None:
    """Two members ask for /link; the browser that walks the first URL links the first member only."""
    first = await world.link_url(MEMBER)
    await world.link_url(OTHER)  # asked later, never opened
    async with browser_session() as browser:
        page = await walk_link_flow(browser, first, spotify_user="bob")
    assert page.status == 200
    user = await world.services.linking.member(MEMBER)
    assert user is not None and user.status == LinkStatus.LINKED
    assert user.spotify_id == world.sandbox.users["bob"].account_id
    assert await world.services.linking.member(OTHER) is None


async def get_from(address: str, world: World) -> tuple[int, str | None]:
    """A forged callback from the loopback address `address` (127.0.0.x all reach this machine)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as session, session.get(
        f"http://127.0.0.1:{world.web_port}/callback?code=x&state=forged"
    ) as response:
        return response.status, response.headers.get("Retry-After")


async def test_a_client_guessing_states_is_slowed_down_without_slowing_others(world: World) -> None:
    """Past 30 callbacks a minute one address gets 429 with Retry-After; another address is still served."""
    answers = [await get_from("127.0.0.2", world) for _ in range(35)]
    assert [status for status, _ in answers[:30]] == [400] * 30
    assert {answer for answer in answers[30:]} == {(429, "60")}
    assert (await get_from("127.0.0.3", world))[0] == 400


async def test_a_member_opening_link_pages_is_limited_per_page_not_across_the_flow(world: World) -> None:
    """30 link pages from one address still leave it its 30 callbacks: a link passes several pages."""
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.4", 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(30):
            async with session.get(f"http://127.0.0.1:{world.web_port}/link?state=forged") as response:
                assert response.status == 400
    assert (await get_from("127.0.0.4", world))[0] == 400
