"""The cookie that ties a link to one browser, and the confirmation form's CSRF token.

The confirmation page gives the browser a random secret in a cookie (HttpOnly, SameSite=Lax,
Secure and `__Host-` when the app is served over https). Confirming binds the link's state to
that secret (storage keeps its hash); Spotify's callback, and Discord's, then only work in a
browser that holds it. So a link forwarded after it was confirmed, or a Spotify consent URL
taken from one browser and finished in another, links nothing.

The form's CSRF token is an HMAC of the state and the browser's secret under a key that lives
as long as the process: a page from before a restart asks to be reloaded instead of linking.
SameSite=Lax keeps the cookie on the top-level redirects back from Spotify and Discord.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from aiohttp import web

COOKIE_LIFETIME_S = 3600  # longer than a link lives (10 minutes), short enough to mean nothing later
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")


@dataclass(frozen=True)
class BrowserBinding:
    secure: bool
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @property
    def cookie_name(self) -> str:
        # `__Host-`: the browser refuses it unless Secure, Path=/ and no Domain, so no other site
        # or subdomain can plant it. Browsers only accept Secure cookies over https.
        return "__Host-genrebot-browser" if self.secure else "genrebot-browser"

    def secret_of(self, request: web.Request) -> str | None:
        """The browser's secret, if it sent a well-formed one."""
        value = request.cookies.get(self.cookie_name)
        return value if value and _SECRET_SHAPE.fullmatch(value) else None

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)

    def give(self, response: web.StreamResponse, secret: str) -> None:
        response.set_cookie(
            self.cookie_name, secret, max_age=COOKIE_LIFETIME_S, path="/",
            httponly=True, samesite="Lax", secure=self.secure,
        )

    def csrf_token(self, state: str, secret: str) -> str:
        message = f"link-confirmation\x00{state}\x00{secret}".encode("utf-8", "surrogatepass")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str, state: str, secret: str) -> bool:
        return hmac.compare_digest(token.encode("utf-8", "surrogatepass"), self.csrf_token(state, secret).encode())
