"""How every page of the web app looks and what it promises the browser.

One layout (`templates/layout.html`) and one stylesheet (`static/genrebot.css`) for every page,
rendered by Jinja2 with autoescaping (names come from Discord and Spotify, queries from anyone).
Every answer carries the same security headers; pages carry a Content-Security-Policy they
satisfy themselves: no script at all, styles and the icon only from the app, forms only to the
app and to where the link flow goes next (Spotify's accounts site, and Discord's when the
operator turned the Discord check on). Chrome applies `form-action` to the redirects that follow
a form, which is why those origins are listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def content_security_policy(form_targets: Iterable[str]) -> str:
    targets = " ".join(["'self'", *form_targets])
    return (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
    )


@dataclass(frozen=True)
class Pages:
    """Renders the app's pages. `base` is the app's public path ("/" or "/prefix/"), so links
    work behind a reverse proxy that serves the bot under a prefix."""

    base: str
    csp: str

    def render(self, template: str, *, title: str, tone: str = "plain", status: int = 200,
               **context: Any) -> web.Response:
        body = _templates.get_template(template).render(title=title, tone=tone, base=self.base, **context)
        response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
        response.headers["Content-Security-Policy"] = self.csp
        response.headers["Cache-Control"] = "no-store"
        return response

    def problem(self, title: str, message: str, *, hint: str | None = None, status: int = 400) -> web.Response:
        return self.render("problem.html", title=title, tone="problem", status=status, message=message, hint=hint)

    def security_headers(self) -> Mapping[str, str]:
        """On every answer, pages, stylesheet and redirects alike."""
        return {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",  # the link's state is in the URL
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        }
