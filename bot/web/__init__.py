"""The bot's web app: the pages of the /link flow (genrebot's confirmation page, the result
pages), Spotify's and Discord's OAuth callbacks, and `/healthz`; served inside the bot's event loop.

`app` holds the routes, `pages` the one look (layout, stylesheet, security headers),
`browser_binding` the cookie that keeps a link to one browser, `server` the `WebServer`.
"""

from bot.web.app import LinkListener, LinkOutcome, build_web_app
from bot.web.server import CannotListen, WebServer

__all__ = ["CannotListen", "LinkListener", "LinkOutcome", "WebServer", "build_web_app"]
