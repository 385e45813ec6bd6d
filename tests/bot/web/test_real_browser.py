"""The real-browser helper itself: a page is measured only once it has loaded with its stylesheets,
and a page whose stylesheet never arrives fails with what the browser saw, not a bare timeout."""

from __future__ import annotations

import pytest
from aiohttp import web

from tests.bot.web.real_browser import RealBrowser, missing_browser

pytestmark = pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser()))

PAGE = """<!doctype html><html lang="en"><head><link rel="stylesheet" href="/{sheet}.css"></head>
<body><form method="post" action="/next"><button>Next</button></form></body></html>"""


async def serve_pages() -> tuple[web.AppRunner, str]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE.format(sheet=request.match_info["sheet"]), content_type="text/html")

    async def next_page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE.format(sheet="present"), content_type="text/html")

    async def present(request: web.Request) -> web.Response:
        return web.Response(text="body { background: rgb(1, 2, 3); }", content_type="text/css")

    app = web.Application()
    app.router.add_get("/page/{sheet}", page)
    app.router.add_post("/next", next_page)
    app.router.add_get("/present.css", present)  # /missing.css answers 404
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def test_a_page_and_the_page_a_click_leads_to_are_measured_with_their_stylesheet() -> None:
    runner, base = await serve_pages()
    browser = RealBrowser()
    try:
        await browser.run(browser.open, f"{base}/page/present")
        assert (await browser.run(browser.measure))["bodyBackground"] == "rgb(1, 2, 3)"
        await browser.run(browser.click_button, "Next")
        assert browser.url == f"{base}/next"
        assert (await browser.run(browser.measure))["bodyBackground"] == "rgb(1, 2, 3)"
    finally:
        await browser.run(browser.close)
        await runner.cleanup()


async def test_a_page_whose_stylesheet_fails_to_load_is_reported_with_the_failed_request() -> None:
    runner, base = await serve_pages()
    browser = RealBrowser(navigation_timeout_s=3)
    try:
        with pytest.raises(AssertionError) as failure:
            await browser.run(browser.open, f"{base}/page/missing")
        message = str(failure.value)
        assert "did not finish loading" in message
        assert f"'href': '{base}/missing.css'" in message
        assert "'arrived': False" in message and "'status': 404" in message
    finally:
        await browser.run(browser.close)
        await runner.cleanup()
