"""`WebServer`: what serving and stopping the web app leaves behind in the process."""

from __future__ import annotations

import gc
import weakref

from bot.member_browser import browser_session
from bot.web import LinkOutcome, WebServer, build_web_app
from tests.bot.conftest import World


class ResultListener:
    """Stands for what the bot hands the web app: an object the app's handlers keep a reference to."""

    def heard(self, outcome: LinkOutcome) -> None:
        pass


async def test_a_stopped_web_server_leaves_nothing_its_app_held_alive(world: World) -> None:
    """Once stopped, the app and what its handlers hold (the bot, in production) can be freed."""
    listener = ResultListener()
    server = WebServer("127.0.0.1", 0)
    port = await server.start(build_web_app(world.services.linking, listener.heard))
    async with browser_session() as browser, browser.get(f"http://127.0.0.1:{port}/healthz") as answer:
        assert answer.status == 200
    await server.stop()
    freed = weakref.ref(listener)
    del listener, server
    gc.collect()
    assert freed() is None, "something still holds the stopped app's listener"
