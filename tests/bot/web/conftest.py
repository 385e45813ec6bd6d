"""Browsers for the web app's tests: each has its own cookie jar, as two real browsers do."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp

from bot.member_browser import confirm
from tests.bot.conftest import World


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def confirmed(world: World, browser: aiohttp.ClientSession, discord_id: int) -> str:
    """/link for the member, confirmed in `browser`: Spotify's consent URL genrebot sent it to."""
    next_url = await confirm(browser, await world.link_url(discord_id))
    assert isinstance(next_url, str), next_url
    return next_url


async def get(browser: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with browser.get(url) as response:
        return response.status, await response.text()
