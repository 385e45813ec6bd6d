"""The bot's web pages: `/callback` (Spotify redirects a member here after /link) and `/healthz`.

Runs in the bot's own event loop. The page a member sees is small and self-contained; every
failure (bad, expired or reused state, refused consent, failed token exchange) shows what to do
next and stores nothing. The outcome is handed to `on_result` so Discord can confirm it.
"""

from __future__ import annotations

import html
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from limits import parse as parse_rate
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.services.errors import LinkFailed
from bot.services.linking import LinkedAccount, LinkService

log = logging.getLogger(__name__)

# A person links a few times at most; a client above this is guessing states.
CALLBACK_RATE = "30/minute"
MAX_PARAM_LENGTH = 2048  # Spotify's codes are a few hundred characters; anything far longer is not from it.


@dataclass(frozen=True)
class LinkOutcome:
    discord_id: int | None
    account: LinkedAccount | None
    problem: str | None


LinkListener = Callable[[LinkOutcome], None]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>genrebot · {title}</title>
<style>
 body {{ font-family: system-ui, sans-serif; background: #121212; color: #eee; margin: 0;
        display: flex; min-height: 100vh; align-items: center; justify-content: center; }}
 main {{ max-width: 28rem; padding: 2rem; margin: 1rem; background: #1e1e1e; border-radius: 12px; }}
 h1 {{ font-size: 1.4rem; color: {colour}; }}
 p {{ line-height: 1.5; }}
</style></head>
<body><main><h1>{title}</h1><p>{message}</p></main></body></html>
"""


def _page(title: str, message: str, *, ok: bool, status: int = 200) -> web.Response:
    body = _PAGE.format(
        title=html.escape(title),
        message=html.escape(message),
        colour="#1db954" if ok else "#ef4444",
    )
    return web.Response(
        text=body,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"},
    )


def build_web_app(
    linking: LinkService, on_result: LinkListener | None = None, *, callback_rate: str = CALLBACK_RATE
) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    # Per client address, in memory (expired windows are dropped), before any other work.
    limiter = MovingWindowRateLimiter(MemoryStorage())
    rate = parse_rate(callback_rate)

    async def callback(request: web.Request) -> web.Response:
        if not limiter.hit(rate, "oauth-callback", request.remote or "unknown"):
            response = _page(
                "Slow down", "Too many link attempts from here. Wait a minute, then run /link in Discord again.",
                ok=False, status=429,
            )
            response.headers["Retry-After"] = str(int(rate.get_expiry()))
            return response
        query = request.rel_url.query
        if any(len(v) > MAX_PARAM_LENGTH for v in query.values()) or len(query) > 20:
            return _page("Link failed", "That link is malformed. Run /link in Discord again.", ok=False, status=400)
        try:
            account = await linking.complete_link(
                state=query.get("state"), code=query.get("code"), error=query.get("error")
            )
        except LinkFailed as exc:
            _notify(on_result, LinkOutcome(exc.discord_id, None, str(exc)))
            return _page("Link failed", str(exc), ok=False, status=400)
        except Exception:
            log.exception("unexpected error in the OAuth callback")
            return _page(
                "Link failed", "Something went wrong on our side. Run /link in Discord to try again.",
                ok=False, status=500,
            )
        _notify(on_result, LinkOutcome(account.discord_id, account, None))
        return _page(
            "Linked!",
            f"Linked as {account.display_name}, you can go back to Discord.",
            ok=True,
        )

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/callback", callback)
    app.router.add_get("/healthz", healthz)
    return app


def _notify(listener: LinkListener | None, outcome: LinkOutcome) -> None:
    if listener is None:
        return
    try:
        listener(outcome)
    except Exception:  # telling Discord is a courtesy; the link itself is done
        log.exception("could not confirm a link in Discord")


class WebServer:
    """Serves a web app on a host and port; port 0 takes any free one.

    `bind()` takes the port before the app exists, so a caller can put its URL in the Spotify
    app's redirect URI first (the demo, the benchmarks); `start(app)` binds if needed and serves.
    """

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._socket: socket.socket | None = None
        self._runner: web.AppRunner | None = None

    def bind(self) -> int:
        if self._socket is None:
            family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self._host, self._port))
            except OSError:
                sock.close()
                raise
            self._socket = sock
        return int(self._socket.getsockname()[1])

    async def start(self, app: web.Application) -> int:
        port = self.bind()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        assert self._socket is not None
        await web.SockSite(self._runner, self._socket).start()
        return port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
