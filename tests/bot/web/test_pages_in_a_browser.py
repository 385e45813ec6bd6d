"""Every page of the web app in a real headless Chromium, at 360 px (a phone) and 1280 px: the
link flow against the Spotify sandbox (confirmation page -> sandbox consent page -> callback ->
result page) and the pages a member sees when something goes wrong.

On each of genrebot's pages, at both widths: `lang` set, the phone's viewport honoured, no
horizontal scrolling, every control at least 44 px each way with a name a screen reader
announces, text contrast at WCAG AA, a visible focus ring for a keyboard user, our stylesheet
applied (so the Content-Security-Policy let it in), and nothing in the browser's console (no
error, no CSP violation). Screenshots of every page at both widths go to a folder named by the
run: `$GENREBOT_SCREENSHOTS/link-pages-<time>/` when that is set, else pytest's temporary folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.services.linking import DiscordMember
from storage.records import LinkStatus
from tests.bot.conftest import World
from tests.bot.web.real_browser import VIEWPORTS, RealBrowser, contrast, missing_browser

pytestmark = pytest.mark.skipif(missing_browser() is not None, reason=str(missing_browser()))

MEMBER = 222
PAGE_BACKGROUND = "rgb(18, 18, 18)"  # --page in genrebot.css: proof the stylesheet was applied


@pytest.fixture(scope="module")
def browser() -> Iterator[RealBrowser]:
    chromium = RealBrowser()
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = f"link-pages-{datetime.now():%Y%m%d-%H%M%S}"
    base = os.environ.get("GENREBOT_SCREENSHOTS")
    folder = Path(base) / run if base else tmp_path_factory.mktemp(run, numbered=False)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {folder}")
    return folder


def problems_in(console: list[dict[str, Any]], page_url: str) -> list[str]:
    """Console errors and CSP violations (Chrome logs a violation as an error, 'Refused to …').

    Not problems of this page: its own status (Chrome logs a 4xx document as a failed load), and
    failed loads from other origins (the sandbox's page before it asks for its favicon late; this
    page's CSP would report any load of its own from elsewhere as a violation)."""
    origin = "/".join(page_url.split("/")[:3])
    return [
        e["message"] for e in console
        if (e["level"] == "SEVERE" or "Content Security Policy" in e["message"] or "Refused to" in e["message"])
        and not (e.get("source") == "network"
                 and (e["message"].startswith(page_url + " - ") or not e["message"].startswith(origin + "/")))
    ]


async def check_page(browser: RealBrowser, screenshots: Path, name: str) -> None:
    """genrebot's page as it is now, at both widths: readable, usable, quiet; one screenshot each."""
    page_url = browser.url
    assert not problems_in(await browser.run(browser.console), page_url), name
    for viewport in VIEWPORTS:
        await browser.run(browser.emulate, viewport)
        seen = await browser.run(browser.measure)
        where = f"{name} at {viewport.name}"
        assert seen["lang"] == "en", where
        # A phone lays a page out wider than its screen when the viewport meta is missing or the
        # content is too wide; then it zooms out or scrolls sideways.
        width = f"layout {seen['innerWidth']} px, content {seen['scrollWidth']} px"
        assert seen["innerWidth"] == viewport.width, f"{where}: wider than the screen ({width})"
        assert seen["scrollWidth"] <= seen["clientWidth"], f"{where}: scrolls sideways ({width})"
        assert seen["bodyBackground"] == PAGE_BACKGROUND, f"{where}: the stylesheet did not apply"
        for control in seen["controls"]:
            assert control["width"] >= 44 and control["height"] >= 44, f"{where}: small tap target {control}"
        assert all(label.strip() for label in await browser.run(browser.accessible_names)), f"{where}: unlabelled control"
        for text in await browser.run(browser.text_colours):
            needed = 3.0 if text["large"] else 4.5
            ratio = contrast(text["color"], text["background"])
            assert ratio >= needed, f"{where}: {text['text']!r} has contrast {ratio:.2f} < {needed}"
        if seen["controls"]:
            ring = await browser.run(browser.focus_ring_of_first_control)
            assert ring["visible"] == "yes" and ring["style"] != "none", f"{where}: no focus ring {ring}"
            assert float(ring["width"].removesuffix("px")) >= 2, f"{where}: thin focus ring {ring}"
            assert contrast(ring["color"], PAGE_BACKGROUND) >= 3, f"{where}: faint focus ring {ring}"
        await browser.run(browser.screenshot, screenshots / viewport.name / f"{name}.png", viewport)
    assert not problems_in(await browser.run(browser.console), page_url), name


async def screenshot_only(browser: RealBrowser, screenshots: Path, name: str) -> None:
    """Pages that are not genrebot's (the sandbox's consent page): pictures, no promises."""
    for viewport in VIEWPORTS:
        await browser.run(browser.emulate, viewport)
        await browser.run(browser.screenshot, screenshots / viewport.name / f"{name}.png", viewport)


async def test_the_link_flow_works_on_a_phone_and_a_desktop(world: World, browser: RealBrowser,
                                                            screenshots: Path) -> None:
    """Confirmation page -> the sandbox's consent page -> callback -> 'Linked', tapped on a phone."""
    url = await world.services.linking.start_link(DiscordMember(MEMBER, "Alex Rivera", "alexrivera"))
    await browser.run(browser.open, url)
    await check_page(browser, screenshots, "link-1-confirm")
    await browser.run(browser.click_button, "Continue to Spotify")
    assert browser.url.startswith(world.services.settings.spotify_accounts_base + "/authorize")
    await screenshot_only(browser, screenshots, "link-2-spotify-consent")
    await browser.run(browser.click_button, "Agree")
    assert browser.url.startswith(f"{world.web_base}/callback")
    await check_page(browser, screenshots, "link-3-linked")
    user = await world.services.linking.member(MEMBER)
    assert user is not None and user.status == LinkStatus.LINKED


async def test_reload_and_back_after_linking_say_the_account_is_linked(world: World, browser: RealBrowser,
                                                                      screenshots: Path) -> None:
    """After linking: Reload, then Back to Spotify's page and Agree again (a second code for the used
    state), then Back to the confirmation page (Chrome shows it as it was, though no-store) and
    Continue again: each ends on "already linked", none links again."""
    await browser.run(browser.open, await world.link_url(MEMBER))
    await browser.run(browser.click_button, "Continue to Spotify")
    await browser.run(browser.click_button, "Agree")
    linked = await world.services.db.users.get(MEMBER)
    await browser.run(browser.reload)
    await check_page(browser, screenshots, "linked-reloaded")
    assert "already linked" in browser.driver.page_source
    await browser.run(browser.back)
    assert browser.url.startswith(world.services.settings.spotify_accounts_base + "/authorize")
    await browser.run(browser.click_button, "Agree")
    assert "already linked" in browser.driver.page_source
    await browser.run(browser.back)
    await browser.run(browser.back)
    assert browser.url.startswith(f"{world.web_base}/link?state=")
    await browser.run(browser.click_button, "Continue to Spotify")
    await check_page(browser, screenshots, "linked-continued-again")
    assert "already linked" in browser.driver.page_source
    assert await world.services.db.users.get(MEMBER) == linked


async def test_a_declined_link_explains_itself(world: World, browser: RealBrowser, screenshots: Path) -> None:
    """Cancel on Spotify's page lands on genrebot's 'Not linked' page."""
    await browser.run(browser.open, await world.link_url(MEMBER))
    await browser.run(browser.click_button, "Continue to Spotify")
    await browser.run(browser.click_button, "Cancel")
    await check_page(browser, screenshots, "not-linked-declined")
    assert await world.services.linking.member(MEMBER) is None


async def test_a_link_finished_in_another_browser_explains_itself(world: World, browser: RealBrowser,
                                                                  screenshots: Path) -> None:
    """Spotify's answer reaching a browser without the confirming cookie gets a clear refusal."""
    await browser.run(browser.open, await world.link_url(MEMBER))
    await browser.run(browser.click_button, "Continue to Spotify")
    await browser.run(browser.delete_cookies)  # from here on, a different browser
    await browser.run(browser.click_button, "Agree")
    await check_page(browser, screenshots, "not-linked-other-browser")
    assert await world.services.linking.member(MEMBER) is None


async def test_the_confirmation_page_fits_the_longest_names(world: World, browser: RealBrowser,
                                                           screenshots: Path) -> None:
    """32-character names without a space (Discord's longest) wrap instead of widening the page."""
    member = DiscordMember(MEMBER, "Wolfeschlegelsteinhausenbergerdo", "wolfeschlegelsteinhausenbergerd_")
    await browser.run(browser.open, await world.services.linking.start_link(member))
    await check_page(browser, screenshots, "confirm-long-names")


async def test_error_pages_read_well(world: World, browser: RealBrowser, screenshots: Path) -> None:
    """An unknown link and an unknown address get genrebot's own pages."""
    await browser.run(browser.open, f"{world.web_base}/link?state=not-a-real-state")
    await check_page(browser, screenshots, "not-linked-invalid-link")
    await browser.run(browser.open, f"{world.web_base}/no/such/page")
    await check_page(browser, screenshots, "not-found")
