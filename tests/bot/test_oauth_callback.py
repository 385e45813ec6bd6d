"""The OAuth callback page: every hostile or broken redirect shows an error and stores nothing."""

from __future__ import annotations

import aiohttp

from storage.records import LinkStatus
from tests.bot.conftest import World

MEMBER = 222


async def get(world: World, query: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(
        f"http://127.0.0.1:{world.web_port}/callback?{query}"
    ) as response:
        return response.status, await response.text()


async def nothing_stored(world: World) -> bool:
    return await world.runtime.db.users.get(MEMBER) is None and await world.runtime.db.tokens.load(MEMBER) is None


async def test_forged_state_is_refused(world: World) -> None:
    status, page = await get(world, "code=abc&state=forged")
    assert status == 400 and "link isn&#x27;t valid" in page and await nothing_stored(world)


async def test_replayed_state_is_refused(world: World) -> None:
    url = await world.runtime.accounts.start_link(MEMBER) + "&sandbox_user=alice"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, allow_redirects=False) as redirect:
            callback = redirect.headers["Location"]
        async with session.get(callback) as first:
            assert first.status == 200
        async with session.get(callback) as replay:
            assert replay.status == 400 and "already used" in await replay.text()


async def test_expired_state_is_refused(world: World) -> None:
    state = await world.runtime.db.oauth_states.create(MEMBER, ttl_seconds=-1)
    status, page = await get(world, f"code=abc&state={state}")
    assert status == 400 and "expired" in page and await nothing_stored(world)


async def test_refused_consent_stores_nothing(world: World) -> None:
    state = await world.runtime.db.oauth_states.create(MEMBER)
    status, page = await get(world, f"error=access_denied&state={state}")
    assert status == 400 and "declined" in page and await nothing_stored(world)


async def test_callback_without_code_or_state(world: World) -> None:
    assert (await get(world, ""))[0] == 400
    state = await world.runtime.db.oauth_states.create(MEMBER)
    status, page = await get(world, f"state={state}")
    assert status == 400 and "no authorisation code" in page and await nothing_stored(world)


async def test_bad_code_is_a_token_exchange_failure(world: World) -> None:
    state = await world.runtime.db.oauth_states.create(MEMBER)
    status, page = await get(world, f"code=not-a-real-code&state={state}")
    assert status == 400 and "accept the sign-in" in page and await nothing_stored(world)


async def test_oversized_and_markup_queries_are_refused_safely(world: World) -> None:
    status, _ = await get(world, "state=" + "x" * 5000 + "&code=y")
    assert status == 400
    status, page = await get(world, "state=%3Cscript%3Ealert(1)%3C/script%3E&code=%27%3B%20DROP%20TABLE%20users")
    assert status == 400 and "<script>" not in page
    assert (await world.runtime.db.sql.fetchall("SELECT COUNT(*) AS n FROM users"))[0]["n"] == 0


async def test_state_bound_to_another_member_links_that_member_only(world: World) -> None:
    """A state is bound to the member who ran /link: whoever opens it links that member."""
    url = await world.runtime.accounts.start_link(MEMBER) + "&sandbox_user=bob"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
    user = await world.runtime.db.users.get(MEMBER)
    assert user is not None and user.status == LinkStatus.LINKED
    assert await world.runtime.db.users.get(MEMBER + 1) is None


async def test_healthz(world: World) -> None:
    async with aiohttp.ClientSession() as session, session.get(
        f"http://127.0.0.1:{world.web_port}/healthz"
    ) as response:
        assert response.status == 200 and (await response.json()) == {"status": "ok"}
