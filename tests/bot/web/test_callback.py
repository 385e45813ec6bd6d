"""The bot's web pages: the OAuth callback (every hostile or broken redirect shows an error and
stores nothing) and the health check."""

from __future__ import annotations

import aiohttp

from storage.records import LinkStatus
from tests.bot.conftest import World

MEMBER = 222
OTHER = 333


async def get(world: World, query: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(
        f"http://127.0.0.1:{world.web_port}/callback?{query}"
    ) as response:
        return response.status, await response.text()


async def nothing_stored(world: World) -> bool:
    return await world.services.db.users.get(MEMBER) is None and await world.services.db.tokens.load(MEMBER) is None


async def test_forged_state_is_refused(world: World) -> None:
    """A state genrebot never issued shows an error and stores nothing."""
    status, page = await get(world, "code=abc&state=forged")
    assert status == 400 and "link isn&#x27;t valid" in page and await nothing_stored(world)


async def test_replayed_state_is_refused(world: World) -> None:
    """A callback URL used once is refused the second time."""
    url = await world.services.linking.start_link(MEMBER) + "&sandbox_user=alice"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, allow_redirects=False) as redirect:
            callback = redirect.headers["Location"]
        async with session.get(callback) as first:
            assert first.status == 200
        async with session.get(callback) as replay:
            assert replay.status == 400 and "already used" in await replay.text()


async def test_expired_state_is_refused(world: World) -> None:
    """A state older than its ten minutes is refused and stores nothing."""
    state = await world.services.db.oauth_states.create(MEMBER, ttl_seconds=-1)
    status, page = await get(world, f"code=abc&state={state}")
    assert status == 400 and "expired" in page and await nothing_stored(world)


async def test_refused_consent_stores_nothing(world: World) -> None:
    """A member who declines on Spotify's page is told so and nothing is stored."""
    state = await world.services.db.oauth_states.create(MEMBER)
    status, page = await get(world, f"error=access_denied&state={state}")
    assert status == 400 and "declined" in page and await nothing_stored(world)


async def test_callback_without_code_or_state(world: World) -> None:
    """A callback missing its state or its code is refused and stores nothing."""
    assert (await get(world, ""))[0] == 400
    state = await world.services.db.oauth_states.create(MEMBER)
    status, page = await get(world, f"state={state}")
    assert status == 400 and "no authorisation code" in page and await nothing_stored(world)


async def test_bad_code_is_a_token_exchange_failure(world: World) -> None:
    """A code Spotify rejects shows a sign-in failure and stores nothing."""
    state = await world.services.db.oauth_states.create(MEMBER)
    status, page = await get(world, f"code=not-a-real-code&state={state}")
    assert status == 400 and "accept the sign-in" in page and await nothing_stored(world)


async def test_oversized_and_markup_queries_are_refused_safely(world: World) -> None:
    """Oversized or hostile query values are refused, never echoed as markup, never stored."""
    status, _ = await get(world, "state=" + "x" * 5000 + "&code=y")
    assert status == 400
    status, page = await get(world, "state=%3Cscript%3Ealert(1)%3C/script%3E&code=%27%3B%20DROP%20TABLE%20users")
    assert status == 400 and "<script>" not in page
    assert (await world.services.db.sql.fetchall("SELECT COUNT(*) AS n FROM users"))[0]["n"] == 0


async def test_a_link_url_links_the_member_who_asked_for_it(world: World) -> None:
    """Two members ask for /link; whoever's browser opens the first URL links the first member only."""
    first = await world.services.linking.start_link(MEMBER)
    await world.services.linking.start_link(OTHER)  # asked later, never opened
    async with aiohttp.ClientSession() as session, session.get(first + "&sandbox_user=bob") as response:
        assert response.status == 200
    user = await world.services.linking.member(MEMBER)
    assert user is not None and user.status == LinkStatus.LINKED
    assert user.spotify_id == world.sandbox.users["bob"].account_id
    assert await world.services.linking.member(OTHER) is None


async def test_healthz(world: World) -> None:
    """/healthz answers 200 with a status of ok."""
    async with aiohttp.ClientSession() as session, session.get(
        f"http://127.0.0.1:{world.web_port}/healthz"
    ) as response:
        assert response.status == 200 and (await response.json()) == {"status": "ok"}


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
