"""`SandboxServer`: what serving and stopping the sandbox leaves behind in the process."""

from __future__ import annotations

import gc
import weakref

import aiohttp

from sandbox.library import synthetic_library
from sandbox.server import SandboxServer
from sandbox.state import SandboxState


async def test_a_stopped_sandbox_leaves_its_state_to_be_freed() -> None:
    """Once stopped, the sandbox's state (every user's library) is not kept alive by the server."""
    state = SandboxState(apps={"client": "secret"})
    state.add_user("alice", "Alice", synthetic_library(50, seed=1))
    server = SandboxServer(state)
    base = await server.start()
    async with aiohttp.ClientSession() as session, session.get(f"{base}/v1/me") as answer:
        assert answer.status == 401  # through the sandbox's middleware, like every request
    await server.stop()
    freed = weakref.ref(state)
    del state, server
    gc.collect()
    assert freed() is None, "something still holds the stopped sandbox's state"
