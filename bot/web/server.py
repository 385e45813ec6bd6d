"""`WebServer`: serves the web app on a host and port inside the bot's event loop."""

from __future__ import annotations

import errno
import socket

from aiohttp import web, web_app


class CannotListen(Exception):
    """The web app's address cannot be taken: its port is in use, or the host is not this machine's."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        self.host, self.port = host, port
        self.in_use = error.errno == errno.EADDRINUSE
        self.not_here = error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror)
        self.reason = error.strerror or str(error)
        super().__init__(f"cannot listen on {host}:{port}: {self.reason}")


class WebServer:
    """Serves a web app on a host and port; port 0 takes any free one.

    `bind()` takes the port before the app exists, so a caller can put its URL in the Spotify
    app's redirect URI first (the demo, the benchmarks); `start(app)` binds if needed and serves.
    Both raise CannotListen when the address cannot be taken.
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
            except OSError as exc:
                sock.close()
                raise CannotListen(self._host, self._port, exc) from exc
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
            forget_middleware_chains()
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def forget_middleware_chains() -> None:
    """Empty aiohttp's process-wide cache of middleware chains (`web_app._cached_build_middleware`,
    aiohttp 3.11+: 1,024 entries keyed on each route's handler and app). Otherwise a stopped app
    stays alive with everything its handlers hold: the bot, its services and model, ~110 MB per
    restart in one process (the e2e tests grew to 7 GB). Apps still serving rebuild their chain
    on their next request."""
    cache = getattr(web_app, "_cached_build_middleware", None)
    if cache is not None:
        cache.cache_clear()
