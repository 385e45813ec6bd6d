"""A member's browser, scripted: how the demo, the tests and the benchmarks link a member
through the very pages a person sees.

`walk_link_flow` opens the URL of the /link button (genrebot's confirmation page), presses its
button by submitting the page's own form (CSRF token included) with its own cookie jar, then
clicks Agree (or Cancel) on the Spotify sandbox's consent page and follows Spotify's redirect
to genrebot's result page. Each step is also available alone, for tests that stop half-way or
send the next URL to a different browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import aiohttp

from sandbox import browser as spotify_consent


@dataclass(frozen=True)
class PageSeen:
    url: str
    status: int
    text: str


class NoConfirmationForm(RuntimeError):
    """The link URL answered a page without genrebot's confirmation form (an error page)."""

    def __init__(self, page: PageSeen) -> None:
        self.page = page
        super().__init__(f"the link page has no confirmation form: HTTP {page.status}")


class _FirstForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action, self._inside = values.get("action", ""), True
        elif tag == "input" and self._inside and "name" in values:
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def browser_session() -> aiohttp.ClientSession:
    """A fresh browser with its own cookie jar (which, as browsers do, keeps cookies from 127.0.0.1)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_page(session: aiohttp.ClientSession, url: str) -> PageSeen:
    async with session.get(url) as response:
        return PageSeen(str(response.url), response.status, await response.text())


async def confirm(session: aiohttp.ClientSession, link_url: str) -> str | PageSeen:
    """Open the confirmation page and press its button. Returns where genrebot sends the browser
    next (Spotify's or Discord's authorize URL), or the page it showed instead."""
    page = await open_page(session, link_url)
    form = _FirstForm()
    form.feed(page.text)
    if form.action is None:
        raise NoConfirmationForm(page)
    async with session.post(urljoin(page.url, form.action), data=form.fields, allow_redirects=False) as answer:
        if answer.status == 303:
            return answer.headers["Location"]
        return PageSeen(str(answer.url), answer.status, await answer.text())


async def walk_link_flow(
    session: aiohttp.ClientSession, link_url: str, *, spotify_user: str | None = None, agree: bool = True
) -> PageSeen:
    """Confirmation page, the sandbox's consent page (as `spotify_user`), result page."""
    next_url = await confirm(session, link_url)
    if isinstance(next_url, PageSeen):
        return next_url
    return await on_spotify(session, next_url, spotify_user=spotify_user, agree=agree)


async def on_spotify(
    session: aiohttp.ClientSession, authorize_url: str, *, spotify_user: str | None = None, agree: bool = True
) -> PageSeen:
    """Click Agree (or Cancel) on the sandbox's consent page and land on genrebot's result page."""
    if spotify_user is not None:
        authorize_url += f"&sandbox_user={spotify_user}"
    decide = spotify_consent.approve if agree else spotify_consent.decline
    response = await decide(session, authorize_url)
    async with response:
        return PageSeen(str(response.url), response.status, await response.text())
