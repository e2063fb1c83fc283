"""Headless Chromium for tests: Playwright for Python driving Debian's /usr/bin/chromium (Playwright's own
browser download is never used), with every request recorded and none let out to another host.

    with chromium_browser() as browser, browser.session() as session:
        session.page.goto(url)
        ...
    assert session.elsewhere == []

Each session is a fresh browser context (no cookies, no storage); the browser itself runs with a fresh
profile directory that Playwright creates and removes. Requests to a host other than 127.0.0.1 are recorded
and aborted before they leave, and the flags below stop Chromium's own background traffic.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import Browser as PlaywrightBrowser
    from playwright.sync_api import ConsoleMessage, Page, Request, Route, WebSocket

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package chromium
LOCAL_HOSTS = frozenset({"127.0.0.1"})
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})  # never leave the browser
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    # Belt and braces: no host name resolves, so nothing the recorder cannot see gets out either.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        return f"{CHROMIUM} is missing: apt-get install chromium (Debian), as .ci/run does"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is missing: pip install -e '.[test]'"
    return None


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname in LOCAL_HOSTS


@dataclass
class Session:
    """One browser context and its page, with what they requested and what went wrong in them."""

    page: Page
    requests: list[str] = field(default_factory=list)  # every URL requested, in order
    elsewhere: list[str] = field(default_factory=list)  # those to another host (aborted)
    errors: list[str] = field(default_factory=list)  # uncaught page errors and console errors

    def screenshot(self, name: str) -> Path:
        """Save the whole page as test-artifacts/NAME.png (for people to look at) and return the path."""
        path = ARTIFACTS / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort("blockedbyclient")

    def _websocket(self, socket: WebSocket) -> None:
        self.requests.append(socket.url)
        if not is_local(socket.url):
            self.elsewhere.append(socket.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")


@dataclass
class Browser:
    browser: PlaywrightBrowser

    @contextmanager
    def session(self, javascript: bool = True, width: int = 1280, height: int = 900) -> Iterator[Session]:
        """A fresh context (JavaScript on or off) and a page in it; closed afterwards."""
        context = self.browser.new_context(
            java_script_enabled=javascript, viewport={"width": width, "height": height}
        )
        try:
            context.set_default_timeout(15_000)
            page = context.new_page()
            session = Session(page)
            context.on("request", session._request)
            context.route("**/*", session._route)
            page.on("websocket", session._websocket)
            page.on("pageerror", lambda error: session.errors.append(f"page error: {error}"))
            page.on("console", session._console)
            yield session
        finally:
            context.close()


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """Launch headless Chromium (see chromium_missing() first) and stop it afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=list(FLAGS))
        try:
            yield Browser(browser)
        finally:
            browser.close()
