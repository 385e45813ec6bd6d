"""A runtime wired to real parts: a SQLite file, the shipped model, and the Spotify sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import WebServer, build_web_app
from sandbox.library import demo_library, synthetic_library
from sandbox.server import SandboxServer
from sandbox.state import SandboxState

CLIENT_ID, CLIENT_SECRET = "bot-test-client", "bot-test-secret"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    runtime: Runtime
    sandbox: SandboxState
    web_port: int
    clock: Clock

    async def link(self, discord_id: int, spotify_user: str) -> aiohttp.ClientResponse:
        """A member opens the /link URL in a browser logged in as `spotify_user`, and approves."""
        url = await self.runtime.accounts.start_link(discord_id) + f"&sandbox_user={spotify_user}"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            await response.read()
            return response


@pytest.fixture
async def world(tmp_path: Path, unused_tcp_port: int) -> AsyncIterator[World]:
    redirect = f"http://127.0.0.1:{unused_tcp_port}/callback"
    state = SandboxState(apps={CLIENT_ID: CLIENT_SECRET}, redirect_uris={redirect})
    state.add_user("alice", "Alice", demo_library())
    state.add_user("bob", "Bob", synthetic_library(1200, seed=5))
    sandbox = SandboxServer(state)
    base = await sandbox.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        spotify_client_id=CLIENT_ID,
        spotify_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        spotify_redirect_uri=redirect,
        spotify_api_base=f"{base}/v1",
        spotify_accounts_base=base,
        token_encryption_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
    )
    clock = Clock(datetime(2026, 11, 24, 12, tzinfo=UTC))
    runtime = await Runtime.open(settings, clock=clock)
    web = WebServer(build_web_app(runtime.accounts), "127.0.0.1", unused_tcp_port)
    await web.start()
    yield World(runtime, state, unused_tcp_port, clock)
    await web.stop()
    await runtime.close()
    await sandbox.stop()
