"""The sandbox as the demo uses it: one app, one demo member with the demo library, and
playlists kept in a state file so a second demo run finds (and updates) the same playlists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sandbox.library import demo_library
from sandbox.server import SandboxServer
from sandbox.state import SandboxState

DEMO_USER = "genrebot-demo-member"


@asynccontextmanager
async def demo_sandbox(state_file: Path, client_id: str, client_secret: str, redirect_uri: str) -> AsyncIterator[str]:
    state = SandboxState(apps={client_id: client_secret}, redirect_uris={redirect_uri}, auto_approve=True)
    state.add_user(DEMO_USER, "Demo Member", demo_library())
    state.load_playlists(state_file)
    server = SandboxServer(state)
    base_url = await server.start()
    try:
        yield base_url
    finally:
        await server.stop()
        state.save_playlists(state_file)
