"""The OAuth callback web app: `/callback` (Spotify redirects here) and `/healthz`.

Runs in the bot's own event loop. The page a member sees is small and self-contained; every
failure (bad, expired or reused state, refused consent, failed token exchange) shows what to do
next and stores nothing. The outcome is handed to `on_result` so Discord can confirm it.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.services.accounts import LinkedAccount, SpotifyAccounts
from bot.services.errors import LinkFailed

log = logging.getLogger(__name__)

MAX_PARAM_LENGTH = 2048  # Spotify's codes are a few hundred characters; anything far longer is not from it.


@dataclass(frozen=True)
class LinkOutcome:
    discord_id: int | None
    account: LinkedAccount | None
    problem: str | None


LinkListener = Callable[[LinkOutcome], Awaitable[None]]

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


def build_web_app(accounts: SpotifyAccounts, on_result: LinkListener | None = None) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)

    async def callback(request: web.Request) -> web.Response:
        query = request.rel_url.query
        if any(len(v) > MAX_PARAM_LENGTH for v in query.values()) or len(query) > 20:
            return _page("Link failed", "That link is malformed. Run /link in Discord again.", ok=False, status=400)
        try:
            account = await accounts.complete_link(
                state=query.get("state"), code=query.get("code"), error=query.get("error")
            )
        except LinkFailed as exc:
            await _notify(on_result, LinkOutcome(exc.discord_id, None, str(exc)))
            return _page("Link failed", str(exc), ok=False, status=400)
        except Exception:
            log.exception("unexpected error in the OAuth callback")
            return _page(
                "Link failed", "Something went wrong on our side. Run /link in Discord to try again.",
                ok=False, status=500,
            )
        await _notify(on_result, LinkOutcome(account.discord_id, account, None))
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


async def _notify(listener: LinkListener | None, outcome: LinkOutcome) -> None:
    if listener is None:
        return
    try:
        await listener(outcome)
    except Exception:  # telling Discord is a courtesy; the link itself is done
        log.exception("could not confirm a link in Discord")


class WebServer:
    """Starts and stops the callback app on the configured host and port."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self._host = host
        self._port = port
        self.port: int | None = None

    async def start(self) -> int:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        return self.port

    async def stop(self) -> None:
        await self._runner.cleanup()
