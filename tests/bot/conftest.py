"""The services wired to real parts: a SQLite file, the shipped model, and the Spotify sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.member_browser import PageSeen, browser_session, walk_link_flow
from bot.services.linking import DiscordMember
from bot.services.root import Services
from bot.settings import Settings
from bot.web import WebServer, build_web_app
from sandbox.browser import approve
from sandbox.library import demo_library, synthetic_library
from sandbox.server import SandboxServer
from sandbox.state import SandboxState

CLIENT_ID, CLIENT_SECRET = "bot-test-client", "bot-test-secret"
ALICE_SONGS = len(demo_library())  # Alice likes the demo library


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    services: Services
    sandbox: SandboxState
    web_port: int
    clock: Clock

    @property
    def web_base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    async def link_url(self, discord_id: int) -> str:
        """What /link gives the member: the URL of genrebot's confirmation page."""
        return await self.services.linking.start_link(
            DiscordMember(discord_id, f"Member {discord_id}", f"member{discord_id}")
        )

    async def link(self, discord_id: int, spotify_user: str) -> PageSeen:
        """A member opens the /link URL in a browser logged in as `spotify_user`, confirms and approves."""
        async with browser_session() as session:
            return await walk_link_flow(session, await self.link_url(discord_id), spotify_user=spotify_user)


def settings_for(data_dir: Path, sandbox_base: str, redirect_uri: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        spotify_client_id=CLIENT_ID,
        spotify_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        spotify_redirect_uri=redirect_uri,
        spotify_api_base=f"{sandbox_base}/v1",
        spotify_accounts_base=sandbox_base,
        token_encryption_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
        spotify_request_budget=100_000,  # these tests are not about pacing (tests/bot/spotify/test_gate.py is)
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    web = WebServer("127.0.0.1", 0)
    port = web.bind()
    redirect = f"http://127.0.0.1:{port}/callback"
    state = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={redirect})
    state.add_user("alice", "Alice", demo_library())
    state.add_user("bob", "Bob", synthetic_library(1200, seed=5))
    sandbox = SandboxServer(state)
    base = await sandbox.start()
    clock = Clock(datetime(2026, 11, 24, 12, tzinfo=UTC))
    services = await Services.open(settings_for(tmp_path, base, redirect), clock=clock)
    await web.start(build_web_app(services.linking))
    yield World(services, state, port, clock)
    await web.stop()
    await services.close()
    await sandbox.stop()


async def link_directly(services: Services, discord_id: int, spotify_user: str) -> None:
    """The OAuth flow without the web hop: confirmation (binding a browser), Spotify's consent page
    (Agree), the redirect read, then the callback's service call from the same browser."""
    member = DiscordMember(discord_id, f"Member {discord_id}", f"member{discord_id}")
    state = parse_qs(urlparse(await services.linking.start_link(member)).query)["state"][0]
    browser = "browser-of-the-test"
    authorize_url = await services.linking.confirm_link(state, browser) + f"&sandbox_user={spotify_user}"
    async with aiohttp.ClientSession() as session:
        response = await approve(session, authorize_url, follow=False)
        query = parse_qs(urlparse(response.headers["Location"]).query)
    await services.linking.complete_link(state=query["state"][0], code=query["code"][0], error=None, browser=browser)
