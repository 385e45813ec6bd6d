"""Every answer of the web app: one look, the page's language, security headers, a strict
Content-Security-Policy, our own page for a wrong address, and the stylesheet served locally."""

from __future__ import annotations

import re

from bot.member_browser import browser_session
from bot.services.linking import DiscordMember
from tests.bot.conftest import World

PAGES = ("/link?state=forged", "/callback?state=forged&code=x", "/nowhere/at/all")


async def test_every_page_uses_the_one_layout_in_english(world: World) -> None:
    """Confirmation, result and error pages share the layout, stylesheet and lang="en"."""
    async with browser_session() as browser:
        pages = [await (await browser.get(world.web_base + path)).text() for path in PAGES]
        pages.append(await (await browser.get(await world.link_url(222))).text())
    for page in pages:
        assert page.startswith('<!doctype html>\n<html lang="en">')
        assert '<link rel="stylesheet" href="/static/genrebot.css">' in page
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


async def test_pages_allow_no_script_and_only_local_styles(world: World) -> None:
    """The CSP forbids scripts and outside assets; forms may only lead to the app and Spotify."""
    async with browser_session() as browser, browser.get(await world.link_url(222)) as page:
        csp = page.headers["Content-Security-Policy"]
        text = await page.text()
    assert "default-src 'none'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    spotify = world.services.settings.spotify_accounts_base
    assert re.search(rf"form-action 'self' {re.escape(spotify)}(;|$)", csp)
    assert "<script" not in text and "style=" not in text and "<style" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text), "no asset from another origin"


async def test_every_answer_carries_the_security_headers(world: World) -> None:
    """Pages, the stylesheet and redirects: nosniff, no referrer, no framing; pages are never cached."""
    async with browser_session() as browser:
        for path in (*PAGES, "/static/genrebot.css"):
            async with browser.get(world.web_base + path) as answer:
                assert answer.headers["X-Content-Type-Options"] == "nosniff"
                assert answer.headers["Referrer-Policy"] == "no-referrer"
                assert answer.headers["X-Frame-Options"] == "DENY"
                if answer.content_type == "text/html":
                    assert answer.headers["Cache-Control"] == "no-store"


async def test_an_unknown_address_gets_genrebots_not_found_page(world: World) -> None:
    """404 with the app's own page (not aiohttp's text), pointing back to /link."""
    async with browser_session() as browser, browser.get(f"{world.web_base}/nowhere/at/all") as answer:
        assert answer.status == 404 and answer.content_type == "text/html"
        assert "Page not found" in await answer.text()


async def test_a_wrong_method_gets_genrebots_page(world: World) -> None:
    """A POST to the callback gets 405 with the app's page, naming the methods it takes (Allow, RFC 9110)."""
    async with browser_session() as browser, browser.post(f"{world.web_base}/callback") as answer:
        assert answer.status == 405 and "Run /link in Discord" in await answer.text()
        assert "GET" in answer.headers.get("Allow", "")


async def test_a_missing_static_file_gets_genrebots_not_found_page(world: World) -> None:
    """/static/ and a file that is not there: 404 with the app's page and headers, not an empty
    answer of no type (a browser showed a blank page) nor aiohttp's 403 listing refusal."""
    async with browser_session() as browser:
        for path in ("/static/missing.css", "/static/", "/static/../pages.py"):
            async with browser.get(world.web_base + path) as answer:
                assert (answer.status, answer.content_type) == (404, "text/html"), path
                assert "Page not found" in await answer.text() and answer.headers["X-Frame-Options"] == "DENY"


async def test_the_stylesheet_is_served_by_the_app(world: World) -> None:
    """/static/genrebot.css is CSS from the app itself."""
    async with browser_session() as browser, browser.get(f"{world.web_base}/static/genrebot.css") as answer:
        assert answer.status == 200 and answer.content_type == "text/css"
        assert ":focus-visible" in await answer.text()


async def test_names_from_discord_are_escaped(world: World) -> None:
    """A display name with markup is shown as text on the confirmation page."""
    url = await world.services.linking.start_link(DiscordMember(222, "<img src=x onerror=alert(1)>", "evil"))
    async with browser_session() as browser, browser.get(url) as page:
        text = await page.text()
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


async def test_healthz(world: World) -> None:
    """/healthz answers 200 with a status of ok."""
    async with browser_session() as browser, browser.get(f"{world.web_base}/healthz") as response:
        assert response.status == 200 and (await response.json()) == {"status": "ok"}


async def test_answers_aiohttp_refuses_itself_get_genrebots_page_and_headers(world: World) -> None:
    """A form body over the size limit (413) gets the app's page with the security headers, not
    aiohttp's bare text without them."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with browser_session() as browser:
        for method, path, body in (("POST", "/link", b"csrf=" + b"x" * 100_000),):
            async with browser.request(method, world.web_base + path, data=body, headers=form) as answer:
                assert answer.status == 413 and answer.content_type == "text/html", (path, answer.status)
                assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Cache-Control"] == "no-store"
                assert "Run /link in Discord" in await answer.text()


async def test_a_form_that_cannot_be_read_is_a_bad_request_not_our_error(world: World) -> None:
    """A confirmation POSTed as a broken multipart body is refused as malformed (400), not a 500."""
    broken = {"Content-Type": "multipart/form-data; boundary=zz"}
    async with browser_session() as browser, browser.post(f"{world.web_base}/link", data=b"\xff\xfe", headers=broken) as answer:
        assert answer.status == 400 and "malformed" in await answer.text()
