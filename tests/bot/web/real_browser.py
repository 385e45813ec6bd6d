"""A real headless Chromium (Debian's `chromium` + `chromium-driver`) driven through Selenium, and
what the page tests ask of it: emulate a phone (360 px) or a desktop (1280 px), measure overflow,
tap targets, focus, labels and contrast in the rendered page, read the console, take screenshots.

Selenium is blocking; the app under test runs in the test's event loop, so every call to the
browser goes through `asyncio.to_thread` (`RealBrowser.run`).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling Google's services, which a closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-default-browser-check",
)


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool
    scale: float


NAVIGATION_TIMEOUT_S = 180  # generous for a loaded machine (60 s ran out once at load 7-9 on 2 cores); a page that never loads still fails

PHONE = Viewport("360px", 360, 740, mobile=True, scale=2)
DESKTOP = Viewport("1280px", 1280, 800, mobile=False, scale=1)
VIEWPORTS = (PHONE, DESKTOP)


def missing_browser() -> str | None:
    """Why the real-browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for binary in ("chromium", "chromedriver"):
        if shutil.which(binary) is None:
            return f"{binary} is not installed (apt-get install -y chromium chromium-driver)"
    return None


_MEASURE = """
const doc = document.documentElement;
const controls = [...document.querySelectorAll('button, a[href], input:not([type=hidden]), select, textarea')];
return {
  lang: doc.lang,
  innerWidth: window.innerWidth,
  scrollWidth: doc.scrollWidth,
  clientWidth: doc.clientWidth,
  bodyBackground: getComputedStyle(document.body).backgroundColor,
  controls: controls.map(e => {
    const r = e.getBoundingClientRect();
    return {tag: e.tagName.toLowerCase(), text: e.innerText.trim(), width: r.width, height: r.height};
  }),
};
"""

# For every element with its own text: its colour, the first opaque background behind it, and
# whether it counts as large text (WCAG: >= 24 px, or >= 18.66 px bold).
_TEXT_COLOURS = """
const out = [];
for (const e of document.body.querySelectorAll('*')) {
  const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const style = getComputedStyle(e);
  let back = 'rgba(0, 0, 0, 0)';
  for (let a = e; a; a = a.parentElement) {
    const b = getComputedStyle(a).backgroundColor;
    if (!/rgba\\(.*, 0\\)$/.test(b) && b !== 'transparent') { back = b; break; }
  }
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
  out.push({text: e.innerText.trim().slice(0, 40), color: style.color, background: back,
            large: size >= 24 || (bold && size >= 18.66)});
}
return out;
"""


# The document a click is leaving carries this mark; the next one does not.
_MARK_LEAVING = "window.__genrebotLeaving = true;"

# arguments[0]: whether the marked document must be gone. Chrome gives a stylesheet whose load
# failed (a 404, a refused connection) an empty `sheet`, so a stylesheet counts as arrived once it
# has rules (every stylesheet the tests load has some). Another origin's rules cannot be read:
# there a parsed sheet must do.
_SHEETS_ARRIVED = """
const arrived = link => {
  if (link.sheet === null) return false;
  try { return link.sheet.cssRules.length > 0; } catch (crossOrigin) { return true; }
};
"""

_PAGE_READY = _SHEETS_ARRIVED + """
if (arguments[0] && window.__genrebotLeaving) return false;
return document.readyState === 'complete'
  && [...document.querySelectorAll('link[rel=stylesheet]')].every(arrived);
"""

_STYLESHEETS = _SHEETS_ARRIVED + """
const timing = new Map(performance.getEntriesByType('resource').map(e => [e.name, e]));
return [...document.querySelectorAll('link[rel=stylesheet]')].map(link => {
  const t = timing.get(link.href);
  return {href: link.href, arrived: arrived(link),
          status: t ? t.responseStatus : 'no request recorded', bytes: t ? t.transferSize : null};
});
"""


def _channels(css: str) -> tuple[float, float, float]:
    inside = css[css.index("(") + 1 : css.index(")")]
    r, g, b = (float(v) for v in inside.split(",")[:3])
    return r, g, b


def _luminance(css: str) -> float:
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = _channels(css)
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two CSS rgb()/rgba() colours (opaque)."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


class RealBrowser:
    def __init__(self, navigation_timeout_s: float = NAVIGATION_TIMEOUT_S) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self._profile = tempfile.mkdtemp(prefix="genrebot-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "chromium"
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={self._profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        self.driver.set_page_load_timeout(navigation_timeout_s)
        self.navigation_timeout_s = navigation_timeout_s

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self._profile, ignore_errors=True)

    # --- blocking helpers (call through `run`) ------------------------------------------------

    def open(self, url: str) -> None:
        self.console()  # drop what earlier pages logged
        self.driver.get(url)
        self._wait_for_the_page(leaving=False)

    def _wait_for_the_page(self, leaving: bool) -> None:
        """Until the page a navigation leads to has loaded and every stylesheet it links has been
        parsed; with `leaving`, also until the document marked by `_MARK_LEAVING` has been replaced.

        Mid-navigation, chromedriver answers a script with one of several errors ('Node with
        given id does not belong to the document', 'no such execution context', ...), so they
        count as "not yet". A page that never gets there fails after the navigation timeout with
        what the browser knew of its stylesheets and console, never a bare timeout."""
        from selenium.common.exceptions import TimeoutException, WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait

        wait = WebDriverWait(self.driver, self.navigation_timeout_s, ignored_exceptions=(WebDriverException,))
        try:
            wait.until(lambda driver: driver.execute_script(_PAGE_READY, leaving))
        except TimeoutException:
            try:
                known = {"url": self.driver.current_url,
                         "stylesheets": self.driver.execute_script(_STYLESHEETS),
                         "console": self.console()}
            except WebDriverException as error:
                known = {"browser": str(error)}
            raise AssertionError(f"the page did not finish loading in {self.navigation_timeout_s} s: {known}") from None

    def emulate(self, viewport: Viewport, height: int | None = None) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": viewport.width, "height": height or viewport.height,
            "deviceScaleFactor": viewport.scale, "mobile": viewport.mobile,
        })

    def measure(self) -> dict[str, Any]:
        measured: dict[str, Any] = self.driver.execute_script(_MEASURE)
        return measured

    def text_colours(self) -> list[dict[str, Any]]:
        colours: list[dict[str, Any]] = self.driver.execute_script(_TEXT_COLOURS)
        return colours

    def console(self) -> list[dict[str, Any]]:
        """What the page logged since the last call (errors, CSP violations, failed loads)."""
        entries: list[dict[str, Any]] = self.driver.get_log("browser")
        return entries

    def focus_ring_of_first_control(self) -> dict[str, str]:
        """Press Tab as a keyboard user does until a control has focus; that control's outline."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        self.driver.execute_script("document.activeElement && document.activeElement.blur();")
        for _ in range(4):  # past the end of the page, Tab visits the browser's own UI first
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            if self.driver.execute_script("return document.activeElement.matches('button, a[href], input')"):
                break
        ring: dict[str, str] = self.driver.execute_script(
            "const e = document.activeElement; const s = getComputedStyle(e);"
            "return {tag: e.tagName.toLowerCase(), style: s.outlineStyle, width: s.outlineWidth,"
            " color: s.outlineColor, visible: e.matches(':focus-visible') ? 'yes' : 'no'};"
        )
        return ring

    def accessible_names(self) -> list[str]:
        from selenium.webdriver.common.by import By

        elements = self.driver.find_elements(By.CSS_SELECTOR, "button, a[href], input:not([type=hidden])")
        return [e.accessible_name for e in elements]

    def click_button(self, text: str) -> None:
        """Click the button and wait for the page it leads to (a click returns before the
        navigation it starts has finished)."""
        from selenium.webdriver.common.by import By

        for button in self.driver.find_elements(By.TAG_NAME, "button"):
            if button.text.strip() == text:
                self.console()
                self.driver.execute_script(_MARK_LEAVING)
                button.click()
                self._wait_for_the_page(leaving=True)
                return
        raise AssertionError(f"no button {text!r} on {self.driver.current_url}")

    def reload(self) -> None:
        """The browser's Reload, waiting for the page it loads again."""
        self._leave(self.driver.refresh)

    def back(self) -> None:
        """The browser's Back, waiting for the page it leads to. That page may come back from the
        back/forward cache still marked as left (when a click left it), so the address changing is
        what tells the navigation happened."""
        from selenium.webdriver.support.ui import WebDriverWait

        self.console()
        left = self.driver.current_url
        self.driver.back()
        WebDriverWait(self.driver, self.navigation_timeout_s).until(lambda driver: driver.current_url != left)
        self._wait_for_the_page(leaving=False)

    def _leave(self, navigate: Callable[[], None]) -> None:
        self.console()
        self.driver.execute_script(_MARK_LEAVING)
        navigate()
        self._wait_for_the_page(leaving=True)

    def screenshot(self, path: Path, viewport: Viewport) -> None:
        """The whole page at this viewport's width (taller than the screen if it must be)."""
        full = int(self.driver.execute_script(
            "document.activeElement && document.activeElement.blur();"  # no focus ring in the picture
            "return document.documentElement.scrollHeight"
        ))
        self.emulate(viewport, max(viewport.height, full))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.driver.get_screenshot_as_png())
        self.emulate(viewport)

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    def delete_cookies(self) -> None:
        self.driver.delete_all_cookies()
