"""A scripted member's browser, for the demo and the tests: open the app's authorize URL, click
"Agree" (or "Cancel") when Spotify shows the consent page (always, with `show_dialog=true`), and
follow the redirect back to the app's callback. `approve_blocking` is the same click for
blocking code (spotipy-level tests), stopping at the redirect."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import aiohttp
import requests


class _ConsentForm(HTMLParser):
    """The consent page's form fields (hidden inputs), as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.found = True
        elif tag == "input" and values.get("type") == "hidden" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


async def approve(session: aiohttp.ClientSession, authorize_url: str, *, follow: bool = True) -> aiohttp.ClientResponse:
    """The answer the member's browser ends on: the app's callback page when `follow`, else the
    sandbox's redirect (its `Location` holds the code). Clicks Agree if the consent page shows."""
    return await _decide(session, authorize_url, "approve", follow)


async def decline(session: aiohttp.ClientSession, authorize_url: str, *, follow: bool = True) -> aiohttp.ClientResponse:
    """As `approve`, clicking Cancel: the app's callback gets `error=access_denied`."""
    return await _decide(session, authorize_url, "deny", follow)


async def _decide(session: aiohttp.ClientSession, authorize_url: str, decision: str, follow: bool) -> aiohttp.ClientResponse:
    response = await session.get(authorize_url, allow_redirects=False)
    if response.status == 200:
        form = _ConsentForm()
        form.feed(await response.text())
        if not form.found:
            raise RuntimeError("the authorize URL answered a page without a consent form")
        response = await session.post(urljoin(authorize_url, "/authorize"), data={**form.fields, "decision": decision},
                                      allow_redirects=False)
    if response.status != 302:
        raise RuntimeError(f"Spotify's sandbox refused the authorisation: HTTP {response.status} {await response.text()}")
    if not follow:
        return response
    return await session.get(response.headers["Location"])


def approve_blocking(authorize_url: str, *, timeout: float = 10) -> str:
    """As `approve` with follow=False, for blocking callers: the redirect URI with the code."""
    with requests.Session() as session:
        response = session.get(authorize_url, allow_redirects=False, timeout=timeout)
        if response.status_code == 200:
            form = _ConsentForm()
            form.feed(response.text)
            if not form.found:
                raise RuntimeError("the authorize URL answered a page without a consent form")
            response = session.post(urljoin(authorize_url, "/authorize"), data={**form.fields, "decision": "approve"},
                                    allow_redirects=False, timeout=timeout)
        if response.status_code != 302:
            raise RuntimeError(f"Spotify's sandbox refused the authorisation: HTTP {response.status_code} {response.text}")
        return response.headers["Location"]
