"""Discord's OAuth2 authorisation-code grant, as a website signs a person in with Discord.

  GET  /oauth2/authorize      the consent screen of the browser's signed-in Discord user
  POST /oauth2/authorize      Authorize / Cancel: back to the redirect URI with `code` or
                              `error=access_denied` (and `state`)
  POST /api/v10/oauth2/token  (also /api/oauth2/token) code -> bearer token; form-encoded only
  GET  /api/v10/users/@me     with `Authorization: Bearer …`: the user the token belongs to

Rules Discord enforces, and the stand-in with it: the client id is the application's id and the
secret `oauth_client_secret` (Basic auth or form fields; otherwise 401 `invalid_client`); the
redirect URI must be one registered for the application (`oauth_redirect_uris`), compared
exactly, else Discord shows "Invalid OAuth2 redirect_uri" and redirects nowhere; unknown scopes
come back as `error=invalid_scope`; a code works once, for ten minutes, for the client and
redirect URI it was issued to (else 400 `invalid_grant`, `Invalid "code" in request.`); JSON token
requests are refused; `/users/@me` needs a live token with `identify` (else 401 0). `prompt=none`
skips the screen for a user who already authorised the same scopes.

Who the browser is signed in as: `login_url(user_id)` sets the stand-in's session cookie in the
browser that opens it (each test "browser" has its own cookie jar), as signing in on
discord.com would. A browser that is not signed in gets a page asking it to.
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from tests.discord_standin.base import StandInBase, json_response

OAUTH_SCOPES = frozenset({
    "activities.read", "activities.write", "applications.builds.read", "applications.builds.upload",
    "applications.commands", "applications.commands.update", "applications.entitlements",
    "applications.store.update", "bot", "connections", "email", "gdm.join", "guilds", "guilds.join",
    "guilds.members.read", "identify", "messages.read", "relationships.read", "role_connections.write",
    "rpc", "rpc.activities.write", "rpc.notifications.read", "rpc.voice.read", "rpc.voice.write",
    "voice", "webhook.incoming",
})
CODE_LIFETIME_S = 600
ACCESS_TOKEN_LIFETIME_S = 604_800
SESSION_COOKIE = "standin_discord_session"
_DENIED = "The resource owner or authorization server denied the request"


@dataclass
class IssuedCode:
    user_id: int
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class IssuedToken:
    user_id: int
    scope: str
    expires_at: float


class OAuth2Mixin(StandInBase):
    oauth_client_secret: str
    oauth_redirect_uris: set[str]
    oauth_codes: dict[str, IssuedCode]
    oauth_tokens: dict[str, IssuedToken]
    oauth_sessions: dict[str, int]  # session cookie -> signed-in user
    oauth_grants: set[tuple[int, str, str]]  # (user, client id, scope) already authorised
    port: int

    def register_oauth(self, app: web.Application) -> None:
        app.router.add_get("/oauth2/authorize", self._oauth_authorize)
        app.router.add_post("/oauth2/authorize", self._oauth_decide)
        app.router.add_get("/standin/login", self._oauth_login)
        app.router.add_post("/api/v10/oauth2/token", self._oauth_token)
        app.router.add_post("/api/oauth2/token", self._oauth_token)

    @property
    def web_base(self) -> str:
        """Where the website's pages are (https://discord.com on Discord)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def oauth_client_id(self) -> str:
        return str(self.application_id)

    def login_url(self, user_id: int) -> str:
        """Opening it signs that browser in to the stand-in's Discord as `user_id`."""
        return f"{self.web_base}/standin/login?user={user_id}"

    # --- the browser's side -----------------------------------------------------------------

    async def _oauth_login(self, request: web.Request) -> web.Response:
        try:
            user_id = int(request.rel_url.query.get("user", ""))
        except ValueError:
            return web.Response(status=400, text="user must be a Discord user id")
        session = secrets.token_urlsafe(16)
        self.oauth_sessions[session] = user_id
        response = web.Response(text=f"signed in as {user_id}")
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Lax", path="/")
        return response

    def _signed_in(self, request: web.Request) -> int | None:
        return self.oauth_sessions.get(request.cookies.get(SESSION_COOKIE, ""))

    def _authorize_problem(self, params: Mapping[str, str]) -> web.Response | None:
        """Discord's own error page: nothing goes back to an unregistered redirect URI."""
        if params.get("client_id") != self.oauth_client_id:
            return web.Response(status=400, text="Unknown Application", content_type="text/html")
        if params.get("redirect_uri", "") not in self.oauth_redirect_uris:
            return web.Response(status=400, text="Invalid OAuth2 redirect_uri", content_type="text/html")
        return None

    async def _oauth_authorize(self, request: web.Request) -> web.Response:
        params = request.rel_url.query
        if (problem := self._authorize_problem(params)) is not None:
            return problem
        if params.get("response_type") != "code":
            return _back(params, error="invalid_request", description="Missing response_type parameter")
        scope = params.get("scope", "")
        if not scope or set(scope.split()) - OAUTH_SCOPES:
            return _back(params, error="invalid_scope", description="The requested scope is invalid, unknown, or malformed.")
        user_id = self._signed_in(request)
        if user_id is None:
            return web.Response(status=401, text="<p>Log in to Discord to continue.</p>", content_type="text/html")
        if params.get("prompt") == "none" and (user_id, params["client_id"], scope) in self.oauth_grants:
            return _back(params, code=self._issue_code(user_id, params))
        user = self._user(user_id)
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items())
        page = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Discord stand-in: authorize</title>"
            f"<p>Signed in to Discord as <strong id=discord-user>{html.escape(user['global_name'] or '')}</strong> "
            f"(@{html.escape(user['username'])}).</p>"
            f"<h1>genrebot wants to access your account</h1><p>Scopes: {html.escape(scope)}</p>"
            f"<form method=post>{hidden}"
            "<button name=decision value=authorize>Authorize</button> "
            "<button name=decision value=cancel>Cancel</button></form></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def _oauth_decide(self, request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        if (problem := self._authorize_problem(params)) is not None:
            return problem
        user_id = self._signed_in(request)
        if user_id is None:
            return web.Response(status=401, text="<p>Log in to Discord to continue.</p>", content_type="text/html")
        if params.get("decision") != "authorize":
            return _back(params, error="access_denied", description=_DENIED)
        self.oauth_grants.add((user_id, params["client_id"], params.get("scope", "")))
        return _back(params, code=self._issue_code(user_id, params))

    def _issue_code(self, user_id: int, params: Mapping[str, str]) -> str:
        code = secrets.token_urlsafe(22)
        self.oauth_codes[code] = IssuedCode(user_id, params["client_id"], params["redirect_uri"],
                                            params.get("scope", ""), time.monotonic() + CODE_LIFETIME_S)
        return code

    # --- the application's side -------------------------------------------------------------

    async def _oauth_token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return json_response({"error": "invalid_request",
                                  "error_description": "Content-Type must be application/x-www-form-urlencoded"}, 400)
        form = {k: str(v) for k, v in (await request.post()).items()}
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, binascii.Error):
                return json_response({"error": "invalid_client"}, 401)
        if client_id != self.oauth_client_id or client_secret != self.oauth_client_secret:
            return json_response({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "authorization_code":
            return json_response({"error": "unsupported_grant_type"}, 400)
        issued = self.oauth_codes.get(form.get("code", ""))
        if issued is None or issued.used or issued.expires_at < time.monotonic() or issued.client_id != client_id:
            return json_response({"error": "invalid_grant", "error_description": 'Invalid "code" in request.'}, 400)
        if form.get("redirect_uri") != issued.redirect_uri:
            return json_response({"error": "invalid_grant", "error_description": 'Invalid "redirect_uri" in request.'}, 400)
        issued.used = True
        token = secrets.token_urlsafe(22)
        self.oauth_tokens[token] = IssuedToken(issued.user_id, issued.scope, time.monotonic() + ACCESS_TOKEN_LIFETIME_S)
        return json_response({"access_token": token, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_LIFETIME_S,
                              "refresh_token": secrets.token_urlsafe(22), "scope": issued.scope})

    def _bearer(self, method: str, path: str, authorization: str) -> web.Response:
        """The REST routes a user's bearer token may call; the stand-in serves /users/@me."""
        issued = self.oauth_tokens.get(authorization.removeprefix("Bearer "))
        if issued is None or issued.expires_at < time.monotonic():
            return json_response({"message": "401: Unauthorized", "code": 0}, 401)
        if path == "/users/@me" and method == "GET":
            if "identify" not in issued.scope.split():
                return json_response({"message": "401: Unauthorized", "code": 0}, 401)
            return json_response(self._user(issued.user_id))
        return json_response({"message": "404: Not Found", "code": 0}, 404)


def _back(params: Mapping[str, str], *, code: str | None = None, error: str | None = None,
          description: str | None = None) -> web.Response:
    """Redirect to the application's redirect URI with the answer (and the state it sent)."""
    query = {"code": code} if code else {"error": error or "", "error_description": description or ""}
    if "state" in params:
        query["state"] = params["state"]
    return web.Response(status=302, headers={"Location": f"{params['redirect_uri']}?{urlencode(query)}"})


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


async def sign_in_with_discord(session: aiohttp.ClientSession, authorize_url: str, *,
                               decision: str = "authorize") -> str:
    """A signed-in browser on the stand-in's authorize URL: press Authorize (or Cancel) if the
    screen shows; returns where Discord redirects the browser (the application's redirect URI)."""
    async with session.get(authorize_url, allow_redirects=False) as answer:
        if answer.status == 302:
            return answer.headers["Location"]
        if answer.status != 200:
            raise AssertionError(f"Discord's authorize page refused: HTTP {answer.status} {await answer.text()}")
        form = _Form()
        form.feed(await answer.text())
    target = authorize_url.split("?", 1)[0]
    async with session.post(target, data={**form.fields, "decision": decision}, allow_redirects=False) as answer:
        assert answer.status == 302, await answer.text()
        return answer.headers["Location"]
