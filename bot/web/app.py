"""The routes of the bot's web app: the link flow's pages, Spotify's (and Discord's) callbacks,
the stylesheet and `/healthz`.

The link flow, in the member's browser:
  GET  /link?state=…       genrebot's confirmation page: names the Discord member the link is
                           for; gives this browser its secret (cookie) and the form its CSRF token
  POST /link               the member confirms: the state is bound to this browser, then
                           303 to Discord's sign-in (when configured) or to Spotify's consent page
  GET  /discord-callback   Discord says who signed in; must be the member, in the same browser
  GET  /callback           Spotify's answer: the code is exchanged only in the bound browser
Every failure shows what to do next and stores nothing. The outcome of a callback is handed to
`on_result` so Discord can confirm it (and name the linked Spotify account) to the member.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web
from limits import parse as parse_rate
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.services.errors import LinkFailed
from bot.services.linking import LinkedAccount, LinkService
from bot.web.browser_binding import BrowserBinding
from bot.web.pages import STATIC_DIR, Pages, content_security_policy

log = logging.getLogger(__name__)

# A person links a few times at most; a client above this is guessing states.
CALLBACK_RATE = "30/minute"
MAX_PARAM_LENGTH = 2048  # Spotify's codes are a few hundred characters; anything far longer is not from it.
MAX_PARAMS = 20


@dataclass(frozen=True)
class LinkOutcome:
    """What a callback ended in, for Discord to tell the member: the account linked, or why not
    (the failure itself, so the Discord side words and escapes it its own way)."""

    discord_id: int | None
    account: LinkedAccount | None
    failure: LinkFailed | None


LinkListener = Callable[[LinkOutcome], None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_COOKIES_NEEDED = (
    "genrebot keeps this sign-in to the browser that opened the link with a cookie. Allow cookies "
    "for this site, then open the /link button in Discord again."
)


def build_web_app(
    linking: LinkService, on_result: LinkListener | None = None, *, callback_rate: str = CALLBACK_RATE
) -> web.Application:
    addresses = linking.addresses
    pages = Pages(addresses.public_path, content_security_policy(addresses.form_targets))
    binding = BrowserBinding(secure=addresses.secure)
    # Per client address and per route, in memory (expired windows are dropped), before any other
    # work, on every route that takes a state. One link passes three or four of them (the page, the
    # form, the Discord check, the callback), so each route counts apart: `callback_rate` is link
    # attempts, not requests.
    limiter = MovingWindowRateLimiter(MemoryStorage())
    rate = parse_rate(callback_rate)

    def too_many(request: web.Request) -> web.Response | None:
        route = f"{request.method} {request.path}"
        if limiter.hit(rate, "link-route", route, request.remote or "unknown"):
            return None
        response = pages.problem(
            "Slow down", "Too many link attempts from here.",
            hint="Wait a minute, then run /link in Discord again.", status=429,
        )
        response.headers["Retry-After"] = str(int(rate.get_expiry()))
        return response

    @web.middleware
    async def every_answer(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Our page for a missing page or method, and the security headers on every answer."""
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = pages.problem("Page not found", "There is no page here.",
                                     hint="Looking for your link? Run /link in Discord.", status=404)
        except web.HTTPMethodNotAllowed as exc:
            response = pages.problem("Page not found", "This page can't be used that way.",
                                     hint="Run /link in Discord to start again.", status=405)
            response.headers["Allow"] = exc.headers.get("Allow", "")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            # aiohttp's own refusals (a static folder's listing, a body over client_max_size):
            # our page and headers, never its bare text.
            response = pages.problem("Not linked", "This request can't be used here.",
                                     hint="Run /link in Discord to start again.", status=exc.status)
        except Exception:
            log.exception("unexpected error serving %s %s", request.method, request.path)
            response = pages.problem("Not linked", "Something went wrong on our side.",
                                     hint="Run /link in Discord to try again.", status=500)
        response.headers.update(pages.security_headers())
        return response

    app = web.Application(client_max_size=64 * 1024, middlewares=[every_answer])

    def malformed_link() -> web.Response:
        return pages.problem("Not linked", "That link is malformed.", hint="Run /link in Discord again.")

    def malformed(params: Mapping[str, str]) -> web.Response | None:
        if len(params) > MAX_PARAMS or any(len(v) > MAX_PARAM_LENGTH for v in params.values()):
            return malformed_link()
        return None

    async def confirmation_page(request: web.Request) -> web.Response:
        if (refusal := too_many(request)) is not None:
            return refusal
        query = request.rel_url.query
        if (refusal := malformed(query)) is not None:
            return refusal
        state = query.get("state", "")
        secret = binding.secret_of(request)
        try:
            pending = await linking.link_request(state)
        except LinkFailed as exc:
            if (account := await linking.finished_link(state, secret)) is not None:
                return linked_page(account)  # the /link button opened again, or Back, after linking
            return pages.problem("Not linked", str(exc))
        fresh = secret is None
        if secret is None:
            secret = binding.new_secret()
        response = pages.render(
            "confirm.html", title="Link your Spotify account", request=pending, state=state,
            csrf=binding.csrf_token(state, secret), discord_check=linking.checks_discord_identity,
        )
        if fresh:
            binding.give(response, secret)
        return response

    async def confirm(request: web.Request) -> web.StreamResponse:
        if (refusal := too_many(request)) is not None:
            return refusal
        try:
            form = await request.post()
        except ValueError:  # a body that is no form (a broken multipart, bytes that are no text)
            return malformed_link()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if (refusal := malformed(fields)) is not None:
            return refusal
        state, token = fields.get("state", ""), fields.get("csrf", "")
        secret = binding.secret_of(request)
        if secret is None:
            return pages.problem("Not linked", "This browser didn't keep genrebot's cookie.", hint=_COOKIES_NEEDED,
                                 status=403)
        if not state or not binding.csrf_ok(token, state, secret):
            return pages.problem(
                "Not linked", "This confirmation page has expired or came from somewhere else.",
                hint="Go back to Discord and open the /link button again.", status=403,
            )
        try:
            next_url = await linking.confirm_link(state, secret)
        except LinkFailed as exc:
            if (account := await linking.finished_link(state, secret)) is not None:
                return linked_page(account)  # Continue on the page Back showed as it was, after linking
            return pages.problem("Not linked", str(exc))
        return _see_other(next_url)

    async def discord_callback(request: web.Request) -> web.StreamResponse:
        if (refusal := too_many(request)) is not None:
            return refusal
        query = request.rel_url.query
        if (refusal := malformed(query)) is not None:
            return refusal
        try:
            next_url = await linking.verify_discord_account(
                state=query.get("state"), code=query.get("code"), error=query.get("error"),
                browser=binding.secret_of(request),
            )
        except LinkFailed as exc:
            _notify(on_result, LinkOutcome(exc.discord_id, None, exc))
            return pages.problem("Not linked", str(exc))
        return _see_other(next_url)

    async def callback(request: web.Request) -> web.Response:
        if (refusal := too_many(request)) is not None:
            return refusal
        query = request.rel_url.query
        if (refusal := malformed(query)) is not None:
            return refusal
        try:
            account = await linking.complete_link(
                state=query.get("state"), code=query.get("code"), error=query.get("error"),
                browser=binding.secret_of(request),
            )
        except LinkFailed as exc:
            _notify(on_result, LinkOutcome(exc.discord_id, None, exc))
            return pages.problem("Not linked", str(exc))
        if not account.again:  # a reload after linking: Discord was told already
            _notify(on_result, LinkOutcome(account.discord_id, account, None))
        return linked_page(account)

    def linked_page(account: LinkedAccount) -> web.Response:
        return pages.render("linked.html", title="Linked", tone="ok", account=account)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/link", confirmation_page)
    app.router.add_post("/link", confirm)
    app.router.add_get("/discord-callback", discord_callback)
    app.router.add_get("/callback", callback)
    app.router.add_get("/healthz", healthz)
    # The app's own few files by name: anything else is our 404 page (aiohttp's static route
    # answers a missing file with an empty 404 of no type, and its folder with a bare 403).
    static_files = {path.name: path for path in STATIC_DIR.iterdir() if path.is_file()}

    async def static(request: web.Request) -> web.FileResponse:
        path = static_files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    app.router.add_get("/static/{name}", static)
    return app


def _see_other(url: str) -> web.Response:
    return web.Response(status=303, headers={"Location": url, "Cache-Control": "no-store"})


def _notify(listener: LinkListener | None, outcome: LinkOutcome) -> None:
    if listener is None:
        return
    try:
        listener(outcome)
    except Exception:  # telling Discord is a courtesy; the link itself is done
        log.exception("could not confirm a link in Discord")
