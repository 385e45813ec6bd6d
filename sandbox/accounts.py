"""The accounts service: `/authorize` (the consent page) and `/api/token` (codes and refreshes).

Rules Spotify enforces and the sandbox with it: the redirect URI must be one registered for the
app, compared exactly; `show_dialog=true` always shows the consent page, otherwise a user who
already approved these scopes goes straight back (`SandboxState.auto_approve` plays a scripted
user who approves at once); unknown scopes are refused; a code works once, for ten minutes, with
the same redirect URI; refresh tokens expire six months after the approval and may be rotated
(`SandboxState.refresh_rotation`). Token errors are `{"error": ..., "error_description": ...}`.
The client-credentials grant (the app alone, no user: `grant_type=client_credentials` with the app's
Basic auth) answers an hour's access token with no refresh token and no scope. A client id Spotify
does not know is 400 invalid_client "Invalid client"; a known one with the wrong secret is 400
invalid_client "Invalid client secret" (the answer Spotify gives, novatorem/novatorem#42), for every
grant.
"""

from __future__ import annotations

import base64
import binascii
import html
from collections.abc import Mapping
from urllib.parse import urlencode

from aiohttp import web

from sandbox.state import SandboxState

# Every scope Spotify's authorisation server knows (the 2026 OpenAPI description's list).
KNOWN_SCOPES = frozenset({
    "app-remote-control", "playlist-read-private", "playlist-read-collaborative", "playlist-modify-public",
    "playlist-modify-private", "user-library-read", "user-library-modify", "user-read-private",
    "user-read-email", "user-follow-read", "user-follow-modify", "user-top-read",
    "user-read-playback-position", "user-read-playback-state", "user-read-recently-played",
    "user-read-currently-playing", "user-modify-playback-state", "ugc-image-upload", "streaming",
})


def token_error(status: int, error: str, description: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """The accounts service's error form, unlike the Web API's `{"error": {"status", "message"}}`."""
    return web.json_response({"error": error, "error_description": description}, status=status, headers=headers)


class AccountsService:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def register(self, app: web.Application) -> None:
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/authorize", self.decide)
        app.router.add_post("/api/token", self.token)

    # --- /authorize ---------------------------------------------------------------------------

    def _problem(self, params: Mapping[str, str]) -> str | None:
        """Why Spotify would show its error page instead of redirecting (nothing goes back to an
        unregistered redirect URI)."""
        if params.get("client_id", "") not in self.state.apps:
            return "INVALID_CLIENT: Invalid client"
        if params.get("redirect_uri", "") not in self.state.redirect_uris:
            return "INVALID_CLIENT: Invalid redirect URI"
        if params.get("response_type") != "code":
            return "unsupported_response_type: response_type must be code"
        return None

    async def authorize(self, request: web.Request) -> web.Response:
        params = request.rel_url.query
        problem = self._problem(params)
        if problem:
            return web.Response(status=400, text=problem)
        user_id = params.get("sandbox_user") or self.state.default_user or ""
        if user_id not in self.state.users:
            return web.Response(status=400, text=f"no such sandbox user: {user_id!r}")
        scope = params.get("scope", "")
        if set(scope.split()) - KNOWN_SCOPES:
            return self._redirect_back(params, user_id, approved=False, error="invalid_scope")
        if params.get("show_dialog", "").lower() != "true" and (
            self.state.auto_approve or self.state.tokens.has_approved(user_id, params["client_id"], scope)
        ):
            return self._redirect_back(params, user_id, approved=True)
        return self._consent_page(request, params, user_id)

    def _consent_page(self, request: web.Request, params: Mapping[str, str], user_id: str) -> web.Response:
        user = self.state.users[user_id]
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items() if k != "sandbox_user"
        )
        others = [u for u in self.state.users if u != user_id]
        switch = " ".join(
            f'<a href="{html.escape(str(request.rel_url.update_query(sandbox_user=u)))}">{html.escape(u)}</a>'
            for u in others
        )
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
        page = (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'><title>Spotify sandbox: consent</title>"
            f"<p>Logged in to the Spotify sandbox as <strong id=spotify-user>{html.escape(user.display_name)}</strong> "
            f"(user id <code>{html.escape(user.id)}</code>).</p>"
            + (f"<p>Not {html.escape(user.display_name)}? Log in as: {switch}</p>" if others else "")
            + f"<h1>Allow {html.escape(params['client_id'])} to access {html.escape(user.display_name)}'s Spotify account?</h1>"
            f"<ul>{scopes}</ul>"
            f"<form method=post>{hidden}<input type=hidden name=sandbox_user value='{html.escape(user_id)}'>"
            "<button name=decision value=approve>Agree</button> "
            "<button name=decision value=deny>Cancel</button></form></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def decide(self, request: web.Request) -> web.Response:
        form = await request.post()
        params = {k: str(v) for k, v in form.items()}
        problem = self._problem(params)
        if problem:
            return web.Response(status=400, text=problem)
        user_id = params.get("sandbox_user") or self.state.default_user or ""
        if user_id not in self.state.users:
            return web.Response(status=400, text=f"no such sandbox user: {user_id!r}")
        return self._redirect_back(params, user_id, approved=params.get("decision") == "approve")

    def _redirect_back(self, params: Mapping[str, str], user_id: str, *, approved: bool,
                       error: str = "access_denied") -> web.Response:
        redirect = params["redirect_uri"]
        query: dict[str, str] = {}
        if approved:
            query["code"] = self.state.tokens.issue_code(user_id, params["client_id"], params.get("scope", ""), redirect)
        else:
            query["error"] = error
        if params.get("state") is not None:
            query["state"] = params["state"]
        raise web.HTTPFound(f"{redirect}?{urlencode(query)}")

    # --- /api/token ---------------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id, client_secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, binascii.Error):
                return token_error(400, "invalid_client", "Invalid client")
        if not client_id or client_id not in self.state.apps:
            return token_error(400, "invalid_client", "Invalid client")
        if self.state.apps[client_id] != client_secret:
            return token_error(400, "invalid_client", "Invalid client secret")
        grant_type = form.get("grant_type")
        tokens = self.state.tokens
        if grant_type == "client_credentials":
            return web.json_response(tokens.app_token(client_id))
        if grant_type == "authorization_code":
            answer = tokens.exchange(str(form.get("code", "")), str(form.get("redirect_uri", "")), client_id)
        elif grant_type == "refresh_token":
            answer = tokens.refresh(str(form.get("refresh_token", "")), client_id)
        else:
            return token_error(400, "unsupported_grant_type",
                               "grant_type must be client_credentials, authorization_code or refresh_token")
        if isinstance(answer, str):
            return token_error(400, "invalid_grant", answer)
        return web.json_response(answer)
